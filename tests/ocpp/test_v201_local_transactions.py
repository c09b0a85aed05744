"""OCPP 2.0.1 transactions a charger starts itself, against a live server: E03 cable
first, E09 start at EVConnected, E10 start at Authorized, TxStartPoint=PowerPathClosed,
E38 pauses, ends with and without a reason, events whose Started was lost, and offline
events arriving after a reconnect (see test_v201_transactions.py for authorisation first,
replays on one connection and the plug status)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from ocpp.v201 import call
from sqlalchemy import func, select

from tests.factories import make_card, make_tariff, price_plugs
from tests.support.library_charger import LibraryCharger201
from tests.support.payloads import now_iso, sampled_value, transaction_event
from tests.support.raw_charger import RawCharger201
from voltspot.domain.statuses import ConnectorStatus, SessionStatus
from voltspot.models import ChargingSession, Connector, MeterSample, Station


def _charger(server, station) -> RawCharger201:
    return RawCharger201(server.ws_url, station.charge_point_id, station.password)


def _card(db) -> str:
    return make_card(db)


def _energy(wh, context="Sample.Periodic") -> dict:
    return sampled_value("Energy.Active.Import.Register", wh, "Wh", context=context)


def _send(charger, *args, **kwargs) -> dict:
    return charger.result("TransactionEvent", transaction_event(*args, **kwargs))


def _session(db, transaction_id) -> ChargingSession | None:
    with db.session() as session:
        return session.scalar(select(ChargingSession).where(
            ChargingSession.charger_transaction_id == transaction_id))


def _sessions_at(db, station) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(ChargingSession.id)).join(Station).where(
            Station.charge_point_id == station.charge_point_id))


def _plug(db, station, connector_id=1) -> ConnectorStatus:
    with db.session() as session:
        return session.scalar(select(Connector.status).join(Station).where(
            Station.charge_point_id == station.charge_point_id,
            Connector.connector_id == connector_id))


def _occupied(charger) -> None:
    charger.result("StatusNotification", {"timestamp": now_iso(), "connectorStatus": "Occupied",
                                          "evseId": 1, "connectorId": 1})


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def test_cable_first_then_authorisation_records_one_session_from_the_authorised_start(
        server, station, db):
    id_tag = _card(db)
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        charger.boot()
        _occupied(charger)
        assert (_plug(db, station), _sessions_at(db, station)) == (ConnectorStatus.PREPARING, 0)
        assert charger.result("Authorize", {"idToken": {"idToken": id_tag, "type": "ISO14443"}}
                              )["idTokenInfo"]["status"] == "Accepted"
        started = _send(charger, "Started", transaction_id, 0, "Authorized", id_token=id_tag,
                        state="EVConnected", samples=[_energy(2000, "Transaction.Begin")])
        _send(charger, "Updated", transaction_id, 1, "ChargingStateChanged", state="Charging",
              samples=[_energy(5000)])
        _send(charger, "Ended", transaction_id, 2, "StopAuthorized", id_token=id_tag,
              stopped_reason="Local", state="EVConnected",
              samples=[_energy(6000, "Transaction.End")])
    assert started["idTokenInfo"]["status"] == "Accepted"
    recorded = _session(db, transaction_id)
    assert (recorded.id_tag, recorded.status, recorded.energy_wh, recorded.stop_reason) == (
        id_tag, SessionStatus.COMPLETED, 4000, "Local")
    assert _sessions_at(db, station) == 1


def test_a_transaction_started_at_plug_in_waits_for_an_id_token(server, station, db):
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        answer = _send(charger, "Started", transaction_id, 0, "CablePluggedIn",
                       state="EVConnected", samples=[_energy(1000, "Transaction.Begin")])
    assert "idTokenInfo" not in answer
    waiting = _session(db, transaction_id)
    assert (waiting.status, waiting.id_tag, waiting.transaction_id is not None) == (
        SessionStatus.STARTING, None, True)
    assert _plug(db, station) == ConnectorStatus.PREPARING


def test_an_authorized_update_starts_billing_from_that_moment(server, station, db):
    id_tag = _card(db)
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        _send(charger, "Started", transaction_id, 0, "CablePluggedIn", state="EVConnected",
              samples=[_energy(1000, "Transaction.Begin")])
        _send(charger, "Updated", transaction_id, 1, "MeterValuePeriodic", state="EVConnected",
              samples=[_energy(1500)])
        authorised = _send(charger, "Updated", transaction_id, 2, "Authorized", id_token=id_tag)
        assert _session(db, transaction_id).status == SessionStatus.CHARGING
        _send(charger, "Updated", transaction_id, 3, "ChargingStateChanged", state="Charging",
              samples=[_energy(4500)])
        _send(charger, "Ended", transaction_id, 4, "EVCommunicationLost",
              stopped_reason="EVDisconnected", samples=[_energy(5000, "Transaction.End")])
    assert authorised["idTokenInfo"]["status"] == "Accepted"
    recorded = _session(db, transaction_id)
    assert (recorded.id_tag, recorded.meter_start_wh, recorded.energy_wh, recorded.status) == (
        id_tag, 1500, 3500, SessionStatus.COMPLETED)


def test_a_transaction_started_at_authorisation_before_the_cable_follows_the_car(server,
                                                                                 station, db):
    id_tag = _card(db)
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        _send(charger, "Started", transaction_id, 0, "Authorized", id_token=id_tag,
              samples=[_energy(500, "Transaction.Begin")])
        _send(charger, "Updated", transaction_id, 1, "CablePluggedIn", state="EVConnected")
        plugged = _plug(db, station)
        _send(charger, "Updated", transaction_id, 2, "ChargingStateChanged", state="Charging",
              samples=[_energy(2500)])
        charging = _plug(db, station)
    assert (plugged, charging) == (ConnectorStatus.PREPARING, ConnectorStatus.CHARGING)
    recorded = _session(db, transaction_id)
    assert (recorded.id_tag, recorded.status, recorded.energy_wh) == (
        id_tag, SessionStatus.CHARGING, 2000)


def test_with_power_path_closed_plug_and_authorisation_alone_record_no_session(server,
                                                                               station, db):
    id_tag = _card(db)
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        _occupied(charger)
        charger.result("Authorize", {"idToken": {"idToken": id_tag, "type": "ISO14443"}})
        before = _sessions_at(db, station)
        started = _send(charger, "Started", transaction_id, 0, "ChargingStateChanged",
                        id_token=id_tag, state="Charging",
                        samples=[_energy(0, "Transaction.Begin")])
    assert before == 0
    assert started["idTokenInfo"]["status"] == "Accepted"
    assert _session(db, transaction_id).status == SessionStatus.CHARGING
    assert _plug(db, station) == ConnectorStatus.CHARGING


def test_a_car_that_pauses_and_resumes_is_suspended_then_charging_again(server, station, db):
    id_tag = _card(db)
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        _send(charger, "Started", transaction_id, 0, "Authorized", id_token=id_tag,
              state="Charging", samples=[_energy(0, "Transaction.Begin")])
        _send(charger, "Updated", transaction_id, 1, "ChargingStateChanged",
              state="SuspendedEV")
        paused = _session(db, transaction_id)
        _send(charger, "Updated", transaction_id, 2, "ChargingStateChanged", state="Charging")
        resumed = _session(db, transaction_id)
    assert (paused.status, paused.charging_ended_at is not None) == (SessionStatus.SUSPENDED,
                                                                     True)
    assert (resumed.status, resumed.charging_ended_at) == (SessionStatus.CHARGING, None)
    assert _plug(db, station) == ConnectorStatus.CHARGING


def test_a_station_side_pause_shows_the_plug_paused_by_the_station(server, station, db):
    id_tag = _card(db)
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        _send(charger, "Started", transaction_id, 0, "Authorized", id_token=id_tag,
              state="Charging")
        _send(charger, "Updated", transaction_id, 1, "ChargingStateChanged",
              state="SuspendedEVSE")
    assert _plug(db, station) == ConnectorStatus.SUSPENDED_EVSE
    assert _session(db, transaction_id).status == SessionStatus.SUSPENDED


def test_an_ended_event_without_a_stopped_reason_is_a_local_stop(server, station, db):
    id_tag = _card(db)
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        _send(charger, "Started", transaction_id, 0, "Authorized", id_token=id_tag,
              state="Charging", samples=[_energy(100, "Transaction.Begin")])
        ended = charger.call("TransactionEvent", transaction_event(
            "Ended", transaction_id, 1, "StopAuthorized",
            samples=[_energy(900, "Transaction.End")]))
    assert ended[0] == 3
    recorded = _session(db, transaction_id)
    assert (recorded.status, recorded.stop_reason, recorded.energy_wh) == (
        SessionStatus.COMPLETED, "Local", 800)


def test_an_ended_event_answers_the_total_cost_of_a_priced_session(server, station, db):
    _priced(db, station)
    id_tag = _card(db)
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        started = _send(charger, "Started", transaction_id, 0, "Authorized", id_token=id_tag,
                        state="Charging", samples=[_energy(1000, "Transaction.Begin")])
        ended = _send(charger, "Ended", transaction_id, 1, "EVCommunicationLost",
                      stopped_reason="EVDisconnected",
                      samples=[_energy(11000, "Transaction.End")])
    assert "totalCost" not in started
    assert ended["totalCost"] == 4.0
    assert _session(db, transaction_id).cost == 400


def test_an_updated_event_whose_started_was_lost_opens_the_session_and_ended_closes_it(
        server, station, db):
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        updated = charger.call("TransactionEvent", transaction_event(
            "Updated", transaction_id, 3, "MeterValuePeriodic", state="Charging",
            samples=[_energy(3000)]))
        opened = _session(db, transaction_id)
        ended = charger.call("TransactionEvent", transaction_event(
            "Ended", transaction_id, 4, "EVCommunicationLost", stopped_reason="EVDisconnected",
            samples=[_energy(4200, "Transaction.End")]))
    assert (updated[0], ended[0]) == (3, 3)
    assert opened is not None and opened.stopped_at is None
    closed = _session(db, transaction_id)
    assert (closed.status, closed.energy_wh, closed.stop_reason) == (
        SessionStatus.COMPLETED, 1200, "EVDisconnected")


def test_an_ended_event_whose_started_was_lost_is_recorded_closed(server, station, db):
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        ended = charger.call("TransactionEvent", transaction_event(
            "Ended", transaction_id, 7, "EVCommunicationLost", stopped_reason="EVDisconnected",
            samples=[_energy(9000, "Transaction.End")]))
    assert ended[0] == 3
    recorded = _session(db, transaction_id)
    assert (recorded.status, recorded.stop_reason) == (SessionStatus.COMPLETED,
                                                       "EVDisconnected")


def _offline_transaction(server, station, transaction_id, id_tag, start) -> list[dict]:
    """Start a transaction online at ``start``; return the events of the rest of it, which
    the charger queued while offline."""
    with _charger(server, station) as charger:
        charger.boot()
        _send(charger, "Started", transaction_id, 0, "Authorized", id_token=id_tag,
              state="Charging", timestamp=_iso(start),
              samples=[_energy(0, "Transaction.Begin")])
    return [
        transaction_event("Updated", transaction_id, 1, "MeterValuePeriodic", offline=True,
                          state="Charging", timestamp=_iso(start + timedelta(minutes=10)),
                          samples=[_energy(2000)]),
        transaction_event("Updated", transaction_id, 2, "MeterValuePeriodic", offline=True,
                          state="Charging", timestamp=_iso(start + timedelta(minutes=20)),
                          samples=[_energy(4000)]),
        transaction_event("Ended", transaction_id, 3, "EVCommunicationLost", offline=True,
                          stopped_reason="EVDisconnected",
                          timestamp=_iso(start + timedelta(minutes=25)),
                          samples=[_energy(5000, "Transaction.End")]),
    ]


def _periodic_samples(db, transaction_id) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(MeterSample.id)).join(
            ChargingSession, MeterSample.session_id == ChargingSession.id).where(
            ChargingSession.charger_transaction_id == transaction_id,
            MeterSample.context == "Sample.Periodic"))


def test_offline_events_arriving_after_a_reconnect_are_applied_at_their_own_times(
        server, station, db):
    id_tag = _card(db)
    transaction_id = str(uuid.uuid4())
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    queued = _offline_transaction(server, station, transaction_id, id_tag, start)
    with _charger(server, station) as charger:
        answers = [charger.call("TransactionEvent", event) for event in queued]
    assert [answer[0] for answer in answers] == [3, 3, 3]
    recorded = _session(db, transaction_id)
    assert (recorded.status, recorded.energy_wh, recorded.stop_reason) == (
        SessionStatus.COMPLETED, 5000, "EVDisconnected")
    assert _utc(recorded.stopped_at) == start + timedelta(minutes=25)
    assert _utc(recorded.last_sample_at) == start + timedelta(minutes=25)
    assert _periodic_samples(db, transaction_id) == 2


def test_events_replayed_after_a_reconnect_with_the_same_seq_no_are_counted_once(
        server, station, db):
    id_tag = _card(db)
    transaction_id = str(uuid.uuid4())
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    queued = _offline_transaction(server, station, transaction_id, id_tag, start)
    with _charger(server, station) as charger:
        for event in queued[:2]:
            charger.result("TransactionEvent", event)
    # The connection dropped before the charger saw the answers: it sends them all again.
    with _charger(server, station) as charger:
        charger.boot()
        answers = [charger.call("TransactionEvent", event) for event in queued]
    assert [answer[0] for answer in answers] == [3, 3, 3]
    assert _periodic_samples(db, transaction_id) == 2
    recorded = _session(db, transaction_id)
    assert (recorded.energy_wh, recorded.status) == (5000, SessionStatus.COMPLETED)


def test_a_local_transaction_from_the_library_client_is_recorded_and_answered(server, station,
                                                                              db):
    id_tag = _card(db)
    transaction_id = str(uuid.uuid4())

    def event(event_type, seq_no, trigger, wh, context, **extra):
        return call.TransactionEvent(
            event_type=event_type, timestamp=now_iso(), trigger_reason=trigger, seq_no=seq_no,
            transaction_info={"transaction_id": transaction_id, **extra.pop("info", {})},
            evse={"id": 1, "connector_id": 1},
            meter_value=[{"timestamp": now_iso(), "sampled_value": [
                {"value": wh, "context": context,
                 "measurand": "Energy.Active.Import.Register",
                 "unit_of_measure": {"unit": "kWh"}}]}], **extra)

    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        started = charger.send(event("Started", 0, "Authorized", 1.5, "Transaction.Begin",
                                     id_token={"id_token": id_tag, "type": "ISO14443"},
                                     info={"charging_state": "Charging"}))
        charger.send(event("Updated", 1, "MeterValuePeriodic", 4.0, "Sample.Periodic"))
        ended = charger.send(event("Ended", 2, "StopAuthorized", 5.25, "Transaction.End",
                                   info={"stopped_reason": "Local"}))
    assert started.id_token_info["status"] == "Accepted"
    assert ended.total_cost == 0, "the plug has no price: nobody pays for this session"
    recorded = _session(db, transaction_id)
    assert (recorded.status, recorded.energy_wh, recorded.id_tag) == (
        SessionStatus.COMPLETED, 3750, id_tag)


def test_a_card_tapped_before_choosing_an_evse_leaves_the_other_evses_transaction_running(
        server, station, db):
    # TxStartPoint=Authorized on a two-EVSE station: the Started of a driver who taps first
    # names no EVSE; the EVSE comes with the cable (OCPP 2.0.1 sends evse in the first event
    # after the EV is connected).
    first, second = _card(db), _card(db)
    running, tapped = str(uuid.uuid4()), str(uuid.uuid4())
    with _charger(server, station) as charger:
        _send(charger, "Started", running, 0, "Authorized", id_token=first, state="Charging",
              samples=[_energy(0, "Transaction.Begin")])
        _send(charger, "Started", tapped, 0, "Authorized", id_token=second, evse_id=None)
        _send(charger, "Updated", tapped, 1, "CablePluggedIn", evse_id=2, state="EVConnected")
    still_running = _session(db, running)
    assert (still_running.status, still_running.stopped_at) == (SessionStatus.CHARGING, None)
    assert _session(db, tapped).connector_id == 2
    assert (_plug(db, station, 1), _plug(db, station, 2)) == (ConnectorStatus.CHARGING,
                                                              ConnectorStatus.PREPARING)


def _priced(db, station) -> None:
    """The station's plugs carry a tariff of €0.40 per kWh."""
    price_plugs(db, station.charge_point_id,
                make_tariff(db, None, energy_price_per_kwh=4000, session_fee=0))


