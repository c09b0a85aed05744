"""Remote start and stop of OCPP 2.0.1 transactions through the operator API (F01/F03,
E21): RequestStartTransaction with an idToken and our remoteStartId, the charger's events
echoing it joining the tracked session in every order real chargers send them, and
RequestStopTransaction with the charger's transactionId."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from ocpp.exceptions import GenericError
from ocpp.v201 import call, call_result
from sqlalchemy import func, select

from tests.factories import make_card, make_tariff, price_plugs
from tests.support.http import api, command
from tests.support.library_charger import LibraryCharger201
from tests.support.payloads import now_iso, sampled_value, transaction_event
from tests.support.raw_charger import RawCharger201
from tests.support.waiting import in_background
from voltspot.domain.statuses import ConnectorStatus, SessionStatus
from voltspot.models import ChargingSession, Connector, MeterSample, Station


def _app_token() -> str:
    return f"APP-{uuid.uuid4().hex[:12]}"


def _start_payload(id_token: str, evse_id: int = 1) -> dict:
    return {"idToken": {"idToken": id_token, "type": "Central"}, "evseId": evse_id}


def _state(server, token) -> dict:
    status, body = api(server, "GET", f"/api/sessions/{token}")
    assert status == 200, body
    return body


def _energy(wh, context="Sample.Periodic") -> dict:
    return sampled_value("Energy.Active.Import.Register", wh, "Wh", context=context)


def _sessions_at(db, station) -> list[ChargingSession]:
    with db.session() as session:
        return list(session.scalars(select(ChargingSession).join(Station).where(
            Station.charge_point_id == station.charge_point_id)))


def _plug(db, station) -> ConnectorStatus:
    with db.session() as session:
        return session.scalar(select(Connector.status).join(Station).where(
            Station.charge_point_id == station.charge_point_id, Connector.connector_id == 1))


def _raw(server, station) -> RawCharger201:
    """A raw charger that reconnected without a BootNotification (it goes on where it
    was), once the CSMS serves it: a heartbeat has been answered."""
    charger = RawCharger201(server.ws_url, station.charge_point_id, station.password)
    charger.result("Heartbeat", {})
    return charger


@contextmanager
def _library(server, station) -> Iterator[LibraryCharger201]:
    """A booted library charger whose post-boot configuration is done."""
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.configured()
        yield charger


def _remote_start(server, station, charger, id_token, answer=None) -> tuple[dict, list]:
    """Start through the API; the raw ``charger`` answers ``answer`` (Accepted). Returns the
    API's answer and the RequestStartTransaction frame the charger received."""
    reply = in_background(command, server, station.charge_point_id, "RequestStartTransaction",
                          _start_payload(id_token))
    asked = charger.expect_call("RequestStartTransaction")
    charger.reply(asked, answer or {"status": "Accepted"})
    status, body = reply.result(10)
    assert status == 200, body
    return body, asked


# --- the library client ---------------------------------------------------------------------

def test_a_remote_start_sends_the_token_and_a_remote_start_id(server, station):
    id_token = _app_token()
    with _library(server, station) as charger:
        status, body = command(server, station.charge_point_id, "RequestStartTransaction",
                               _start_payload(id_token))
        action, asked = charger.cp.received[-1]
    assert (status, body["status"]) == (200, "Accepted")
    assert action == "RequestStartTransaction"
    assert asked["id_token"] == {"id_token": id_token, "type": "Central"}
    assert asked["evse_id"] == 1
    assert isinstance(asked["remote_start_id"], int)
    assert _state(server, body["sessionToken"])["status"] == "starting"


