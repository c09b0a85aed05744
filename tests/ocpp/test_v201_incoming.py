"""OCPP 2.0.1 messages from chargers that carry no transaction: NotifyEvent,
SecurityEventNotification, FirmwareStatusNotification, LogStatusNotification and
DataTransfer are answered, and what the station record keeps of them is kept."""

from __future__ import annotations

from ocpp.v201 import call
from sqlalchemy import select

from tests.support.library_charger import LibraryCharger201
from tests.support.payloads import now_iso
from tests.support.raw_charger import RawCharger201
from voltspot.models import Station


def _charger(server, station) -> RawCharger201:
    return RawCharger201(server.ws_url, station.charge_point_id, station.password)


def _station(db, station) -> Station:
    with db.session() as session:
        return session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id))


def test_notify_event_is_answered_and_marks_the_station_seen(server, station, db):
    with _charger(server, station) as charger:
        answer = charger.result("NotifyEvent", {
            "generatedAt": now_iso(), "seqNo": 0, "tbc": False, "eventData": [{
                "eventId": 1, "timestamp": now_iso(), "trigger": "Delta",
                "actualValue": "Occupied", "eventNotificationType": "HardWiredNotification",
                "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                "variable": {"name": "AvailabilityState"}}]})
    assert answer == {}
    assert _station(db, station).last_seen_at is not None


def test_security_event_notification_is_answered(server, station):
    with _charger(server, station) as charger:
        assert charger.result("SecurityEventNotification", {
            "type": "SettingSystemTime", "timestamp": now_iso(),
            "techInfo": "clock moved 42 s"}) == {}


def test_firmware_status_is_answered_and_stored(server, station, db):
    with _charger(server, station) as charger:
        assert charger.result("FirmwareStatusNotification", {"status": "Downloading",
                                                             "requestId": 3}) == {}
    assert _station(db, station).firmware_status == "Downloading"


def test_log_status_is_answered_and_stored(server, station, db):
    with _charger(server, station) as charger:
        assert charger.result("LogStatusNotification", {"status": "Uploaded",
                                                        "requestId": 4}) == {}
    assert _station(db, station).diagnostics_status == "Uploaded"


def test_data_transfer_from_an_unknown_vendor_is_answered_unknown_vendor(server, station):
    with _charger(server, station) as charger:
        assert charger.result("DataTransfer", {"vendorId": "com.example.charger",
                                               "messageId": "Telemetry",
                                               "data": {"temperature": 41}}) == {
            "status": "UnknownVendorId"}


def test_the_library_client_accepts_every_answer_to_these_messages(server, station):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        event = charger.send(call.NotifyEvent(generated_at=now_iso(), seq_no=0, event_data=[{
            "event_id": 7, "timestamp": now_iso(), "trigger": "Alerting",
            "actual_value": "true", "event_notification_type": "PreconfiguredMonitor",
            "component": {"name": "ChargingStation"}, "variable": {"name": "Problem"}}]))
        security = charger.send(call.SecurityEventNotification(type="StartupOfTheDevice",
                                                               timestamp=now_iso()))
        firmware = charger.send(call.FirmwareStatusNotification(status="Installed"))
        log = charger.send(call.LogStatusNotification(status="Idle"))
        transfer = charger.send(call.DataTransfer(vendor_id="org.example"))
    assert None not in (event, security, firmware, log)
    assert transfer.status == "UnknownVendorId"