def test_an_ended_transaction_of_a_free_card_is_answered_a_total_cost_of_zero(server,
                                                                              station, db):
    # TransactionEventResponse.totalCost: "When omitted, the transaction was NOT free. To
    # indicate a free transaction, the CSMS SHALL send 0.00."
    _priced(db, station)
    id_tag = make_card(db, f"FREE{uuid.uuid4().hex[:10]}", billing="free")
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        _send(charger, "Started", transaction_id, 0, "Authorized", id_token=id_tag,
              state="Charging", samples=[_energy(0, "Transaction.Begin")])
        ended = _send(charger, "Ended", transaction_id, 1, "StopAuthorized",
                      stopped_reason="Local", samples=[_energy(3000, "Transaction.End")])
    assert ended.get("totalCost") == 0


def test_a_transaction_the_charger_let_in_without_authorisation_is_run_and_priced(server,
                                                                                  station, db):
    # idToken type NoAuthorization: a free-vend 2.0.1 charger, priced at the plug's tariff
    # like a 1.6 free-vend transaction.
    _priced(db, station)
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        started = _send(charger, "Started", transaction_id, 0, "Authorized", id_token="",
                        id_token_type="NoAuthorization", state="EVConnected",
                        samples=[_energy(1000, "Transaction.Begin")])
        running = _session(db, transaction_id)
        ended = _send(charger, "Ended", transaction_id, 1, "EVCommunicationLost",
                      stopped_reason="EVDisconnected",
                      samples=[_energy(11000, "Transaction.End")])
    assert started["idTokenInfo"]["status"] == "Accepted"
    assert running.status == SessionStatus.CHARGING
    assert ended.get("totalCost") == 4.0
