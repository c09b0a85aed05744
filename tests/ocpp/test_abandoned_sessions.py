"""Sessions that would never end: a plug reporting no car under a running transaction, a
station that rebooted and forgot it, a remote start the charger gave up on. The closing
job (:func:`close_abandoned`) runs in-process against the live server's database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from ocpp.v16 import call
from sqlalchemy import select

from tests.factories import make_card
from tests.support.http import api, command
from tests.support.library_charger import LibraryCharger
from tests.support.payloads import now_iso
from tests.support.raw_charger import RawCharger
from voltspot.domain.clock import utcnow
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession
from voltspot.services.charging.lifecycle import (
    ABANDONED_AFTER,
    ENDED_WITHOUT_STOP,
    close_abandoned,
)


def _session(db, transaction_id) -> ChargingSession:
    with db.session() as session:
        return session.scalar(select(ChargingSession).where(
            ChargingSession.transaction_id == transaction_id))


def _close_abandoned(db, after: timedelta) -> None:
    with db.session() as session:
        close_abandoned(session, utcnow() + after)


def _status(charger, status) -> None:
    charger.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                          "status": status, "timestamp": now_iso()})


def _charging(charger, db) -> int:
    charger.boot()
    transaction_id = charger.result("StartTransaction", {
        "connectorId": 1, "idTag": make_card(db), "meterStart": 1000,
        "timestamp": now_iso()})["transactionId"]
    charger.result("MeterValues", {"connectorId": 1, "transactionId": transaction_id,
                                   "meterValue": [{"timestamp": now_iso(), "sampledValue": [
                                       {"value": "1500"}]}]})
    return transaction_id


def test_a_transaction_whose_plug_reports_no_car_past_the_grace_is_closed_and_flagged(
        server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        transaction_id = _charging(charger, db)
        _status(charger, "Available")
    _close_abandoned(db, ABANDONED_AFTER - timedelta(seconds=30))
    assert _session(db, transaction_id).stopped_at is None
    _close_abandoned(db, ABANDONED_AFTER + timedelta(seconds=30))
    closed = _session(db, transaction_id)
    assert (closed.status, closed.stop_reason, closed.energy_wh) == (
        SessionStatus.COMPLETED, ENDED_WITHOUT_STOP, 500)
    assert "without a stop from the charger" in closed.notice


def test_a_stop_that_arrives_after_the_session_was_closed_still_corrects_it(
        server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        transaction_id = _charging(charger, db)
        _status(charger, "Available")
        _close_abandoned(db, ABANDONED_AFTER + timedelta(seconds=30))
        charger.result("StopTransaction", {"transactionId": transaction_id, "meterStop": 1800,
                                           "timestamp": now_iso(), "reason": "EVDisconnected"})
    corrected = _session(db, transaction_id)
    assert (corrected.energy_wh, corrected.stop_reason, corrected.meter_stop_wh,
            corrected.notice) == (800, "EVDisconnected", 1800, None)


@pytest.mark.parametrize(("resumed", "closed"), [(False, True), (True, False)])
def test_a_station_that_rebooted_without_resuming_its_transaction_has_it_closed(
        server, station, db, resumed, closed):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        transaction_id = _charging(charger, db)
        charger.boot()
        if resumed:
            # A second on: the charger writes milliseconds, and its reading could otherwise
            # fall in the millisecond before the boot we recorded to the microsecond.
            resumed_at = (utcnow() + timedelta(seconds=1)).isoformat()
            charger.result("MeterValues", {
                "connectorId": 1, "transactionId": transaction_id,
                "meterValue": [{"timestamp": resumed_at, "sampledValue": [{"value": "1600"}]}]})
    _close_abandoned(db, ABANDONED_AFTER + timedelta(seconds=30))
    assert (_session(db, transaction_id).stopped_at is not None) is closed


def test_a_remote_start_fails_at_once_when_the_plug_goes_back_to_available(server, station):
    with LibraryCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        status, body = command(server, station.charge_point_id, "RemoteStartTransaction",
                               {"idTag": "APP-GIVE-UP", "connectorId": 1})
        assert (status, body["status"]) == (200, "Accepted")
        token = body["sessionToken"]
        for plug in ("Preparing", "Available"):
            charger.send(call.StatusNotification(connector_id=1, error_code="NoError",
                                                 status=plug, timestamp=now_iso()))
        state = api(server, "GET", f"/api/sessions/{token}")[1]
    assert state["status"] == "failed"


def test_a_remote_start_is_not_failed_by_an_available_before_the_cable_came(server, station):
    with LibraryCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        status, body = command(server, station.charge_point_id, "RemoteStartTransaction",
                               {"idTag": "APP-WAIT", "connectorId": 1})
        charger.send(call.StatusNotification(connector_id=1, error_code="NoError",
                                             status="Available", timestamp=now_iso()))
        state = api(server, "GET", f"/api/sessions/{body['sessionToken']}")[1]
    assert state["status"] == "starting"
