"""Half-open sockets: a charger silent for a ping interval (VOLTSPOT_OCPP_PING_INTERVAL)
is pinged, and one that leaves the ping unanswered is disconnected by the next round;
a charger that keeps talking is never pinged."""

from __future__ import annotations

import json
import socket
import time
import urllib.parse
from collections.abc import Iterator

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Ping, Request, TextMessage

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


def _connected(server: LiveServer, charge_point_id: str) -> bool:
    return api(server, "GET", f"/api/stations/{charge_point_id}")[1]["connected"]


def test_a_socket_that_answers_no_ping_is_closed_and_its_station_goes_offline(
        pinging_server, station):
    # Opened, then never read again: it answers no ping, as a charger whose network
    # vanished without a word.
    charger = _WireCharger(pinging_server, station.charge_point_id, station.password)
    try:
        eventually(lambda: _connected(pinging_server, station.charge_point_id), seconds=5)
        eventually(lambda: not _connected(pinging_server, station.charge_point_id),
                   seconds=3 * PING_INTERVAL + 3)
    finally:
        charger.close()


def test_a_charger_that_answers_pings_stays_connected(pinging_server, station):
    with RawCharger(pinging_server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        # The client library answers pings on its own, as chargers do.
        time.sleep(3 * PING_INTERVAL)
        assert _connected(pinging_server, station.charge_point_id)


class _WireCharger:
    """A charger's WebSocket spoken frame by frame (wsproto on a plain socket), so the
    test sees each ping the server sends; it answers none on its own."""

    def __init__(self, server: LiveServer, charge_point_id: str, password: str) -> None:
        address = urllib.parse.urlsplit(server.base_url)
        self.sock = socket.create_connection((address.hostname, address.port), timeout=5)
        self.ws = WSConnection(ConnectionType.CLIENT)
        auth = basic_auth(charge_point_id, password)["Authorization"]
        self.sock.sendall(self.ws.send(Request(
            host=address.netloc, target=f"/ocpp/{charge_point_id}", subprotocols=["ocpp1.6"],
            extra_headers=[(b"authorization", auth.encode())])))
        accepted = self._events(until=lambda event: isinstance(event, AcceptConnection))
        assert any(isinstance(event, AcceptConnection) for event in accepted), accepted

    def _events(self, until, seconds: float = 5.0) -> list:
        seen: list = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            self.ws.receive_data(data)
            seen.extend(self.ws.events())
            if any(until(event) for event in seen):
                break
        return seen

    def listen(self, seconds: float) -> list:
        """Every WebSocket event of the next ``seconds``."""
        return self._events(until=lambda event: False, seconds=seconds)

    def heartbeat(self, unique_id: str) -> list:
        """Send a Heartbeat; the events up to and including its answer."""
        self.sock.sendall(self.ws.send(TextMessage(json.dumps([2, unique_id, "Heartbeat", {}]))))
        return self._events(until=lambda event: isinstance(event, TextMessage)
                            and unique_id in event.data)

    def close(self) -> None:
        self.sock.close()


def test_a_silent_charger_is_pinged(pinging_server, station):
    charger = _WireCharger(pinging_server, station.charge_point_id, station.password)
    try:
        events = charger.listen(2 * PING_INTERVAL + 1)
        assert any(isinstance(event, Ping) for event in events), events
    finally:
        charger.close()


def test_a_charger_that_keeps_talking_is_not_pinged(pinging_server, station):
    charger = _WireCharger(pinging_server, station.charge_point_id, station.password)
    try:
        events: list = []
        for n in range(int(4 * PING_INTERVAL / 0.25)):
            events += charger.heartbeat(f"hb-{n}")
            time.sleep(0.25)
        assert not any(isinstance(event, Ping) for event in events), events
        assert _connected(pinging_server, station.charge_point_id)
    finally:
        charger.close()