def test_a_started_event_echoing_the_remote_start_id_joins_the_tracked_session(server,
                                                                               station, db):
    id_token = _app_token()
    transaction_id = str(uuid.uuid4())
    with _library(server, station) as charger:
        body = command(server, station.charge_point_id, "RequestStartTransaction",
                       _start_payload(id_token))[1]
        remote_start_id = charger.cp.received[-1][1]["remote_start_id"]
        started = charger.send(call.TransactionEvent(
            event_type="Started", timestamp=now_iso(), trigger_reason="RemoteStart", seq_no=0,
            transaction_info={"transaction_id": transaction_id, "remote_start_id":
                              remote_start_id, "charging_state": "Charging"},
            evse={"id": 1, "connector_id": 1},
            id_token={"id_token": id_token, "type": "Central"}))
    assert started.id_token_info["status"] == "Accepted"
    state = _state(server, body["sessionToken"])
    assert (state["status"], state["chargerTransactionId"]) == ("charging", transaction_id)
    assert state["transactionId"] is not None
    assert len(_sessions_at(db, station)) == 1


def test_a_remote_start_the_charger_refuses_fails_the_session(server, station):
    with _library(server, station) as charger:
        charger.cp.answers["RequestStartTransaction"] = \
            lambda **_: call_result.RequestStartTransaction(status="Rejected")
        status, body = command(server, station.charge_point_id, "RequestStartTransaction",
                               _start_payload(_app_token()))
    assert (status, body["status"]) == (200, "Rejected")
    state = _state(server, body["sessionToken"])
    assert state["status"] == "failed"
    assert state["failureReason"]


def test_a_remote_start_answered_with_a_call_error_fails_the_session(server, station, db):
    def fail(**_):
        raise GenericError(description="EVSE busy")
    with _library(server, station) as charger:
        charger.cp.answers["RequestStartTransaction"] = fail
        status, body = command(server, station.charge_point_id, "RequestStartTransaction",
                               _start_payload(_app_token()))
    assert (status, body["ocppError"]) == (502, "GenericError")
    assert [s.status for s in _sessions_at(db, station)] == [SessionStatus.FAILED]


def test_a_remote_stop_through_the_library_client_ends_the_session_remotely(server, station,
                                                                             db):
    id_token = _app_token()
    transaction_id = str(uuid.uuid4())
    with _library(server, station) as charger:
        body = command(server, station.charge_point_id, "RequestStartTransaction",
                       _start_payload(id_token))[1]
        remote_start_id = charger.cp.received[-1][1]["remote_start_id"]

        def event(event_type, seq_no, trigger, **info):
            return call.TransactionEvent(
                event_type=event_type, timestamp=now_iso(), trigger_reason=trigger,
                seq_no=seq_no, transaction_info={"transaction_id": transaction_id, **info},
                evse={"id": 1, "connector_id": 1})
        charger.send(event("Started", 0, "RemoteStart", remote_start_id=remote_start_id,
                           charging_state="Charging"))
        stopped = command(server, station.charge_point_id, "RequestStopTransaction",
                          {"transactionId": transaction_id})
        assert charger.cp.received[-1] == ("RequestStopTransaction",
                                           {"transaction_id": transaction_id})
        charger.send(event("Ended", 1, "RemoteStop", stopped_reason="Remote"))
    assert stopped == (200, {"status": "Accepted"})
    state = _state(server, body["sessionToken"])
    assert (state["status"], state["stopReason"]) == ("completed", "Remote")


def test_a_remote_stop_the_charger_rejects_leaves_the_session_running(server, station, db):
    transaction_id = str(uuid.uuid4())
    make_card(db, f"STOP-{transaction_id[:8]}")
    with _library(server, station) as charger:
        charger.cp.answers["RequestStopTransaction"] = \
            lambda **_: call_result.RequestStopTransaction(status="Rejected")
        charger.send(call.TransactionEvent(
            event_type="Started", timestamp=now_iso(), trigger_reason="Authorized", seq_no=0,
            transaction_info={"transaction_id": transaction_id, "charging_state": "Charging"},
            evse={"id": 1, "connector_id": 1},
            id_token={"id_token": f"STOP-{transaction_id[:8]}", "type": "ISO14443"}))
        stopped = command(server, station.charge_point_id, "RequestStopTransaction",
                          {"transactionId": transaction_id})
    assert stopped == (200, {"status": "Rejected"})
    assert [s.status for s in _sessions_at(db, station)] == [SessionStatus.CHARGING]


