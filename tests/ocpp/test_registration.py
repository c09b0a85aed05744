"""What a station that is not Accepted may do, and connector ids a station cannot have."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.factories import make_card
from tests.support.http import command
from tests.support.payloads import now_iso
from tests.support.raw_charger import RawCharger, RawCharger201
from tests.support.waiting import eventually
from voltspot.domain.statuses import Registration
from voltspot.models import ChargingSession, Connector, Station
from voltspot.services.stations.registry import MAX_LEARNT_PLUGS


def _register_as(db, station, registration: Registration) -> None:
    with db.session() as session:
        session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id)).registration = registration


def _count(db, station, model) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(model.id)).join(Station).where(
            Station.charge_point_id == station.charge_point_id))


@pytest.mark.parametrize("registration", [Registration.PENDING, Registration.REJECTED])
def test_a_1_6_station_not_accepted_gets_no_transaction_recorded(
        server, station, db, registration):
    _register_as(db, station, registration)
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        assert charger.boot()["status"] == registration
        started = charger.result("StartTransaction", {
            "connectorId": 1, "idTag": make_card(db), "meterStart": 0, "timestamp": now_iso()})
    assert started["idTagInfo"]["status"] == "Invalid"
    assert _count(db, station, ChargingSession) == 0


@pytest.mark.parametrize("registration", [Registration.PENDING, Registration.REJECTED])
def test_a_2_0_1_station_not_accepted_gets_security_error_but_may_boot_and_report(
        server, station, db, registration):
    _register_as(db, station, registration)
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        assert charger.call("StatusNotification", {
            "timestamp": now_iso(), "connectorStatus": "Occupied", "evseId": 1,
            "connectorId": 1})[2] == "SecurityError"
        assert charger.boot()["status"] == registration
        assert charger.call("Heartbeat", {})[2] == "SecurityError"
        assert charger.result("NotifyReport", {"requestId": 1, "generatedAt": now_iso(),
                                               "seqNo": 0}) == {}


@pytest.mark.parametrize("connector_id", [-1, 33, 2**31 - 1])
def test_a_status_for_a_connector_id_no_station_has_is_refused_and_adds_no_plug(
        server, station, db, connector_id):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        answer = charger.call("StatusNotification", {"connectorId": connector_id,
                                                     "errorCode": "NoError",
                                                     "status": "Available"})
    assert answer[2] == "PropertyConstraintViolation"
    assert _count(db, station, Connector) == 2


def test_a_2_0_1_status_for_an_evse_no_station_has_is_refused_and_adds_no_plug(
        server, station, db):
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.settle()
        answer = charger.call("StatusNotification", {
            "timestamp": now_iso(), "connectorStatus": "Available", "evseId": 49,
            "connectorId": 1})
    assert answer[2] == "PropertyConstraintViolation"
    assert _count(db, station, Connector) == 2


@pytest.mark.parametrize("charger_class", [RawCharger, RawCharger201])
def test_the_api_refuses_to_command_a_rejected_station_and_sends_it_nothing(
        server, station, db, charger_class):
    _register_as(db, station, Registration.REJECTED)
    with charger_class(server.ws_url, station.charge_point_id, station.password) as charger:
        assert charger.boot()["status"] == "Rejected"
        action = "Reset" if charger_class is RawCharger else "ClearCache"
        payload = {"type": "Soft"} if charger_class is RawCharger else {}
        status, body = command(server, station.charge_point_id, action, payload)
        assert status == 409
        assert "rejected" in body["error"]
        with pytest.raises(TimeoutError):
            charger.receive(timeout=0.5)


def _forget_plug_count(db, station) -> None:
    """As for a station registered before plug counts were kept: nobody declared them."""
    with db.session() as session:
        session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id)).plug_count = None


def _plug_numbers(db, station) -> list[int]:
    with db.session() as session:
        return list(session.scalars(select(Connector.connector_id).join(Station).where(
            Station.charge_point_id == station.charge_point_id).order_by(
            Connector.connector_id)))


def _status(charger, connector_id: int) -> list:
    return charger.call("StatusNotification", {"connectorId": connector_id,
                                               "errorCode": "NoError", "status": "Available"})


def test_a_station_nobody_declared_plugs_for_learns_them_up_to_the_cap(server, station, db):
    _forget_plug_count(db, station)
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        assert _status(charger, 3)[0] == 3
        assert _status(charger, MAX_LEARNT_PLUGS)[0] == 3
        assert _status(charger, MAX_LEARNT_PLUGS + 1)[2] == "PropertyConstraintViolation"
        assert _status(charger, 0)[0] == 3
    assert _plug_numbers(db, station) == [1, 2, 3, MAX_LEARNT_PLUGS]


def test_a_refused_status_is_logged_with_the_station_id(server, station):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        assert _status(charger, 3)[2] == "PropertyConstraintViolation"
    assert eventually(lambda: f"{station.charge_point_id}: status for connector 3 refused"
                      in server.log())


def test_a_1_6_station_nobody_declared_plugs_for_is_asked_its_number_of_connectors(
        server, station, db):
    _forget_plug_count(db, station)
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        asked = charger.receive(timeout=10)
        assert asked[2:] == ["GetConfiguration", {"key": ["NumberOfConnectors"]}]
        charger.send_raw(json.dumps([3, asked[1], {"configurationKey": [
            {"key": "NumberOfConnectors", "readonly": True, "value": "3"}]}]))
        assert eventually(lambda: _plug_count(db, station) == 3)
        assert _status(charger, 3)[0] == 3
        assert _status(charger, 4)[2] == "PropertyConstraintViolation"
    assert _plug_numbers(db, station) == [1, 2, 3]


def test_a_1_6_station_with_declared_plugs_is_not_asked_how_many_it_has(server, station):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        with pytest.raises(TimeoutError):
            charger.receive(timeout=1)


def _plug_count(db, station) -> int | None:
    with db.session() as session:
        return session.scalar(select(Station.plug_count).where(
            Station.charge_point_id == station.charge_point_id))


def _evse_status(charger, evse_id: int, connector_id: int = 1) -> list:
    return charger.call("StatusNotification", {
        "timestamp": now_iso(), "connectorStatus": "Available", "evseId": evse_id,
        "connectorId": connector_id})


def test_a_2_0_1_status_for_an_evse_beyond_the_declared_plugs_is_refused(server, station, db):
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.settle()
        assert _evse_status(charger, 2)[0] == 3
        assert _evse_status(charger, 3)[2] == "PropertyConstraintViolation"
    assert _plug_numbers(db, station) == [1, 2]


@pytest.mark.parametrize("connector_id", [-1, 0, 9])
def test_a_2_0_1_status_for_a_connector_no_evse_has_is_refused(server, station, db,
                                                               connector_id):
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.settle()
        assert _evse_status(charger, 1, connector_id)[2] == "PropertyConstraintViolation"


def test_a_2_0_1_station_nobody_declared_plugs_for_takes_its_evses_from_its_device_model(
        server, station, db):
    _forget_plug_count(db, station)
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.settle()
        evse = [{"component": {"name": "EVSE", "evse": {"id": n}},
                 "variable": {"name": "AvailabilityState"},
                 "variableAttribute": [{"value": "Available"}]} for n in (1, 2, 3)]
        for seq_no, (items, tbc) in enumerate(((evse[:2], True), (evse[2:], False))):
            assert charger.result("NotifyReport", {
                "requestId": 1, "generatedAt": now_iso(), "seqNo": seq_no, "tbc": tbc,
                "reportData": items}) == {}
        assert _plug_count(db, station) == 3
        assert _evse_status(charger, 3)[0] == 3
        assert _evse_status(charger, 4)[2] == "PropertyConstraintViolation"
    assert _plug_numbers(db, station) == [1, 2, 3]
