"""OCPI commands and the outbox with two ``voltspot serve`` processes sharing one database
and the real Redis: the charger's socket is held by one process, the eMSP's commands
reach the other, and each is carried out at the charger (routed through Redis), its
CommandResult pushed once, the session and its one CDR pushed once, whichever process
runs the roaming job."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.support.emsp import Emsp
from tests.support.ocpi import SECRET_KEY, publish_site, register
from tests.support.payloads import now_iso
from tests.support.raw_charger import RawCharger
from tests.support.redis import REDIS_URL
from tests.support.server import LiveServer, fresh_database, start_server, stop_server
from voltspot.db import Database


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(database url, Redis key prefix) of the two processes."""
    prefix = f"test-ocpi-two-{uuid.uuid4().hex}:"
    yield fresh_database(tmp_path_factory.mktemp("ocpi-two-db"), "ocpitwo"), prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="module")
def processes(shared, tmp_path_factory) -> Iterator[dict[str, LiveServer]]:
    database_url, prefix = shared
    logs = tmp_path_factory.mktemp("ocpi-two-logs")
    started = {name: start_server(database_url, logs / f"{name}.log", redis_url=REDIS_URL,
                                  redis_prefix=prefix, presence_ttl="2",
                                  housekeeping_interval="0.3", ocpi_party_id="VSP",
                                  ocpi_country_code="NL", secret_key=SECRET_KEY)
               for name in ("a", "b")}
    yield started
    for server in started.values():
        stop_server(server)


@pytest.fixture(scope="module")
def tdb(shared) -> Iterator[Database]:
    database = Database(shared[0])
    yield database
    database.dispose()


@pytest.fixture
def emsp() -> Iterator[Emsp]:
    peer = Emsp().start()
    yield peer
    peer.stop()


def _next_call(charger: RawCharger, action: str) -> list:
    """The CSMS's next CALL of ``action``; whatever else it asks is answered Accepted."""
    while True:
        frame = charger.receive(timeout=15)
        if frame[0] == 2 and frame[2] == action:
            return frame
        assert frame[0] == 2, frame
        charger.send_raw(json.dumps([3, frame[1], {"status": "Accepted"}]))


def _command(emsp: Emsp, server: LiveServer, name: str, body: dict) -> dict:
    response = emsp.call_cpo("POST", f"{server.base_url}/ocpi/2.2.1/commands/{name}",
                             json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _results(emsp: Emsp, reference: str) -> list:
    return emsp.pushes(f"command_results/{reference}", "POST")


def test_commands_through_one_process_reach_a_charger_on_the_other_and_push_once(
        processes, tdb, emsp: Emsp):
    a, b = processes["a"], processes["b"]
    register(emsp, a, tdb)
    site = publish_site(tdb)
    uid = f"APP{uuid.uuid4().hex[:10].upper()}"
    token = {"country_code": "DE", "party_id": "TMS", "uid": uid, "type": "APP_USER",
             "contract_id": f"DE-TMS-C{uid[-8:]}", "issuer": "Test eMSP", "valid": True,
             "whitelist": "ALLOWED", "last_updated": "2026-12-01T00:00:00Z"}
    with RawCharger(a.ws_url, site.charge_point_id, site.password) as charger:
        charger.boot()
        for connector in (1, 2):
            charger.result("StatusNotification", {"connectorId": connector,
                                                  "errorCode": "NoError",
                                                  "status": "Available"})
        answer = _command(emsp, b, "START_SESSION", {
            "response_url": f"{emsp.base_url}/2.2.1/command_results/start-{uid}",
            "token": token, "location_id": str(site.site_id),
            "evse_uid": str(site.connector_pks[0]), "connector_id": "1"})
        assert answer["result"] == "ACCEPTED"
        frame = _next_call(charger, "RemoteStartTransaction")
        assert frame[3]["idTag"] == uid and frame[3]["connectorId"] == 1
        charger.send_raw(json.dumps([3, frame[1], {"status": "Accepted"}]))
        assert emsp.wait_for(lambda: _results(emsp, f"start-{uid}"))[0].body["result"] == \
            "ACCEPTED"
        begun = charger.result("StartTransaction", {"connectorId": 1, "idTag": uid,
                                                    "meterStart": 1000,
                                                    "timestamp": now_iso()})
        assert begun["idTagInfo"]["status"] == "Accepted"
        put = emsp.wait_for(lambda: [r for r in emsp.pushes("sessions", "PUT")
                                     if r.body["cdr_token"]["uid"] == uid])
        session_id = put[0].body["id"]

        answer = _command(emsp, b, "UNLOCK_CONNECTOR", {
            "response_url": f"{emsp.base_url}/2.2.1/command_results/unlock-{uid}",
            "location_id": str(site.site_id), "evse_uid": str(site.connector_pks[1]),
            "connector_id": "1"})
        assert answer["result"] == "ACCEPTED"
        frame = _next_call(charger, "UnlockConnector")
        assert frame[3] == {"connectorId": 2}
        charger.send_raw(json.dumps([3, frame[1], {"status": "Unlocked"}]))
        assert emsp.wait_for(lambda: _results(emsp, f"unlock-{uid}"))[0].body["result"] == \
            "ACCEPTED"

        answer = _command(emsp, b, "STOP_SESSION", {
            "response_url": f"{emsp.base_url}/2.2.1/command_results/stop-{uid}",
            "session_id": session_id})
        assert answer["result"] == "ACCEPTED"
        frame = _next_call(charger, "RemoteStopTransaction")
        assert frame[3] == {"transactionId": begun["transactionId"]}
        charger.send_raw(json.dumps([3, frame[1], {"status": "Accepted"}]))
        assert emsp.wait_for(lambda: _results(emsp, f"stop-{uid}"))[0].body["result"] == \
            "ACCEPTED"
        charger.result("StopTransaction", {"transactionId": begun["transactionId"],
                                           "meterStop": 6000, "timestamp": now_iso(),
                                           "reason": "Remote"})
    cdrs = emsp.wait_for(lambda: [r for r in emsp.pushes("cdrs", "POST")
                                  if r.body["cdr_token"]["uid"] == uid])
    assert cdrs[0].body["total_energy"] == 5.0
    time.sleep(2)  # a second process's job would push a duplicate within this
    assert len([r for r in emsp.pushes("cdrs", "POST")
                if r.body["cdr_token"]["uid"] == uid]) == 1
    for reference in (f"start-{uid}", f"unlock-{uid}", f"stop-{uid}"):
        assert len(_results(emsp, reference)) == 1, reference
    assert len([r for r in emsp.pushes("sessions", "PUT")
                if r.body["cdr_token"]["uid"] == uid]) == 1
    assert emsp.violations == []