def test_a_remote_start_needs_an_id_token(server, station):
    with _library(server, station) as charger:
        status, body = command(server, station.charge_point_id, "RequestStartTransaction",
                               {"evseId": 1})
        assert "RequestStartTransaction" not in [action for action, _ in charger.cp.received]
    assert status == 400
    assert "idToken" in body["error"]


# --- raw frames: the orders real chargers send ------------------------------------------------

def test_started_remote_start_before_the_cable_keeps_one_session_that_follows_the_car(
        server, station, db):
    id_token = _app_token()
    transaction_id = str(uuid.uuid4())
    with _raw(server, station) as charger:
        body, asked = _remote_start(server, station, charger, id_token)
        remote_start_id = asked[3]["remoteStartId"]
        started = charger.result("TransactionEvent", transaction_event(
            "Started", transaction_id, 0, "RemoteStart", remote_start_id=remote_start_id,
            id_token=id_token, id_token_type="Central",
            samples=[_energy(700, "Transaction.Begin")]))
        charger.result("TransactionEvent", transaction_event(
            "Updated", transaction_id, 1, "CablePluggedIn", state="EVConnected"))
        plugged = _plug(db, station)
        charger.result("TransactionEvent", transaction_event(
            "Updated", transaction_id, 2, "ChargingStateChanged", state="Charging",
            samples=[_energy(2700)]))
    assert started["idTokenInfo"]["status"] == "Accepted"
    assert plugged == ConnectorStatus.PREPARING
    state = _state(server, body["sessionToken"])
    assert (state["status"], state["chargerTransactionId"], state["energyWh"]) == (
        "charging", transaction_id, 2000)
    assert len(_sessions_at(db, station)) == 1


def test_a_charger_starting_before_it_answers_the_remote_start_makes_one_session(server,
                                                                                 station, db):
    id_token = _app_token()
    transaction_id = str(uuid.uuid4())
    with _raw(server, station) as charger:
        reply = in_background(command, server, station.charge_point_id,
                              "RequestStartTransaction", _start_payload(id_token))
        asked = charger.expect_call("RequestStartTransaction")
        started = charger.result("TransactionEvent", transaction_event(
            "Started", transaction_id, 0, "RemoteStart",
            remote_start_id=asked[3]["remoteStartId"], id_token=id_token,
            id_token_type="Central", state="Charging"))
        charger.reply(asked, {"status": "Accepted", "transactionId": transaction_id})
        status, body = reply.result(10)
    assert started["idTokenInfo"]["status"] == "Accepted"
    assert (status, body["status"]) == (200, "Accepted")
    state = _state(server, body["sessionToken"])
    assert (state["status"], state["chargerTransactionId"]) == ("charging", transaction_id)
    assert len(_sessions_at(db, station)) == 1


def test_cable_first_then_a_remote_start_naming_the_running_transaction_adopts_it(
        server, station, db):
    id_token = _app_token()
    transaction_id = str(uuid.uuid4())
    with _raw(server, station) as charger:
        charger.result("TransactionEvent", transaction_event(
            "Started", transaction_id, 0, "CablePluggedIn", state="EVConnected",
            samples=[_energy(1000, "Transaction.Begin")]))
        charger.result("TransactionEvent", transaction_event(
            "Updated", transaction_id, 1, "MeterValuePeriodic", state="EVConnected",
            samples=[_energy(1200)]))
        body, asked = _remote_start(server, station, charger, id_token,
                                    {"status": "Accepted", "transactionId": transaction_id})
        adopted = _state(server, body["sessionToken"])
        charger.result("TransactionEvent", transaction_event(
            "Updated", transaction_id, 2, "RemoteStart",
            remote_start_id=asked[3]["remoteStartId"], id_token=id_token,
            id_token_type="Central", state="Charging", samples=[_energy(3200)]))
    assert (adopted["status"], adopted["chargerTransactionId"]) == ("charging", transaction_id)
    sessions = _sessions_at(db, station)
    assert [s.token for s in sessions] == [body["sessionToken"]]
    with db.session() as session:
        moved = session.scalar(select(func.count(MeterSample.id)).where(
            MeterSample.session_id == sessions[0].id))
    assert moved == 3
    assert (sessions[0].id_tag, sessions[0].energy_wh) == (id_token, 2000)


