"""What a station that is not Accepted may do, and connector ids a station cannot have."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import make_card
from tests.support.http import command
from tests.support.payloads import now_iso
from tests.support.raw_charger import RawCharger, RawCharger201
from voltspot.domain.statuses import Registration
from voltspot.models import ChargingSession, Connector, Station


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
