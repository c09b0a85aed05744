"""Fixtures for the cluster parts: the real Redis (VOLTSPOT_TEST_REDIS_URL, default the
local one), each test under a key prefix of its own, and chargers on real sockets."""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import simple_websocket
from websockets.sync.server import ServerConnection, serve

from tests.support.redis import REDIS_URL
from voltspot.cluster.node import RedisNode, connect
from voltspot.domain.protocol import OcppVersion
from voltspot.ocpp.connection import OcppConnection, ReadByTheConnection
from voltspot.ocpp.control import OcppChargerControl
from voltspot.ocpp.registry import ConnectionRegistry


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards."""
    value = f"test-cluster-{uuid.uuid4().hex}:"
    yield value
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=value + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture
def make_node(prefix: str) -> Iterator[Callable[[str], RedisNode]]:
    """``make_node(name)``: a process named ``name`` under this test's prefix."""
    clients: list[redis.Redis] = []

    def make(name: str) -> RedisNode:
        client = connect(REDIS_URL)
        clients.append(client)
        return RedisNode(client, name, prefix)

    yield make
    for client in clients:
        client.close()


class ChargerEnd:
    """The charger's end of a real WebSocket: answers the CSMS's CALLs from ``answers``
    (action → ("result", payload) | ("error", code) | ("silent", None))."""

    def __init__(self, answers: dict[str, tuple[str, Any]]) -> None:
        self.answers = answers
        self.received: list[list] = []

    def handle(self, websocket: ServerConnection) -> None:
        for text in websocket:
            frame = json.loads(text)
            self.received.append(frame)
            kind, value = self.answers.get(frame[2], ("error", "NotImplemented"))
            if kind == "result":
                websocket.send(json.dumps([3, frame[1], value]))
            elif kind == "error":
                websocket.send(json.dumps([4, frame[1], value, "", {}]))


class LocalSockets:
    """A process's own sockets: chargers connected to an :class:`OcppChargerControl`."""

    def __init__(self, timeout: float) -> None:
        self.registry = ConnectionRegistry()
        self.control = OcppChargerControl(self.registry, timeout)
        self.timeout = timeout
        self._servers: list[Any] = []
        self._connections: list[OcppConnection] = []

    def connect(self, charge_point_id: str, answers: dict[str, tuple[str, Any]]
                ) -> tuple[OcppConnection, ChargerEnd]:
        """Connect a charger answering ``answers``; returns this process's connection."""
        charger = ChargerEnd(answers)
        server = serve(charger.handle, "127.0.0.1", 0, subprotocols=["ocpp1.6"])
        self._servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.socket.getsockname()[1]
        # As in the gateway, the connection reads its socket itself.
        websocket = simple_websocket.Client.connect(f"ws://127.0.0.1:{port}/ocpp/{charge_point_id}",
                                                    subprotocols=["ocpp1.6"],
                                                    thread_class=ReadByTheConnection)
        connection = OcppConnection(websocket, charge_point_id, OcppVersion.V16, object(),
                                    connection_id=uuid.uuid4().hex,
                                    frame_log=lambda direction, frame: None,
                                    response_timeout=self.timeout)
        threading.Thread(target=self._serve, args=(connection,), daemon=True).start()
        self.registry.add(connection)
        self._connections.append(connection)
        return connection, charger

    @staticmethod
    def _serve(connection: OcppConnection) -> None:
        # As in the gateway, the socket closing ends the connection.
        with contextlib.suppress(simple_websocket.ConnectionClosed):
            connection.serve()

    def close(self) -> None:
        for connection in self._connections:
            connection.close()
        for server in self._servers:
            server.shutdown()


@pytest.fixture
def local_sockets() -> Iterator[Callable[[float], LocalSockets]]:
    made: list[LocalSockets] = []

    def make(timeout: float = 2.0) -> LocalSockets:
        sockets = LocalSockets(timeout)
        made.append(sockets)
        return sockets

    yield make
    for sockets in made:
        sockets.close()
