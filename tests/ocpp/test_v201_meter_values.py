"""OCPP 2.0.1 meter values (J): MeterValues per EVSE and the meter values of transaction
events, stored in base units (Wh, W, A, V, %) whatever unit and multiplier the charger
used, and driving the session's live energy, power and state of charge."""

from __future__ import annotations

import uuid

import pytest
from ocpp.v201 import call
from sqlalchemy import select

from tests.factories import make_card
from tests.support.library_charger import LibraryCharger201
from tests.support.payloads import now_iso, sampled_value, transaction_event
from tests.support.raw_charger import RawCharger201
from voltspot.models import ChargingSession, MeterSample, Station


def _charger(server, station) -> RawCharger201:
    return RawCharger201(server.ws_url, station.charge_point_id, station.password)


def _meter_values(charger, *samples, evse_id=1) -> dict:
    return charger.result("MeterValues", {"evseId": evse_id, "meterValue": [
        {"timestamp": now_iso(), "sampledValue": list(samples)}]})


def _samples(db, station) -> list[MeterSample]:
    with db.session() as session:
        return list(session.scalars(select(MeterSample).join(
            Station, MeterSample.station_id == Station.id).where(
            Station.charge_point_id == station.charge_point_id).order_by(MeterSample.id)))


def _session(db, transaction_id) -> ChargingSession:
    with db.session() as session:
        return session.scalar(select(ChargingSession).where(
            ChargingSession.charger_transaction_id == transaction_id))


def _running(server, station, db, charger, begin_wh=1000) -> str:
    id_tag = make_card(db, f"J{uuid.uuid4().hex[:10]}")
    transaction_id = str(uuid.uuid4())
    charger.result("TransactionEvent", transaction_event(
        "Started", transaction_id, 0, "Authorized", id_token=id_tag, state="Charging",
        samples=[sampled_value("Energy.Active.Import.Register", begin_wh, "Wh",
                               context="Transaction.Begin")]))
    return transaction_id


@pytest.mark.parametrize(("sample", "stored"), [
    (sampled_value("Energy.Active.Import.Register", 12.5, "kWh"), ("Wh", 12500)),
    (sampled_value("Energy.Active.Import.Register", 12.5, "Wh", multiplier=3), ("Wh", 12500)),
    (sampled_value("Energy.Active.Import.Register", 0.0125, "kWh", multiplier=3),
     ("Wh", 12500)),
    (sampled_value("Energy.Active.Import.Register", 12500), ("Wh", 12500)),
    (sampled_value("Power.Active.Import", 7.4, "kW"), ("W", 7400)),
    (sampled_value("Power.Active.Import", 74, "W", multiplier=2), ("W", 7400)),
    (sampled_value("Voltage", 2301, "V", multiplier=-1), ("V", 230.1)),
    (sampled_value("SoC", 57, "Percent"), ("Percent", 57)),
], ids=["kWh", "Wh-multiplier-3", "kWh-multiplier-3", "no-unit", "kW", "W-multiplier-2",
        "V-multiplier-minus-1", "SoC"])
def test_a_sampled_value_is_stored_in_base_units(server, station, db, sample, stored):
    with _charger(server, station) as charger:
        assert _meter_values(charger, sample) == {}
    [kept] = _samples(db, station)
    assert (kept.measurand, kept.unit) == (sample["measurand"], stored[0])
    assert kept.value == pytest.approx(stored[1])


def test_meter_values_keep_their_evse_context_and_phase(server, station, db):
    with _charger(server, station) as charger:
        _meter_values(charger, sampled_value("Current.Import", 16, "A", phase="L2",
                                             context="Sample.Clock"), evse_id=2)
    [kept] = _samples(db, station)
    assert (kept.connector_id, kept.phase, kept.context, kept.session_id) == (
        2, "L2", "Sample.Clock", None)


def test_meter_values_of_the_whole_station_are_kept_on_evse_zero(server, station, db):
    with _charger(server, station) as charger:
        _meter_values(charger, sampled_value("Energy.Active.Import.Register", 88, "kWh"),
                      evse_id=0)
    [kept] = _samples(db, station)
    assert (kept.connector_id, kept.value, kept.session_id) == (0, 88000, None)


def test_an_unreadable_sampled_value_is_skipped_and_the_rest_kept(server, station, db):
    with _charger(server, station) as charger:
        assert _meter_values(charger, sampled_value("Energy.Active.Import.Register", 5, "furlong"),
                             sampled_value("Power.Active.Import", 3000, "W")) == {}
    assert [(s.measurand, s.value) for s in _samples(db, station)] == [
        ("Power.Active.Import", 3000)]


def test_meter_values_during_a_transaction_update_its_session(server, station, db):
    with _charger(server, station) as charger:
        transaction_id = _running(server, station, db, charger, begin_wh=1000)
        _meter_values(charger, sampled_value("Energy.Active.Import.Register", 3.5, "kWh"),
                      sampled_value("Power.Active.Import", 11, "kW"))
    recorded = _session(db, transaction_id)
    assert (recorded.energy_wh, recorded.power_w) == (2500, 11000)
    assert {s.session_id for s in _samples(db, station)} == {recorded.id}


def test_transaction_event_meter_values_update_energy_power_and_state_of_charge(server,
                                                                               station, db):
    with _charger(server, station) as charger:
        transaction_id = _running(server, station, db, charger, begin_wh=1000)
        charger.result("TransactionEvent", transaction_event(
            "Updated", transaction_id, 1, "MeterValuePeriodic", state="Charging", samples=[
                sampled_value("Energy.Active.Import.Register", 6, "Wh", multiplier=3),
                sampled_value("Power.Active.Import", 7.2, "kW"),
                sampled_value("SoC", 63, "Percent")]))
    recorded = _session(db, transaction_id)
    assert (recorded.energy_wh, recorded.power_w, recorded.soc_percent) == (5000, 7200, 63)


def test_signed_meter_values_keep_their_readable_value(server, station, db):
    signed = sampled_value("Energy.Active.Import.Register", 4.2, "kWh")
    signed["signedMeterValue"] = {"signedMeterData": "AAECAw==", "signingMethod": "ECDSA",
                                  "encodingMethod": "OCMF", "publicKey": "cHVibGlj"}
    with _charger(server, station) as charger:
        assert _meter_values(charger, signed) == {}
    assert [s.value for s in _samples(db, station)] == [4200]


def test_meter_values_from_the_library_client_are_stored(server, station, db):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.send(call.MeterValues(evse_id=1, meter_value=[{
            "timestamp": now_iso(), "sampled_value": [
                {"value": 1.25, "measurand": "Energy.Active.Import.Register",
                 "unit_of_measure": {"unit": "kWh"}},
                {"value": 16.0, "measurand": "Current.Import", "phase": "L1",
                 "unit_of_measure": {"unit": "A"}}]}]))
    assert [(s.measurand, s.value, s.phase) for s in _samples(db, station)] == [
        ("Energy.Active.Import.Register", 1250, None), ("Current.Import", 16, "L1")]
