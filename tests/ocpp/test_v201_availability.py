"""OCPP 2.0.1 availability (G): StatusNotification per EVSE onto the plugs drivers see,
and ChangeAvailability through the operator API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_card
from tests.support.http import command
from tests.support.library_charger import LibraryCharger201
from tests.support.payloads import now_iso, transaction_event
from tests.support.raw_charger import RawCharger201
from tests.support.waiting import in_background
from voltspot.domain.statuses import ConnectorStatus
from voltspot.models import Connector, Station


def _charger(server, station) -> RawCharger201:
    return RawCharger201(server.ws_url, station.charge_point_id, station.password)


def _status(charger, status, evse_id=1, connector_id=1, timestamp=None) -> dict:
    return charger.result("StatusNotification", {
        "timestamp": timestamp or now_iso(), "connectorStatus": status, "evseId": evse_id,
        "connectorId": connector_id})


def _plugs(db, station) -> dict[int, ConnectorStatus]:
    with db.session() as session:
        return dict(session.execute(select(Connector.connector_id, Connector.status).join(
            Station).where(Station.charge_point_id == station.charge_point_id)).all())


@pytest.mark.parametrize(("reported", "shown"), [
    ("Available", ConnectorStatus.AVAILABLE),
    ("Occupied", ConnectorStatus.PREPARING),
    ("Reserved", ConnectorStatus.RESERVED),
    ("Unavailable", ConnectorStatus.UNAVAILABLE),
    ("Faulted", ConnectorStatus.FAULTED),
])
def test_a_connector_status_is_shown_on_the_plug_of_its_evse(server, station, db, reported,
                                                             shown):
    with _charger(server, station) as charger:
        assert _status(charger, reported, evse_id=2) == {}
    assert _plugs(db, station) == {1: ConnectorStatus.UNKNOWN, 2: shown}


def test_a_faulted_evse_is_recorded_with_an_error_code(server, station, db):
    with _charger(server, station) as charger:
        _status(charger, "Faulted")
    with db.session() as session:
        error_code = session.scalar(select(Connector.error_code).join(Station).where(
            Station.charge_point_id == station.charge_point_id, Connector.connector_id == 1))
    assert error_code not in (None, "NoError")


def test_each_evse_keeps_its_own_status(server, station, db):
    with _charger(server, station) as charger:
        _status(charger, "Occupied", evse_id=1)
        _status(charger, "Faulted", evse_id=2)
        _status(charger, "Available", evse_id=2)
    assert _plugs(db, station) == {1: ConnectorStatus.PREPARING, 2: ConnectorStatus.AVAILABLE}


def test_an_evse_the_owner_did_not_declare_is_refused_and_not_added(server, station, db):
    with _charger(server, station) as charger:
        answer = charger.call("StatusNotification", {
            "timestamp": now_iso(), "connectorStatus": "Available", "evseId": 3,
            "connectorId": 1})
    assert answer[2] == "PropertyConstraintViolation"
    assert sorted(_plugs(db, station)) == [1, 2]


def test_an_evse_of_a_station_nobody_declared_the_plugs_of_is_added(server, station, db):
    with db.session() as session:
        session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id)).plug_count = None
    with _charger(server, station) as charger:
        _status(charger, "Available", evse_id=3)
    assert _plugs(db, station)[3] == ConnectorStatus.AVAILABLE


def test_an_older_status_replayed_after_a_newer_one_does_not_replace_it(server, station, db):
    with _charger(server, station) as charger:
        _status(charger, "Occupied")
        old = (datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
        _status(charger, "Available", timestamp=old)
    assert _plugs(db, station)[1] == ConnectorStatus.PREPARING


def test_the_other_connector_of_a_busy_evse_turning_unavailable_does_not_hide_the_car(
        server, station, db):
    # A DC EVSE with CCS (connector 1) and CHAdeMO (connector 2): while the car charges on
    # one, the station reports the other Unavailable.
    id_tag = make_card(db, f"G{uuid.uuid4().hex[:10]}")
    with _charger(server, station) as charger:
        _status(charger, "Occupied", evse_id=1, connector_id=1)
        charger.result("TransactionEvent", transaction_event(
            "Started", str(uuid.uuid4()), 0, "Authorized", id_token=id_tag, state="Charging"))
        _status(charger, "Unavailable", evse_id=1, connector_id=2)
    assert _plugs(db, station)[1] == ConnectorStatus.CHARGING


def test_change_availability_through_the_api_returns_the_chargers_answer(server, station):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.configured()
        status, body = command(server, station.charge_point_id, "ChangeAvailability", {
            "operationalStatus": "Inoperative", "evse": {"id": 2}})
        assert charger.cp.received[-1] == ("ChangeAvailability", {
            "operational_status": "Inoperative", "evse": {"id": 2}})
    assert (status, body) == (200, {"status": "Accepted"})


def test_an_evse_taken_out_of_service_shows_unavailable_once_the_charger_says_so(server,
                                                                                  station, db):
    with _charger(server, station) as charger:
        charger.result("Heartbeat", {})  # served: commands can reach it
        reply = in_background(command, server, station.charge_point_id, "ChangeAvailability",
                              {"operationalStatus": "Inoperative", "evse": {"id": 1}})
        asked = charger.expect_call("ChangeAvailability")
        charger.reply(asked, {"status": "Scheduled"})
        assert reply.result(10) == (200, {"status": "Scheduled"})
        _status(charger, "Unavailable", evse_id=1)
    assert asked[3] == {"operationalStatus": "Inoperative", "evse": {"id": 1}}
    assert _plugs(db, station)[1] == ConnectorStatus.UNAVAILABLE


def test_the_1_6_change_availability_payload_is_refused_for_a_2_0_1_charger(server, station):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.configured()
        sent_before = len(charger.cp.received)
        status, _ = command(server, station.charge_point_id, "ChangeAvailability",
                            {"connectorId": 1, "type": "Inoperative"})
        assert len(charger.cp.received) == sent_before
    assert status == 400
