"""The intents in OCPP 1.6 words, in process: what each sends (checked against the 1.6
schema) and how the charger's reply reads back."""

from __future__ import annotations

import pytest
from ocpp.messages import MessageType

from voltspot.domain.protocol import OcppVersion
from voltspot.ocpp import frames
from voltspot.ocpp.v16.commands import Commands16, start_request
from voltspot.services.charger_control import (
    CommandOutcome,
    SettingNameInvalid,
    UnknownCommand,
)
from voltspot.services.errors import InvalidInput


class Charger:
    """Stands in for the socket: keeps what was sent, answers with ``reply``."""

    def __init__(self, reply: dict | None = None) -> None:
        self.reply = {"status": "Accepted"} if reply is None else reply
        self.sent: list[tuple[str, dict]] = []

    def send(self, message: object) -> dict:
        action, payload = frames.call_of(message)
        frames.validate(MessageType.Call, action, payload, OcppVersion.V16)
        self.sent.append((action, payload))
        return self.reply


def test_a_whole_station_availability_change_is_sent_to_connector_0():
    charger = Charger()
    outcome = Commands16(charger.send).set_availability(None, operative=False)
    assert charger.sent == [("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})]
    assert outcome == CommandOutcome(True, "Accepted", {"status": "Accepted"})


def test_a_status_report_for_every_plug_names_no_connector():
    charger = Charger()
    Commands16(charger.send).trigger_status_report(None)
    assert charger.sent == [("TriggerMessage", {"requestedMessage": "StatusNotification"})]


def test_a_setting_that_needs_a_restart_counts_as_changed():
    charger = Charger({"status": "RebootRequired"})
    outcome = Commands16(charger.send).change_setting("HeartbeatInterval", "60")
    assert (outcome.accepted, outcome.status) == (True, "RebootRequired")


def test_an_unlock_that_failed_is_not_accepted():
    outcome = Commands16(Charger({"status": "UnlockFailed"}).send).unlock(1)
    assert (outcome.accepted, outcome.status) == (False, "UnlockFailed")


def test_reading_every_setting_names_no_key_and_reads_them_from_the_answer():
    charger = Charger({"configurationKey": [{"key": "HeartbeatInterval", "readonly": False,
                                             "value": "300"}]})
    read = Commands16(charger.send).read_settings(None)
    assert charger.sent == [("GetConfiguration", {})]
    assert [(s.key, s.value, s.readonly) for s in read.settings] == [
        ("HeartbeatInterval", "300", False)]
    assert not read.by_report


def test_a_key_longer_than_1_6_allows_is_refused_before_sending():
    charger = Charger()
    with pytest.raises(SettingNameInvalid, match="at most 50 characters"):
        Commands16(charger.send).read_settings(["K" * 51])
    assert charger.sent == []


def test_a_1_6_station_has_no_device_report():
    with pytest.raises(UnknownCommand):
        Commands16(Charger().send).request_device_report()


def test_metering_of_a_1_6_station_is_left_as_installed():
    charger = Charger()
    outcome = Commands16(charger.send).configure_metering(sample_interval_s=60)
    assert (outcome.changed, outcome.missing, charger.sent) == ((), (), [])


def test_a_remote_stop_sends_the_transaction_as_a_number():
    charger = Charger()
    Commands16(charger.send).stop_charging("42")
    assert charger.sent == [("RemoteStopTransaction", {"transactionId": 42})]


def test_a_raw_remote_start_reads_as_token_and_plug():
    start = start_request({"idTag": "APP-1", "connectorId": 2})
    assert (start.id_tag, start.connector_id) == ("APP-1", 2)


@pytest.mark.parametrize("payload", [{}, {"idTag": ""}, {"idTag": "A" * 21},
                                     {"idTag": "APP-1", "connectorId": 0}])
def test_a_raw_remote_start_without_a_usable_token_or_plug_is_refused(payload):
    with pytest.raises(InvalidInput):
        start_request(payload)


def test_an_outcome_is_not_a_truth_value():
    with pytest.raises(TypeError):
        bool(CommandOutcome(False, "Rejected"))
