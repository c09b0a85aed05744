"""OCPI vocabulary: EVSE statuses, connectors, countries, opening times, and tariffs as
TariffElements that price like Voltspot does."""

from __future__ import annotations

from datetime import time

import pytest

from voltspot.domain import ocpi
from voltspot.domain.pricing import PriceWindow, TariffTerms
from voltspot.domain.statuses import ConnectorStatus, ConnectorType, SessionStatus


def test_a_station_that_is_not_connected_is_unknown_whatever_it_last_said():
    assert ocpi.evse_status(ConnectorStatus.AVAILABLE, online=False) == "UNKNOWN"


@pytest.mark.parametrize(("status", "expected"), [
    (ConnectorStatus.AVAILABLE, "AVAILABLE"), (ConnectorStatus.SUSPENDED_EV, "CHARGING"),
    (ConnectorStatus.FINISHING, "BLOCKED"), (ConnectorStatus.FAULTED, "OUTOFORDER"),
    (ConnectorStatus.UNAVAILABLE, "INOPERATIVE"), (ConnectorStatus.RESERVED, "RESERVED")])
def test_plug_statuses_map_to_evse_statuses(status, expected):
    assert ocpi.evse_status(status, online=True) == expected


def test_a_ccs_plug_is_a_dc_cable_with_its_current_from_the_power():
    fields = ocpi.connector_fields(ConnectorType.CCS2, 150000)
    assert (fields["standard"], fields["format"], fields["power_type"]) == (
        "IEC_62196_T2_COMBO", "CABLE", "DC")
    assert fields["max_amperage"] == round(150000 / fields["max_voltage"])


def test_a_type_2_socket_at_22_kw_is_32_a_on_three_phases():
    assert ocpi.connector_fields(ConnectorType.TYPE2, 22000)["max_amperage"] == 32


def test_countries_are_written_in_three_letters():
    assert ocpi.alpha3("nl") == "NLD" and ocpi.alpha3("GB") == "GBR"
    with pytest.raises(ValueError):
        ocpi.alpha3("XX")


def test_opening_hours_read_as_ocpi_hours_or_unknown():
    assert ocpi.opening_times("24/7") == {"twentyfourseven": True}
    daily = ocpi.opening_times("7:00-22:30")
    assert daily["regular_hours"][0] == {"weekday": 1, "period_begin": "07:00",
                                         "period_end": "22:30"}
    assert len(daily["regular_hours"]) == 7
    assert ocpi.opening_times("ask at the desk") is None


def test_a_tariff_is_priced_excluding_vat_with_the_rate_beside_it():
    terms = TariffTerms(currency="EUR", vat_rate_basis_points=2100, energy_price_per_kwh=3900,
                        time_price_per_minute=500, session_fee=35)
    (element,) = ocpi.tariff_elements(terms)
    components = {c["type"]: c for c in element["price_components"]}
    assert components["ENERGY"] == {"type": "ENERGY", "price": 0.3223, "vat": 21.0,
                                    "step_size": 1}
    assert components["TIME"]["price"] == 2.4793  # €3.00 an hour including VAT
    assert components["FLAT"]["price"] == 0.2893


def test_connection_time_pricing_charges_parking_time_too():
    terms = TariffTerms(currency="EUR", vat_rate_basis_points=0, time_price_per_minute=100,
                        time_price_basis="connection")
    types = [c["type"] for c in ocpi.tariff_elements(terms)[0]["price_components"]]
    assert types == ["TIME", "PARKING_TIME"]


def test_price_windows_come_first_with_their_days_and_times():
    night = PriceWindow(days=frozenset({0, 1, 2, 3, 4}), start=time(22), end=time(6),
                        energy_price_per_kwh=2500, label="Night")
    terms = TariffTerms(currency="EUR", vat_rate_basis_points=0, energy_price_per_kwh=3900,
                        windows=(night,))
    first, base = ocpi.tariff_elements(terms)
    assert first["restrictions"] == {
        "day_of_week": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
        "start_time": "22:00", "end_time": "06:00"}
    assert first["price_components"][0]["price"] == 0.25
    assert "restrictions" not in base and base["price_components"][0]["price"] == 0.39


def test_a_free_tariff_is_one_flat_price_of_nothing():
    terms = TariffTerms(currency="EUR", vat_rate_basis_points=2100)
    assert ocpi.tariff_elements(terms) == [{"price_components": [
        {"type": "FLAT", "price": 0, "vat": 21.0, "step_size": 1}]}]


def test_the_description_says_what_ocpi_cannot():
    terms = TariffTerms(currency="EUR", vat_rate_basis_points=2100, idle_fee_per_minute=1000,
                        idle_grace_minutes=30, idle_fee_cap=1500)
    assert "after 30 min (max €15.00)" in ocpi.tariff_alt_text(terms)[0]["text"]


def test_session_states_map_to_ocpi_session_statuses():
    assert ocpi.session_status(SessionStatus.STARTING) == "PENDING"
    assert ocpi.session_status(SessionStatus.SUSPENDED) == "ACTIVE"
    assert ocpi.session_status(SessionStatus.FAILED) == "INVALID"