def test_cable_first_then_an_event_echoing_the_remote_start_id_adopts_the_transaction(
        server, station, db):
    id_token = _app_token()
    transaction_id = str(uuid.uuid4())
    with _raw(server, station) as charger:
        charger.result("TransactionEvent", transaction_event(
            "Started", transaction_id, 0, "CablePluggedIn", state="EVConnected",
            samples=[_energy(1000, "Transaction.Begin")]))
        body, asked = _remote_start(server, station, charger, id_token)
        updated = charger.result("TransactionEvent", transaction_event(
            "Updated", transaction_id, 1, "RemoteStart",
            remote_start_id=asked[3]["remoteStartId"], id_token=id_token,
            id_token_type="Central", state="Charging"))
    assert updated["idTokenInfo"]["status"] == "Accepted"
    state = _state(server, body["sessionToken"])
    assert (state["status"], state["chargerTransactionId"]) == ("charging", transaction_id)
    assert [s.token for s in _sessions_at(db, station)] == [body["sessionToken"]]


def test_request_stop_with_the_chargers_transaction_id_ends_the_session_remotely(server,
                                                                                  station, db):
    id_token = _app_token()
    transaction_id = str(uuid.uuid4())
    with _raw(server, station) as charger:
        body, asked = _remote_start(server, station, charger, id_token)
        charger.result("TransactionEvent", transaction_event(
            "Started", transaction_id, 0, "RemoteStart",
            remote_start_id=asked[3]["remoteStartId"], id_token=id_token,
            id_token_type="Central", state="Charging",
            samples=[_energy(0, "Transaction.Begin")]))
        reply = in_background(command, server, station.charge_point_id,
                              "RequestStopTransaction", {"transactionId": transaction_id})
        stop = charger.expect_call("RequestStopTransaction")
        charger.reply(stop, {"status": "Accepted"})
        assert reply.result(10) == (200, {"status": "Accepted"})
        ended = charger.call("TransactionEvent", transaction_event(
            "Ended", transaction_id, 1, "RemoteStop", stopped_reason="Remote",
            state="EVConnected", samples=[_energy(1500, "Transaction.End")]))
    assert stop[3] == {"transactionId": transaction_id}
    assert ended[0] == 3
    state = _state(server, body["sessionToken"])
    assert (state["status"], state["stopReason"], state["energyWh"]) == (
        "completed", "Remote", 1500)


def test_a_started_echoing_only_the_remote_start_id_runs_and_is_priced_for_the_driver(
        server, station, db):
    # Not every charger repeats the idToken of a remote start in its Started event.
    price_plugs(db, station.charge_point_id,
                make_tariff(db, None, energy_price_per_kwh=4000, session_fee=0))
    transaction_id = str(uuid.uuid4())
    with _raw(server, station) as charger:
        body, asked = _remote_start(server, station, charger, _app_token())
        charger.result("TransactionEvent", transaction_event(
            "Started", transaction_id, 0, "RemoteStart",
            remote_start_id=asked[3]["remoteStartId"],
            samples=[_energy(1000, "Transaction.Begin")]))
        running = _state(server, body["sessionToken"])
        ended = charger.result("TransactionEvent", transaction_event(
            "Ended", transaction_id, 1, "EVCommunicationLost", stopped_reason="EVDisconnected",
            samples=[_energy(11000, "Transaction.End")]))
    assert (running["status"], running["chargerTransactionId"]) == ("charging", transaction_id)
    assert ended.get("totalCost") == 4.0
