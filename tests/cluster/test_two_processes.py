"""Two ``voltspot serve`` processes sharing one database and the real Redis: a charger on
one is commanded through the other, reconnects elsewhere, and survives its process being
killed.

The database is VOLTSPOT_CLUSTER_DATABASE_URL when set (a PostgreSQL database of its own,
emptied first), else a fresh one beside the suite's (a SQLite file, or a sibling database
on the suite's PostgreSQL).
"""

from __future__ import annotations

import json
import os
import signal
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import text

from tests.support.http import api, command
from tests.support.raw_charger import RawCharger, RawCharger201
from tests.support.redis import REDIS_URL
from tests.support.server import LiveServer, fresh_database, start_server, stop_server
from tests.support.waiting import eventually, in_background
from tests.web.test_security_stations import handshake
from voltspot.db import Database
from voltspot.migrate import upgrade
from voltspot.services.stations.registry import register_station

PRESENCE_TTL = 2


def _cluster_database(tmp_root) -> str:
    url = os.environ.get("VOLTSPOT_CLUSTER_DATABASE_URL", "")
    if not url:
        return fresh_database(tmp_root, "cluster")
    database = Database(url)
    with database.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    database.dispose()
    upgrade(url)
    return url


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(database url, Redis key prefix) shared by the processes of this module."""
    prefix = f"test-two-{uuid.uuid4().hex}:"
    yield _cluster_database(tmp_path_factory.mktemp("cluster-db")), prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def _start(shared: tuple[str, str], log_dir, name: str) -> LiveServer:
    database_url, prefix = shared
    return start_server(database_url, log_dir / f"{name}.log", redis_url=REDIS_URL,
                        redis_prefix=prefix, presence_ttl=str(PRESENCE_TTL),
                        housekeeping_interval="0.5")


@pytest.fixture(scope="module")
def processes(shared, tmp_path_factory) -> Iterator[dict[str, LiveServer]]:
    log_dir = tmp_path_factory.mktemp("cluster-logs")
    started = {name: _start(shared, log_dir, name) for name in ("a", "b")}
    yield started
    for process in started.values():
        if process.process.poll() is None:
            stop_server(process)


@pytest.fixture
def station(shared) -> tuple[str, str]:
    database = Database(shared[0])
    charge_point_id = f"CL-{uuid.uuid4().hex[:8]}"
    with database.session() as session:
        _, password = register_station(session, site_name="Cluster site",
                                       charge_point_id=charge_point_id, connectors=2)
    database.dispose()
    return charge_point_id, password


def _booted(server: LiveServer, charge_point_id: str, password: str) -> RawCharger:
    charger = RawCharger(server.ws_url, charge_point_id, password)
    charger.boot()
    charger.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                          "status": "Available"})
    return charger


def _next_call(charger: RawCharger, action: str) -> list:
    while True:
        frame = charger.receive(timeout=10)
        if frame[0] == 2 and frame[2] == action:
            return frame
        assert frame[0] == 2, frame
        # Whatever else the CSMS asks after a boot is answered as a plain charger would.
        charger.send_raw(json.dumps([3, frame[1], {"status": "Accepted"}]))


def _connected(server: LiveServer, charge_point_id: str) -> bool:
    status, body = api(server, "GET", f"/api/stations/{charge_point_id}")
    assert status == 200, body
    return body["connected"]


def test_a_remote_start_from_one_process_reaches_a_charger_on_the_other(processes, station):
    a, b = processes["a"], processes["b"]
    charge_point_id, password = station
    with _booted(a, charge_point_id, password) as charger:
        answer = in_background(command, b, charge_point_id, "RemoteStartTransaction",
                               {"idTag": "CLUSTER-1", "connectorId": 1})
        frame = _next_call(charger, "RemoteStartTransaction")
        assert frame[3] == {"idTag": "CLUSTER-1", "connectorId": 1}
        charger.send_raw(json.dumps([3, frame[1], {"status": "Accepted"}]))
        status, body = answer.result(timeout=15)
        assert (status, body["status"]) == (200, "Accepted")
        assert body["sessionToken"]


def test_a_remote_start_from_one_process_reaches_a_2_0_1_charger_on_the_other(processes,
                                                                             station):
    a, b = processes["a"], processes["b"]
    charge_point_id, password = station
    with RawCharger201(a.ws_url, charge_point_id, password) as charger:
        charger.boot()
        charger.settle()
        answer = in_background(command, b, charge_point_id, "RequestStartTransaction",
                               {"idToken": {"idToken": "CLUSTER-201", "type": "Central"},
                                "evseId": 1})
        frame = charger.expect_call("RequestStartTransaction", timeout=10)
        assert frame[3]["idToken"]["idToken"] == "CLUSTER-201"
        charger.reply(frame, {"status": "Accepted"})
        status, body = answer.result(timeout=15)
        assert (status, body["status"]) == (200, "Accepted")


def test_a_driver_page_on_one_process_hears_of_a_charger_on_the_other(processes, station):
    a, b = processes["a"], processes["b"]
    charge_point_id, password = station
    with _booted(a, charge_point_id, password) as charger:
        answer = in_background(command, b, charge_point_id, "RemoteStartTransaction",
                               {"idTag": "CLUSTER-2", "connectorId": 1})
        frame = _next_call(charger, "RemoteStartTransaction")
        charger.send_raw(json.dumps([3, frame[1], {"status": "Accepted"}]))
        token = answer.result(timeout=15)[1]["sessionToken"]
        with urllib.request.urlopen(f"{b.base_url}/sessions/{token}/events",
                                    timeout=10) as stream:
            assert stream.readline() == b"retry: 2000\n"
            assert stream.readline() == b"\n"
            charger.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                  "status": "Preparing"})
            assert stream.readline() == b"event: changed\n"
            assert stream.readline() == b"data: StatusNotification\n"


def test_a_charger_call_error_reaches_the_other_process_as_the_same_error(processes, station):
    a, b = processes["a"], processes["b"]
    charge_point_id, password = station
    with _booted(a, charge_point_id, password) as charger:
        answer = in_background(command, b, charge_point_id, "ClearCache", {})
        frame = _next_call(charger, "ClearCache")
        charger.send_raw(json.dumps([4, frame[1], "NotSupported", "no cache here", {}]))
        status, body = answer.result(timeout=15)
        assert status == 502
        assert body["ocppError"] == "NotSupported"


def test_a_charger_that_does_not_answer_is_no_answer_from_the_other_process(processes, station):
    a, b = processes["a"], processes["b"]
    charge_point_id, password = station
    with _booted(a, charge_point_id, password) as charger:
        answer = in_background(command, b, charge_point_id, "ClearCache", {})
        _next_call(charger, "ClearCache")
        status, body = answer.result(timeout=20)
        assert status == 504
        assert "no answer to ClearCache in 3 s" in body["error"]


def test_a_charger_reconnecting_to_the_other_process_has_its_old_socket_closed(
        processes, station):
    a, b = processes["a"], processes["b"]
    charge_point_id, password = station
    with _booted(a, charge_point_id, password) as old, \
            _booted(b, charge_point_id, password) as new:
        eventually(lambda: _closed(old), seconds=PRESENCE_TTL + 3)
        answer = in_background(command, a, charge_point_id, "ClearCache", {})
        frame = _next_call(new, "ClearCache")
        new.send_raw(json.dumps([3, frame[1], {"status": "Accepted"}]))
        assert answer.result(timeout=15) == (200, {"status": "Accepted"})
        assert _connected(a, charge_point_id)


def _closed(charger: RawCharger) -> bool:
    try:
        charger.ws.recv(timeout=0.1)
    except TimeoutError:
        return False
    except Exception:  # noqa: BLE001 - any end of the socket is what we wait for
        return True
    return False


def _holder(prefix: str, kind: str, name: str) -> str | None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        value = client.get(f"{prefix}{kind}:{name}")
    finally:
        client.close()
    return value.decode() if value is not None else None


def test_failed_basic_auth_for_a_station_is_throttled_across_processes(processes, station):
    """Wrong passwords alternating between the processes: neither alone has had more than
    its five free failures when the seventh try is refused, and then the right password
    waits too."""
    charge_point_id, password = station
    servers = (processes["a"], processes["b"])
    answers = [handshake(servers[n % 2], charge_point_id, f"wrong-password-{n:04d}")[0]
               for n in range(8)]
    assert answers[:6] == [401] * 6
    assert 429 in answers[6:]
    assert handshake(processes["b"], charge_point_id, password)[0] == 429


def test_after_its_process_is_killed_a_charger_reconnects_to_the_other_and_stays_commanded(
        processes, station, shared):
    a, b = processes["a"], processes["b"]
    charge_point_id, password = station
    prefix = shared[1]
    with _booted(a, charge_point_id, password):
        node_a = _holder(prefix, "station", charge_point_id)
        assert node_a is not None
        # Make process A run every once-only job: B cannot take them while A lives.
        b.process.send_signal(signal.SIGSTOP)
        try:
            eventually(lambda: all(_holder(prefix, "job", job) == node_a
                                   for job in ("payments", "presence")),
                       seconds=3 * PRESENCE_TTL + 5)
        finally:
            b.process.send_signal(signal.SIGCONT)
        a.process.send_signal(signal.SIGKILL)
        a.process.wait(timeout=10)
        # Nobody holds the socket: every process soon says so.
        eventually(lambda: not _connected(b, charge_point_id), seconds=PRESENCE_TTL + 5)
        assert command(b, charge_point_id, "ClearCache", {})[0] == 409
        # ... and the once-only jobs run on B now.
        eventually(lambda: all(_holder(prefix, "job", job) not in (None, node_a)
                               for job in ("payments", "presence")),
                   seconds=PRESENCE_TTL + 5)
    with _booted(b, charge_point_id, password) as charger:
        assert _connected(b, charge_point_id)
        answer = in_background(command, b, charge_point_id, "ClearCache", {})
        frame = _next_call(charger, "ClearCache")
        charger.send_raw(json.dumps([3, frame[1], {"status": "Accepted"}]))
        assert answer.result(timeout=15) == (200, {"status": "Accepted"})

