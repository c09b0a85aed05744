"""Meter readings that would poison or inflate a bill: registers no meter shows are refused
with PropertyConstraintViolation and reach nothing; a jump faster than the plug delivers is
flagged and not billed; readings for a transaction the station does not have stay off
every session."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from tests.factories import make_card, make_tariff, price_plugs
from tests.support.payloads import now_iso, sampled_value, transaction_event
from tests.support.raw_charger import RawCharger, RawCharger201
from voltspot.domain.meter import ENERGY_REGISTER as ENERGY
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, MeterSample, Station


def _forty_cents_a_kwh(db, station) -> None:
    """€0.40/kWh, nothing else."""
    price_plugs(db, station.charge_point_id, make_tariff(
        db, None, energy_price_per_kwh=4000, session_fee=0))


def _session(db, transaction_id) -> ChargingSession:
    with db.session() as session:
        return session.scalar(select(ChargingSession).where(
            ChargingSession.transaction_id == transaction_id))


def _sessions_of(db, station) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(ChargingSession.id)).join(Station).where(
            Station.charge_point_id == station.charge_point_id))


def _start(charger, tag, meter_start=1000) -> list:
    return charger.call("StartTransaction", {"connectorId": 1, "idTag": tag,
                                             "meterStart": meter_start, "timestamp": now_iso()})


def _meter(charger, transaction_id, *values) -> list:
    return charger.call("MeterValues", {
        "connectorId": 1, "transactionId": transaction_id,
        "meterValue": [{"timestamp": now_iso(), "sampledValue": [
            {"value": value, "measurand": ENERGY} for value in values]}]})


@pytest.mark.parametrize("meter_start", [-9223372036854775808, -1, 2**31])
def test_a_start_reading_no_meter_shows_is_refused_and_records_nothing(
        server, station, db, meter_start):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        answer = _start(charger, make_card(db), meter_start)
        assert answer[:3] == [4, answer[1], "PropertyConstraintViolation"]
        assert "currentTime" in charger.result("Heartbeat", {})
    assert _sessions_of(db, station) == 0


@pytest.mark.parametrize("register", ["-5", "1e15", "1e400", "3000000000"])
def test_meter_values_with_a_register_no_meter_shows_are_refused_and_stored_nowhere(
        server, station, db, register):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        transaction_id = _start(charger, make_card(db))[2]["transactionId"]
        refused = _meter(charger, transaction_id, register)
        stop = charger.call("StopTransaction", {"transactionId": transaction_id,
                                                "meterStop": 1500, "timestamp": now_iso()})
    assert refused[:3] == [4, refused[1], "PropertyConstraintViolation"]
    assert stop[0] == 3
    done = _session(db, transaction_id)
    assert (done.status, done.energy_wh) == (SessionStatus.COMPLETED, 500)
    with db.session() as session:
        assert session.scalar(select(func.count(MeterSample.id)).where(
            MeterSample.session_id == done.id)) == 0


def test_a_stop_reading_no_meter_shows_is_refused_and_the_session_stays_open(
        server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        transaction_id = _start(charger, make_card(db))[2]["transactionId"]
        answer = charger.call("StopTransaction", {"transactionId": transaction_id,
                                                  "meterStop": -1, "timestamp": now_iso()})
    assert answer[2] == "PropertyConstraintViolation"
    assert _session(db, transaction_id).stopped_at is None


def test_a_spike_is_flagged_and_not_billed_and_the_stop_reading_sets_the_energy(
        server, station, db):
    _forty_cents_a_kwh(db, station)
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        transaction_id = _start(charger, make_card(db), 1000)[2]["transactionId"]
        assert _meter(charger, transaction_id, "1500")[0] == 3
        assert _meter(charger, transaction_id, "5000000")[0] == 3
        assert _session(db, transaction_id).energy_wh == 500
        charger.result("StopTransaction", {"transactionId": transaction_id,
                                           "meterStop": 2000, "timestamp": now_iso()})
    done = _session(db, transaction_id)
    assert (done.energy_wh, done.cost) == (1000, 40)
    assert "more than the plug can deliver" in done.meter_anomaly


def test_a_2_0_1_spike_is_not_billed_and_ended_answers_the_real_total_cost(
        server, station, db):
    _forty_cents_a_kwh(db, station)
    tag = make_card(db)
    transaction_id = str(uuid.uuid4())
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.settle()

        def event(event_type, seq_no, trigger, wh, context="Sample.Periodic", **fields):
            return charger.call("TransactionEvent", transaction_event(
                event_type, transaction_id, seq_no, trigger,
                samples=[sampled_value(ENERGY, wh, "Wh", context=context)], **fields))

        event("Started", 0, "Authorized", 1000, "Transaction.Begin", id_token=tag,
              state="Charging")
        event("Updated", 1, "MeterValuePeriodic", 1500, state="Charging")
        event("Updated", 2, "MeterValuePeriodic", 5_000_000, state="Charging")
        ended = event("Ended", 3, "StopAuthorized", 2000, "Transaction.End",
                      stopped_reason="Local", state="EVConnected")
    assert ended[0] == 3 and ended[2]["totalCost"] == 0.40


def test_meter_values_for_a_transaction_the_station_does_not_have_touch_no_session(
        server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        transaction_id = _start(charger, make_card(db), 0)[2]["transactionId"]
        assert _meter(charger, 987654321, "49000")[0] == 3
        charger.result("StopTransaction", {"transactionId": transaction_id,
                                           "meterStop": 1000, "timestamp": now_iso()})
    assert _session(db, transaction_id).energy_wh == 1000
