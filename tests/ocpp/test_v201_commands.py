"""Operator commands to OCPP 2.0.1 chargers through the API: the 2.0.1 names and payloads,
the charger's answer relayed, 1.6-only names refused, and a charger that answers a
command with a CALLERROR (UnlockConnector NotImplemented) keeps being served."""

from __future__ import annotations

import pytest
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.v201 import call, call_result

from tests.support.http import command
from tests.support.library_charger import LibraryCharger, LibraryCharger201
from tests.support.raw_charger import RawCharger201
from tests.support.waiting import in_background


@pytest.fixture
def charger(server, station):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.configured()
        yield charger


@pytest.mark.parametrize(("action", "payload", "expected"), [
    ("Reset", {"type": "Immediate"}, {"status": "Accepted"}),
    ("Reset", {"type": "OnIdle", "evseId": 1}, {"status": "Accepted"}),
    ("UnlockConnector", {"evseId": 1, "connectorId": 1}, {"status": "Unlocked"}),
    ("TriggerMessage", {"requestedMessage": "StatusNotification",
                        "evse": {"id": 1, "connectorId": 1}}, {"status": "Accepted"}),
    ("TriggerMessage", {"requestedMessage": "BootNotification"}, {"status": "Accepted"}),
    ("ClearCache", {}, {"status": "Accepted"}),
    ("DataTransfer", {"vendorId": "com.example", "messageId": "Hello"},
     {"status": "UnknownVendorId"}),
    ("RequestStopTransaction", {"transactionId": "not-running"}, {"status": "Accepted"}),
], ids=["reset-immediate", "reset-on-idle", "unlock", "trigger-status", "trigger-boot",
        "clear-cache", "data-transfer", "request-stop"])
def test_a_command_returns_the_chargers_answer(server, station, charger, action, payload,
                                               expected):
    status, body = command(server, station.charge_point_id, action, payload)
    assert (status, body) == (200, expected)
    assert charger.cp.received[-1][0] == action


@pytest.mark.parametrize(("action", "payload"), [
    ("RemoteStartTransaction", {"idTag": "APP-1", "connectorId": 1}),
    ("RemoteStopTransaction", {"transactionId": 1}),
    ("GetConfiguration", {}),
    ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}),
])
def test_a_1_6_only_command_is_refused_for_a_2_0_1_charger(server, station, charger, action,
                                                          payload):
    sent_before = len(charger.cp.received)
    status, body = command(server, station.charge_point_id, action, payload)
    assert status == 400
    assert "2.0.1" in body["error"]
    assert len(charger.cp.received) == sent_before


def test_the_2_0_1_start_command_is_refused_for_a_1_6_charger(server, station):
    with LibraryCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        status, body = command(server, station.charge_point_id, "RequestStartTransaction",
                               {"idToken": {"idToken": "APP-2", "type": "Central"}})
        assert charger.cp.received == []
    assert status == 400
    assert "RemoteStartTransaction" in body["error"]


def test_a_reset_in_1_6_words_is_refused_before_sending(server, station, charger):
    sent_before = len(charger.cp.received)
    status, body = command(server, station.charge_point_id, "Reset", {"type": "Soft"})
    assert status == 400
    assert "Soft" in body["error"]
    assert len(charger.cp.received) == sent_before


def test_unlock_answered_not_implemented_is_reported_and_the_charger_still_served(
        server, station, charger):
    def not_on_this_model(**_):
        raise OcppNotImplemented(description="no motorised lock")
    charger.cp.answers["UnlockConnector"] = not_on_this_model
    status, body = command(server, station.charge_point_id, "UnlockConnector",
                           {"evseId": 1, "connectorId": 1})
    assert status == 502
    assert (body["ocppError"], body["description"]) == ("NotImplemented", "no motorised lock")
    assert command(server, station.charge_point_id, "ClearCache") == (200,
                                                                      {"status": "Accepted"})
    assert charger.send(call.Heartbeat()).current_time


def test_a_raw_call_error_to_unlock_is_relayed_and_the_connection_keeps_serving(server,
                                                                                station):
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.result("Heartbeat", {})  # served: commands can reach it
        reply = in_background(command, server, station.charge_point_id, "UnlockConnector",
                              {"evseId": 2, "connectorId": 1})
        asked = charger.expect_call("UnlockConnector")
        charger.reply_error(asked, "NotImplemented", "UnlockConnector")
        status, body = reply.result(10)
        assert "currentTime" in charger.result("Heartbeat", {})
        again = in_background(command, server, station.charge_point_id, "ClearCache")
        charger.reply(charger.expect_call("ClearCache"), {"status": "Rejected"})
        assert again.result(10) == (200, {"status": "Rejected"})
    assert asked[3] == {"evseId": 2, "connectorId": 1}
    assert (status, body["ocppError"]) == (502, "NotImplemented")


def test_an_unlock_the_charger_cannot_do_relays_its_status(server, station, charger):
    charger.cp.answers["UnlockConnector"] = lambda **_: call_result.UnlockConnector(
        status="UnlockFailed")
    assert command(server, station.charge_point_id, "UnlockConnector",
                   {"evseId": 1, "connectorId": 1}) == (200, {"status": "UnlockFailed"})
