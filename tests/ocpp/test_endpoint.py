"""The OCPP endpoint: who may connect, which protocol, and what a bad frame does."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import update
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from werkzeug.security import generate_password_hash

from tests.factories import make_station
from tests.support.http import basic_auth
from tests.support.raw_charger import RawCharger
from voltspot.models import Station
from voltspot.services.stations import registry


def test_a_registered_station_with_its_password_connects_over_ocpp16(server, station):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        assert charger.ws.subprotocol == "ocpp1.6"
        assert charger.boot()["status"] == "Accepted"


def test_a_wrong_password_is_refused_with_401_before_the_upgrade(server, station):
    with pytest.raises(InvalidStatus) as refused:
        RawCharger(server.ws_url, station.charge_point_id, "not-the-password-at-all")
    assert refused.value.response.status_code == 401


def test_a_missing_password_is_refused_with_401(server, station):
    with pytest.raises(InvalidStatus) as refused:
        RawCharger(server.ws_url, station.charge_point_id, None)
    assert refused.value.response.status_code == 401


def test_an_unknown_station_is_refused_with_401(server):
    with pytest.raises(InvalidStatus) as refused:
        RawCharger(server.ws_url, "NEVER-REGISTERED", "some-password-1234567")
    assert refused.value.response.status_code == 401


def test_a_username_other_than_the_charge_point_id_is_refused(server, station):
    with pytest.raises(InvalidStatus) as refused:
        connect(f"{server.ws_url}/{station.charge_point_id}", subprotocols=["ocpp1.6"],
                additional_headers=basic_auth("someone-else", station.password), legacy=True)
    assert refused.value.response.status_code == 401


def test_a_charger_offering_no_protocol_we_speak_is_closed_with_1002(server, station):
    ws = connect(f"{server.ws_url}/{station.charge_point_id}", subprotocols=["ocpp1.2"],
                 additional_headers=basic_auth(station.charge_point_id, station.password),
                 legacy=True)
    with pytest.raises(ConnectionClosed):
        ws.recv(timeout=5)
    assert ws.close_code == 1002


@pytest.mark.parametrize(("frame", "code"), [
    ("this is not json", "FormationViolation"),
    ('{"an": "object"}', "ProtocolError"),
    ("[]", "ProtocolError"),
    ('[7, "x1", "Heartbeat", {}]', "PropertyConstraintViolation"),
    ('[2, "x2", "Heartbeat"]', "ProtocolError"),
    ('[2, "x3", "NoSuchAction", {}]', "NotImplemented"),
    ('[2, "x4", "Heartbeat", {"unexpected": 1}]', "FormationViolation"),
    ('[2, "x5", "StatusNotification", {"connectorId": "one", "errorCode": "NoError", '
     '"status": "Available"}]', "TypeConstraintViolation"),
    ('[2, "x6", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", '
     '"status": "Sleeping"}]', "PropertyConstraintViolation"),
    ('[2, "x7", "StatusNotification", {"connectorId": 1, "status": "Available"}]',
     "OccurenceConstraintViolation"),
    ('[2, "x8", "Authorize", {"idTag": "THIS-TAG-IS-LONGER-THAN-TWENTY"}]',
     "TypeConstraintViolation"),
    ('[2, "x9", "StartTransaction", {"connectorId": 1, "idTag": "A", "meterStart": 0, '
     '"timestamp": "yesterday"}]', "PropertyConstraintViolation"),
])
def test_a_bad_frame_gets_its_ocpp_call_error_and_the_connection_keeps_working(
        server, station, frame, code):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.send_raw(frame)
        reply = charger.receive()
        assert reply[0] == 4
        assert reply[2] == code
        assert "currentTime" in charger.result("Heartbeat", {})


def test_an_action_of_ocpp16_that_a_csms_does_not_receive_is_not_supported(server, station):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        assert charger.call("ReserveNow", {})[2] == "NotSupported"


def test_a_result_to_nothing_we_sent_is_ignored(server, station):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.send_raw(json.dumps([3, "never-sent", {}]))
        charger.send_raw(json.dumps([4, "never-sent-either", "GenericError", "", {}]))
        assert "currentTime" in charger.result("Heartbeat", {})


def test_a_frame_over_64_kib_closes_the_socket_with_1009(server, station):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.send_raw(json.dumps([2, "big", "DataTransfer",
                                     {"vendorId": "X", "data": "x" * 70000}]))
        with pytest.raises(ConnectionClosed):
            charger.receive()
        assert charger.ws.close_code == 1009


def test_a_misbehaving_charger_does_not_disturb_another(server, station, db):
    other = make_station(db, connectors=1, charge_point_id=station.charge_point_id + "-b")
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as bad, \
            RawCharger(server.ws_url, other.charge_point_id, other.password) as good:
        for frame in ["{", "[2]", '[2, "a", "Nope", {}]', "x" * 70000]:
            bad.send_raw(frame)
        assert good.boot()["status"] == "Accepted"
        assert "currentTime" in good.result("Heartbeat", {})


def test_a_reconnect_replaces_the_half_open_socket(server, station):
    first = RawCharger(server.ws_url, station.charge_point_id, station.password)
    first.boot()
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as second:
        assert second.boot()["status"] == "Accepted"
        with pytest.raises(ConnectionClosed):
            first.receive(timeout=5)
        assert "currentTime" in second.result("Heartbeat", {})


def test_a_password_accepted_once_is_refused_after_the_station_gets_a_new_one(
        server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        assert charger.boot()["status"] == "Accepted"
    with db.session() as session:
        session.execute(update(Station).where(
            Station.charge_point_id == station.charge_point_id).values(
            password_hash=generate_password_hash("a-brand-new-password-42")))
    with pytest.raises(InvalidStatus) as refused:
        RawCharger(server.ws_url, station.charge_point_id, station.password)
    assert refused.value.response.status_code == 401
    with RawCharger(server.ws_url, station.charge_point_id, "a-brand-new-password-42") as again:
        assert again.boot()["status"] == "Accepted"


def test_the_verified_password_cache_keeps_no_plaintext_password(station, db):
    admitted = registry.admit(db, station.charge_point_id, station.password,
                              accept_unknown=False)
    assert admitted.access == registry.Access.ALLOWED
    keys = list(registry._verified._outcomes)
    assert keys
    assert not any(station.password in str(key) for key in keys)


def test_the_ocpp_package_loads_without_the_process_runtime():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, voltspot.ocpp.gateway, voltspot.ocpp.control; "
         "print('voltspot.runtime' in sys.modules)"],
        capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"
