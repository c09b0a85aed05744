"""OCPP 2.0.1 boot and registration against a live server: B01 cold boot Accepted, B02
boot Pending (the CSMS may read and set variables meanwhile, nobody is authorised),
heartbeats, and which OCPP version a station gets."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_card
from tests.support.http import command
from tests.support.library_charger import LibraryCharger201
from tests.support.payloads import transaction_event
from tests.support.raw_charger import RawCharger, RawCharger201
from tests.support.server import start_server, stop_server
from voltspot.domain.statuses import Registration
from voltspot.models import ChargingSession, Station


def _station(db, charge_point_id) -> Station:
    with db.session() as session:
        return session.scalar(select(Station).where(Station.charge_point_id == charge_point_id))


def _make_pending(db, station) -> None:
    """The owner has not accepted this station yet."""
    with db.session() as session:
        session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id)).registration = \
            Registration.PENDING


def _charger(server, station) -> RawCharger201:
    return RawCharger201(server.ws_url, station.charge_point_id, station.password)


def test_boot_is_accepted_with_a_heartbeat_interval_and_the_current_time(server, station):
    with _charger(server, station) as charger:
        answer = charger.boot()
    assert answer["status"] == "Accepted"
    assert answer["interval"] > 0
    current_time = datetime.fromisoformat(answer["currentTime"])
    assert abs(current_time - datetime.now(UTC)) < timedelta(seconds=5)


def test_boot_stores_what_the_station_says_about_itself(server, station, db):
    with _charger(server, station) as charger:
        charger.result("BootNotification", {"reason": "PowerUp", "chargingStation": {
            "vendorName": "Alfen BV", "model": "Eve Double", "serialNumber": "ACE-201",
            "firmwareVersion": "7.2.1", "modem": {"iccid": "8931440400", "imsi": "20404"}}})
    stored = _station(db, station.charge_point_id)
    assert (stored.vendor, stored.model, stored.serial_number, stored.firmware_version,
            stored.iccid, stored.imsi, stored.boot_reason, stored.ocpp_version) == (
        "Alfen BV", "Eve Double", "ACE-201", "7.2.1", "8931440400", "20404", "PowerUp",
        "2.0.1")
    assert stored.last_boot_at is not None


def test_each_boot_replaces_the_boot_reason(server, station, db):
    with _charger(server, station) as charger:
        charger.boot("PowerUp")
    with _charger(server, station) as charger:
        charger.boot("RemoteReset")
    assert _station(db, station.charge_point_id).boot_reason == "RemoteReset"


def test_the_boot_answer_fits_the_schema_the_library_client_checks(server, station):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        answer = charger.boot("ApplicationReset")
    assert answer.status == "Accepted"
    assert answer.interval > 0


def test_heartbeat_answers_the_current_time_and_marks_the_station_seen(server, station, db):
    with _charger(server, station) as charger:
        charger.boot()
        before = _station(db, station.charge_point_id).last_seen_at
        answer = charger.result("Heartbeat", {})
    assert abs(datetime.fromisoformat(answer["currentTime"]) - datetime.now(UTC)) \
        < timedelta(seconds=5)
    assert _station(db, station.charge_point_id).last_seen_at >= before


def test_a_station_configured_for_1_6_gets_1_6_when_it_offers_both(server, station, db):
    with db.session() as session:
        session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id)).ocpp_version_preferred = "1.6"
    with RawCharger(server.ws_url, station.charge_point_id, station.password,
                    ("ocpp2.0.1", "ocpp1.6")) as charger:
        assert charger.ws.subprotocol == "ocpp1.6"


def test_a_station_configured_for_1_6_that_offers_only_2_0_1_gets_2_0_1(server, station, db):
    with db.session() as session:
        session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id)).ocpp_version_preferred = "1.6"
    with _charger(server, station) as charger:
        assert charger.ws.subprotocol == "ocpp2.0.1"
        assert charger.boot()["status"] == "Accepted"


@pytest.fixture(scope="module")
def open_server(database_url, tmp_path_factory):
    live = start_server(database_url, tmp_path_factory.mktemp("logs") / "pending201.log",
                        accept_unknown_stations="true")
    yield live
    stop_server(live)


def test_an_unknown_station_boots_pending_and_is_configured_meanwhile(open_server, db):
    charge_point_id = f"NEW-201-{uuid.uuid4().hex[:8]}"
    with RawCharger201(open_server.ws_url, charge_point_id, "its-own-password-201") as charger:
        answer = charger.boot()
        assert (answer["status"], answer["interval"] > 0) == ("Pending", True)
        charger.settle()
        actions = [action for action, _ in charger.csms_calls]
    assert actions == ["GetVariables", "SetVariables", "SetVariables", "SetVariables",
                       "GetBaseReport"]
    stored = _station(db, charge_point_id)
    assert (stored.registration, stored.ocpp_version, stored.vendor) == (
        Registration.PENDING, "2.0.1", "TestVendor")


def test_a_pending_station_gets_security_error_for_its_heartbeats(server, station, db):
    # B02.FR.09: while Pending, anything but its boot (and what the CSMS asked for).
    _make_pending(db, station)
    with _charger(server, station) as charger:
        assert charger.boot()["status"] == "Pending"
        assert charger.call("Heartbeat", {})[2] == "SecurityError"
        assert charger.boot()["status"] == "Pending"


def test_a_pending_station_authorises_nobody_and_records_no_transaction(server, station, db):
    _make_pending(db, station)
    card = make_card(db, f"PEND-{uuid.uuid4().hex[:8]}")
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        charger.boot()
        answer = charger.call("Authorize", {"idToken": {"idToken": card, "type": "ISO14443"}})
        started = charger.call("TransactionEvent", transaction_event(
            "Started", transaction_id, 0, "Authorized", id_token=card))
    assert answer[2] == started[2] == "SecurityError"
    with db.session() as session:
        assert session.scalar(select(ChargingSession).where(
            ChargingSession.charger_transaction_id == transaction_id)) is None


def test_a_pending_station_can_be_read_and_set_through_the_api(server, station, db):
    _make_pending(db, station)
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        assert charger.boot().status == "Pending"
        charger.configured()
        read = command(server, station.charge_point_id, "GetVariables", {"getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]})
        written = command(server, station.charge_point_id, "SetVariables", {"setVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
             "attributeValue": "120"}]})
        assert read[0] == written[0] == 200
        assert read[1]["getVariableResult"][0]["attributeValue"] == "300"
        assert written[1]["setVariableResult"][0]["attributeStatus"] == "Accepted"
        assert charger.cp.variables[("OCPPCommCtrlr", "HeartbeatInterval")] == "120"


def test_a_pending_station_that_is_accepted_boots_accepted_next_time(server, station, db):
    _make_pending(db, station)
    with _charger(server, station) as charger:
        assert charger.boot()["status"] == "Pending"
    with db.session() as session:
        session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id)).registration = \
            Registration.ACCEPTED
    with _charger(server, station) as charger:
        assert charger.boot()["status"] == "Accepted"
