"""The intents in OCPP 2.0.1 words, in process: what each sends (checked against the
2.0.1 schema) and how the charger's reply reads back."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ocpp.messages import MessageType

from voltspot.domain.device_model import UPDATED_MEASURAND_CHOICES
from voltspot.domain.protocol import OcppVersion
from voltspot.ocpp import frames
from voltspot.ocpp.v201.commands import Commands201, start_request
from voltspot.services.charger_control import SettingNameInvalid
from voltspot.services.errors import InvalidInput


class Charger:
    """Stands in for the socket: keeps what was sent, answers with ``answer(action,
    payload)``."""

    def __init__(self, answer: Callable[[str, dict], dict] | None = None) -> None:
        self.answer = answer or (lambda action, payload: {"status": "Accepted"})
        self.sent: list[tuple[str, dict]] = []

    def send(self, message: object) -> dict:
        action, payload = frames.call_of(message)
        frames.validate(MessageType.Call, action, payload, OcppVersion.V201)
        self.sent.append((action, payload))
        return self.answer(action, payload)


def test_a_remote_start_sends_a_central_token_and_names_the_running_transaction():
    charger = Charger(lambda action, payload: {"status": "Accepted", "transactionId": "T-1"})
    outcome = Commands201(charger.send).start_charging(connector_id=2, id_tag="APP-1",
                                                       remote_start_id=7)
    assert charger.sent == [("RequestStartTransaction", {
        "idToken": {"idToken": "APP-1", "type": "Central"}, "remoteStartId": 7,
        "evseId": 2})]
    assert (outcome.accepted, outcome.charger_transaction_id) == (True, "T-1")


def test_a_soft_restart_waits_for_idle_and_may_be_scheduled():
    charger = Charger(lambda action, payload: {"status": "Scheduled"})
    outcome = Commands201(charger.send).reset(hard=False)
    assert charger.sent == [("Reset", {"type": "OnIdle"})]
    assert (outcome.accepted, outcome.status) == (True, "Scheduled")


def test_a_whole_station_availability_change_names_no_evse():
    charger = Charger()
    Commands201(charger.send).set_availability(None, operative=True)
    assert charger.sent == [("ChangeAvailability", {"operationalStatus": "Operative"})]


def test_reading_every_setting_asks_for_a_configuration_report():
    charger = Charger(lambda action, payload: {"status": "EmptyResultSet"})
    read = Commands201(charger.send).read_settings([])
    assert charger.sent[0][0] == "GetBaseReport"
    assert charger.sent[0][1]["reportBase"] == "ConfigurationInventory"
    assert (read.by_report, read.accepted, read.settings) == (True, True, ())


def test_reading_named_settings_returns_the_known_and_names_the_unknown():
    def answer(action, payload):
        return {"getVariableResult": [
            {"attributeStatus": "Accepted", "attributeValue": "300",
             "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
            {"attributeStatus": "UnknownComponent",
             "component": {"name": "Nothing"}, "variable": {"name": "Here"}}]}
    read = Commands201(Charger(answer).send).read_settings(
        ["OCPPCommCtrlr.HeartbeatInterval", "Nothing.Here"])
    assert [(s.key, s.value) for s in read.settings] == [
        ("OCPPCommCtrlr.HeartbeatInterval", "300")]
    assert read.unknown == ("Nothing.Here",)


def test_a_setting_not_written_as_component_dot_variable_is_refused_before_sending():
    charger = Charger()
    with pytest.raises(SettingNameInvalid, match="Component.Variable"):
        Commands201(charger.send).change_setting("HeartbeatInterval", "60")
    assert charger.sent == []


def test_a_changed_setting_reads_its_status_from_the_variable_result():
    charger = Charger(lambda action, payload: {"setVariableResult": [{
        "attributeStatus": "UnknownVariable", "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "Nope"}}]})
    outcome = Commands201(charger.send).change_setting("OCPPCommCtrlr.Nope", "1")
    assert (outcome.accepted, outcome.status) == (False, "UnknownVariable")


def _sampling_charger(set_status: Callable[[str, str], str]) -> Charger:
    def answer(action, payload):
        if action == "GetVariables":
            return {"getVariableResult": [
                {"attributeStatus": "Accepted", "attributeValue": "",
                 "component": item["component"], "variable": item["variable"]}
                for item in payload["getVariableData"]]}
        item = payload["setVariableData"][0]
        return {"setVariableResult": [{
            "attributeStatus": set_status(item["variable"]["name"], item["attributeValue"]),
            "component": item["component"], "variable": item["variable"]}]}
    return Charger(answer)


def test_metering_tries_shorter_measurand_lists_until_one_is_accepted():
    def status(name, value):
        return "Rejected" if value == UPDATED_MEASURAND_CHOICES[0] else "Accepted"
    outcome = Commands201(_sampling_charger(status).send).configure_metering(
        sample_interval_s=60)
    assert ("SampledDataCtrlr.TxUpdatedMeasurands=" + UPDATED_MEASURAND_CHOICES[1]
            in outcome.changed)
    assert "SampledDataCtrlr.TxUpdatedInterval=60" in outcome.changed
    assert outcome.missing == ()


def test_metering_names_a_variable_the_charger_does_not_have():
    def status(name, value):
        return "UnknownVariable" if name == "TxEndedMeasurands" else "Accepted"
    outcome = Commands201(_sampling_charger(status).send).configure_metering(
        sample_interval_s=60)
    assert outcome.missing == ("SampledDataCtrlr.TxEndedMeasurands (UnknownVariable)",)


def test_a_raw_request_start_reads_as_token_and_plug():
    start = start_request({"idToken": {"idToken": "APP-2", "type": "Central"}, "evseId": 1})
    assert (start.id_tag, start.connector_id) == ("APP-2", 1)


@pytest.mark.parametrize("payload", [{}, {"idToken": "APP-2"},
                                     {"idToken": {"idToken": "APP-2"}, "evseId": True}])
def test_a_raw_request_start_without_a_usable_token_or_plug_is_refused(payload):
    with pytest.raises(InvalidInput):
        start_request(payload)
