"""Frames a 2.0.1 charger gets wrong are answered with the CALLERROR codes OCPP-J 2.0.1
names (FormatViolation and OccurrenceConstraintViolation, not 1.6's spellings; the
2.0.1-only RpcFrameworkError and MessageTypeNotSupported), and the connection keeps
serving after every one of them."""

from __future__ import annotations

import json

import pytest
from ocpp.exceptions import (
    OccurrenceConstraintViolationError,
    PropertyConstraintViolationError,
)
from ocpp.v201 import call

from tests.support.library_charger import LibraryCharger201
from tests.support.raw_charger import RawCharger201


@pytest.fixture
def charger(server, station):
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        yield charger


def _answer_to(charger, frame: str | list | dict) -> list:
    """The CSMS's answer to ``frame``, after checking that the connection still serves."""
    charger.send_raw(frame if isinstance(frame, str) else json.dumps(frame))
    answer = charger.receive()
    assert "currentTime" in charger.result("Heartbeat", {})
    return answer


def _boot(reason="PowerUp", **station) -> dict:
    return {"reason": reason, "chargingStation": {"vendorName": "V", "model": "M", **station}}


def test_a_payload_with_a_field_the_schema_does_not_have_is_a_format_violation(charger):
    assert _answer_to(charger, [2, "f1", "Heartbeat", {"extra": 1}])[:3] == [
        4, "f1", "FormatViolation"]


def test_a_payload_that_is_not_an_object_is_a_format_violation(charger):
    assert _answer_to(charger, [2, "f2", "Heartbeat", []])[:3] == [4, "f2", "FormatViolation"]


def test_text_that_is_not_json_is_a_format_violation(charger):
    assert _answer_to(charger, "[2, 'f3', Heartbeat")[2] == "FormatViolation"


def test_a_missing_required_field_is_an_occurrence_constraint_violation_spelled_for_2_0_1(
        charger):
    answer = _answer_to(charger, [2, "f4", "BootNotification",
                                  {"chargingStation": {"vendorName": "V", "model": "M"}}])
    assert answer[:3] == [4, "f4", "OccurrenceConstraintViolation"]
    assert "reason" in answer[3]


def test_a_field_of_the_wrong_type_is_a_type_constraint_violation(charger):
    answer = _answer_to(charger, [2, "f5", "TransactionEvent", {
        "eventType": "Started", "timestamp": "2025-01-01T00:00:00Z",
        "triggerReason": "Authorized", "seqNo": "zero",
        "transactionInfo": {"transactionId": "t-1"}}])
    assert answer[:3] == [4, "f5", "TypeConstraintViolation"]


def test_a_value_outside_its_enumeration_is_a_property_constraint_violation(charger):
    assert _answer_to(charger, [2, "f6", "BootNotification", _boot("Bored")])[:3] == [
        4, "f6", "PropertyConstraintViolation"]


def test_a_string_longer_than_the_schema_allows_is_a_type_constraint_violation(charger):
    assert _answer_to(charger, [2, "f7", "BootNotification", _boot(
        serialNumber="S" * 30)])[:3] == [4, "f7", "TypeConstraintViolation"]


def test_a_1_6_only_action_is_not_implemented(charger):
    answer = _answer_to(charger, [2, "f8", "StartTransaction", {
        "connectorId": 1, "idTag": "CARD", "meterStart": 0,
        "timestamp": "2025-01-01T00:00:00Z"}])
    assert answer[:3] == [4, "f8", "NotImplemented"]


def test_an_action_no_ocpp_version_has_is_not_implemented(charger):
    assert _answer_to(charger, [2, "f9", "MakeCoffee", {}])[:3] == [4, "f9", "NotImplemented"]


def test_a_2_0_1_action_this_csms_does_not_handle_is_not_supported(charger):
    answer = _answer_to(charger, [2, "f10", "NotifyEVChargingNeeds", {
        "evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "AC_three_phase"}}])
    assert answer[:3] == [4, "f10", "NotSupported"]


def test_a_frame_that_is_not_an_rpc_array_is_an_rpc_framework_error(charger):
    assert _answer_to(charger, {"action": "Heartbeat"})[2] == "RpcFrameworkError"


def test_a_message_type_ocpp_j_does_not_have_is_message_type_not_supported(charger):
    assert _answer_to(charger, [5, "f12", "Heartbeat", {}])[:3] == [
        4, "f12", "MessageTypeNotSupported"]


def test_a_result_that_answers_no_request_is_ignored(charger):
    charger.send_raw(json.dumps([3, "never-asked", {}]))
    assert charger.call("Heartbeat", {})[0] == 3


def test_the_library_client_reads_the_2_0_1_error_codes(server, station):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        with pytest.raises(OccurrenceConstraintViolationError):
            charger.run(charger.cp.call(call.BootNotification(
                charging_station={"vendor_name": "V"}, reason="PowerUp"),
                suppress=False, skip_schema_validation=True))
        with pytest.raises(PropertyConstraintViolationError):
            charger.run(charger.cp.call(call.BootNotification(
                charging_station={"vendor_name": "V", "model": "M"}, reason="Bored"),
                suppress=False, skip_schema_validation=True))
        assert charger.boot().status == "Accepted"
