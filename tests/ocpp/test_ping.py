"""Half-open sockets: a charger that stops answering WebSocket pings is disconnected
within two ping intervals (VOLTSPOT_OCPP_PING_INTERVAL)."""

from __future__ import annotations

import base64
import os
import socket
import time
import urllib.parse
from collections.abc import Iterator

import pytest

from tests.support.http import api, basic_auth
from tests.support.raw_charger import RawCharger
from tests.support.server import LiveServer, start_server, stop_server
from tests.support.waiting import eventually

PING_INTERVAL = 1


@pytest.fixture(scope="module")
def pinging_server(database_url, tmp_path_factory) -> Iterator[LiveServer]:
    live = start_server(database_url, tmp_path_factory.mktemp("logs") / "ping.log",
                        ocpp_ping_interval=str(PING_INTERVAL))
    yield live
    stop_server(live)


def _silent_socket(server: LiveServer, charge_point_id: str, password: str) -> socket.socket:
    """A WebSocket opened by hand that then never reads again: it answers no ping, as a
    charger whose network vanished without a word."""
    address = urllib.parse.urlsplit(server.base_url)
    sock = socket.create_connection((address.hostname, address.port), timeout=5)
    headers = {"Host": address.netloc, "Upgrade": "websocket", "Connection": "Upgrade",
               "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
               "Sec-WebSocket-Version": "13", "Sec-WebSocket-Protocol": "ocpp1.6",
               **basic_auth(charge_point_id, password)}
    request = f"GET /ocpp/{charge_point_id} HTTP/1.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    sock.sendall(request.encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1024)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


def _connected(server: LiveServer, charge_point_id: str) -> bool:
    return api(server, "GET", f"/api/stations/{charge_point_id}")[1]["connected"]


def test_a_socket_that_answers_no_ping_is_closed_and_its_station_goes_offline(
        pinging_server, station):
    sock = _silent_socket(pinging_server, station.charge_point_id, station.password)
    try:
        eventually(lambda: _connected(pinging_server, station.charge_point_id), seconds=5)
        eventually(lambda: not _connected(pinging_server, station.charge_point_id),
                   seconds=2 * PING_INTERVAL + 3)
    finally:
        sock.close()


def test_a_charger_that_answers_pings_stays_connected(pinging_server, station):
    with RawCharger(pinging_server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        # The client library answers pings on its own, as chargers do.
        time.sleep(3 * PING_INTERVAL)
        assert _connected(pinging_server, station.charge_point_id)
