"""Meter value normalisation and energy totals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from voltspot.domain.meter import MeterValueError, apply_register, normalise

AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_energy_in_kwh_is_stored_in_wh():
    sample = normalise(AT, "12.345", "Energy.Active.Import.Register", "kWh")
    assert (sample.value, sample.unit) == (12345.0, "Wh")


def test_power_in_kw_is_stored_in_w():
    assert normalise(AT, "7.4", "Power.Active.Import", "kW").value == 7400.0


def test_a_value_without_measurand_or_unit_is_the_energy_register_in_wh():
    sample = normalise(AT, "100")
    assert (sample.measurand, sample.unit, sample.is_total_energy_register) == (
        "Energy.Active.Import.Register", "Wh", True)


def test_soc_defaults_to_percent():
    assert normalise(AT, "55", "SoC").unit == "Percent"


def test_a_per_phase_register_is_not_the_total():
    sample = normalise(AT, "1", "Energy.Active.Import.Register", phase="L1")
    assert not sample.is_total_energy_register


@pytest.mark.parametrize("value", ["abc", "", "nan", "inf"])
def test_a_value_that_is_not_a_finite_number_is_refused(value):
    with pytest.raises(MeterValueError):
        normalise(AT, value)


def test_an_unknown_unit_is_refused():
    with pytest.raises(MeterValueError):
        normalise(AT, "1", "Power.Active.Import", "horsepower")


def test_signed_data_is_not_read_as_a_number():
    with pytest.raises(MeterValueError):
        normalise(AT, "AbC=", format="SignedData")


def test_energy_is_the_highest_register_minus_the_start():
    reading = apply_register(1000, 1500, 2500)
    assert (reading.energy_wh, reading.max_register_wh, reading.anomaly) == (1500, 2500, None)


def test_a_register_going_backwards_is_an_anomaly_and_keeps_the_total():
    reading = apply_register(1000, 2500, 2000)
    assert (reading.energy_wh, reading.max_register_wh) == (1500, 2500)
    assert "backwards" in reading.anomaly


def test_a_register_below_the_start_is_an_anomaly_and_counts_nothing():
    reading = apply_register(1000, None, 500)
    assert reading.energy_wh == 0
    assert "below the start" in reading.anomaly


def test_without_a_start_reading_the_first_register_is_the_start():
    assert apply_register(None, None, 800).energy_wh == 0
