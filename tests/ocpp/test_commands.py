"""Commands to chargers through the operator API and ChargerControl (TC_010–TC_031,
TC_019/021, TC_054, TC_061, TC_064), answered by the ``ocpp`` library's charge point."""

from __future__ import annotations

import json
import time

import pytest
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.v16 import call, call_result

from tests.support.http import api, command
from tests.support.library_charger import LibraryCharger
from tests.support.payloads import now_iso


@pytest.fixture
def charger(server, station):
    with LibraryCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        yield charger


@pytest.mark.parametrize(("action", "payload", "expected"), [
    ("Reset", {"type": "Soft"}, {"status": "Accepted"}),
    ("Reset", {"type": "Hard"}, {"status": "Accepted"}),
    ("UnlockConnector", {"connectorId": 1}, {"status": "Unlocked"}),
    ("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}, {"status": "Accepted"}),
    ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}, {"status": "Accepted"}),
    ("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1},
     {"status": "Accepted"}),
    ("ClearCache", {}, {"status": "Accepted"}),
    ("DataTransfer", {"vendorId": "com.example"}, {"status": "UnknownVendorId"}),
    ("RemoteStopTransaction", {"transactionId": 1}, {"status": "Accepted"}),
])
def test_a_command_returns_the_chargers_answer(server, station, charger, action, payload,
                                               expected):
    status, body = command(server, station.charge_point_id, action, payload)
    assert (status, body) == (200, expected)
    assert charger.cp.received[-1][0] == action


def test_get_configuration_returns_known_keys_and_names_unknown_ones(server, station, charger):
    status, body = command(server, station.charge_point_id, "GetConfiguration",
                           {"key": ["HeartbeatInterval", "NoSuchKey"]})
    assert status == 200
    assert body["configurationKey"] == [{"key": "HeartbeatInterval", "readonly": False,
                                         "value": "300"}]
    assert body["unknownKey"] == ["NoSuchKey"]


def test_a_charger_that_cannot_unlock_says_so(server, station, charger):
    charger.cp.answers["UnlockConnector"] = lambda **_: call_result.UnlockConnector(
        status="NotSupported")
    assert command(server, station.charge_point_id, "UnlockConnector",
                   {"connectorId": 1}) == (200, {"status": "NotSupported"})


def test_a_call_error_from_the_charger_is_reported_with_its_code(server, station, charger):
    def refuse(**_):
        raise OcppNotImplemented(description="not on this model")
    charger.cp.answers["ClearCache"] = refuse
    status, body = command(server, station.charge_point_id, "ClearCache")
    assert status == 502
    assert body["ocppError"] == "NotImplemented"


def test_a_command_to_an_offline_station_says_it_is_offline(server, station):
    status, body = command(server, station.charge_point_id, "ClearCache")
    assert status == 409
    assert "offline" in body["error"]


def test_a_charger_that_never_answers_gives_no_answer_in_n_seconds(server, station, charger):
    def hang(**_):
        time.sleep(6)
        return call_result.ClearCache(status="Accepted")
    charger.cp.answers["ClearCache"] = hang
    status, body = command(server, station.charge_point_id, "ClearCache")
    assert status == 504
    assert "no answer to ClearCache in 3 s" in body["error"]


def test_a_payload_that_breaks_the_schema_is_refused_before_sending(server, station, charger):
    status, body = command(server, station.charge_point_id, "Reset", {"type": "Gentle"})
    assert status == 400
    assert "Gentle" in body["error"]
    assert charger.cp.received == []


def test_an_action_we_do_not_send_is_refused(server, station, charger):
    status, body = command(server, station.charge_point_id, "UpdateFirmware", {})
    assert status == 400


def test_a_command_to_an_unknown_station_is_404(server):
    assert command(server, "NO-SUCH-STATION", "ClearCache")[0] == 404


def test_a_remote_start_resolves_to_the_transaction_the_charger_starts(server, station, charger):
    status, body = command(server, station.charge_point_id, "RemoteStartTransaction",
                           {"idTag": "APP-1234", "connectorId": 1})
    assert (status, body["status"]) == (200, "Accepted")
    token = body["sessionToken"]
    assert api(server, "GET", f"/api/sessions/{token}")[1]["status"] == "starting"
    authorized = charger.send(call.Authorize(id_tag="APP-1234"))
    assert authorized.id_tag_info["status"] == "Accepted"
    started = charger.send(call.StartTransaction(connector_id=1, id_tag="APP-1234",
                                                 meter_start=0, timestamp=now_iso()))
    state = api(server, "GET", f"/api/sessions/{token}")[1]
    assert (state["status"], state["transactionId"]) == ("charging", started.transaction_id)


def test_a_remote_start_the_charger_rejects_fails_the_session(server, station, charger):
    charger.cp.answers["RemoteStartTransaction"] = lambda **_: call_result.RemoteStartTransaction(
        status="Rejected")
    status, body = command(server, station.charge_point_id, "RemoteStartTransaction",
                           {"idTag": "APP-9", "connectorId": 2})
    assert (status, body["status"]) == (200, "Rejected")
    state = api(server, "GET", f"/api/sessions/{body['sessionToken']}")[1]
    assert state["status"] == "failed"


def test_a_remote_stop_ends_the_transaction_with_reason_remote(server, station, charger):
    started = charger.send(call.StartTransaction(connector_id=1, id_tag="APP-77",
                                                 meter_start=0, timestamp=now_iso()))
    transaction_id = started.transaction_id
    status, body = command(server, station.charge_point_id, "RemoteStopTransaction",
                           {"transactionId": transaction_id})
    assert body == {"status": "Accepted"}
    assert charger.cp.received[-1] == ("RemoteStopTransaction",
                                       {"transaction_id": transaction_id})
    charger.send(call.StopTransaction(meter_stop=800, timestamp=now_iso(),
                                      transaction_id=transaction_id, reason="Remote"))


def test_the_charger_may_start_before_answering_the_remote_start(server, station, charger):
    async def start_first(**kwargs):
        # Raw frame: the library would wait for its answer inside this very handler.
        await charger.cp._connection.send(json.dumps([2, "early-start", "StartTransaction", {
            "connectorId": 1, "idTag": kwargs["id_tag"], "meterStart": 0,
            "timestamp": now_iso()}]))
        return call_result.RemoteStartTransaction(status="Accepted")
    charger.cp.answers["RemoteStartTransaction"] = start_first
    status, body = command(server, station.charge_point_id, "RemoteStartTransaction",
                           {"idTag": "APP-EARLY", "connectorId": 1})
    assert body["status"] == "Accepted"
    state = api(server, "GET", f"/api/sessions/{body['sessionToken']}")[1]
    assert state["status"] == "charging"
    assert state["transactionId"] is not None
