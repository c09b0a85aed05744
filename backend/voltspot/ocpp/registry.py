"""The chargers connected to this process, by charge point id."""

from __future__ import annotations

import logging
import math
import threading
import time

from voltspot.ocpp.connection import OcppConnection

log = logging.getLogger("voltspot.ocpp")

# Keep-alive visits every connection once per ping interval, a share of them each tick:
# pings (and their pongs) spread evenly instead of arriving as one burst per interval.
KEEP_ALIVE_TICK_SECONDS = 1.0


class ConnectionRegistry:
    """Live connections of this process. A charger that reconnects while its old socket
    is still half-open replaces it: the old socket is closed, the new one serves."""

    def __init__(self) -> None:
        self._connections: dict[str, OcppConnection] = {}
        self._lock = threading.Lock()

    def add(self, connection: OcppConnection) -> None:
        with self._lock:
            old = self._connections.get(connection.charge_point_id)
            self._connections[connection.charge_point_id] = connection
        if old is not None:
            log.info("%s: new connection replaces the previous one", connection.charge_point_id)
            old.close(1000, "replaced by a new connection")

    def remove(self, connection: OcppConnection) -> None:
        with self._lock:
            if self._connections.get(connection.charge_point_id) is connection:
                del self._connections[connection.charge_point_id]

    def get(self, charge_point_id: str) -> OcppConnection | None:
        return self._connections.get(charge_point_id)

    def keep_alive(self, interval: float) -> None:
        """Run for ever: each connection's :meth:`~OcppConnection.keep_alive` once every
        ``interval`` seconds, the connections spread over the interval in ticks."""
        ticks = max(1, round(interval / KEEP_ALIVE_TICK_SECONDS))
        while True:
            with self._lock:
                due = list(self._connections.values())
            share = math.ceil(len(due) / ticks)
            for tick in range(ticks):
                time.sleep(interval / ticks)
                for connection in due[tick * share:(tick + 1) * share]:
                    try:
                        connection.keep_alive()
                    except Exception:
                        log.exception("%s: keep-alive failed", connection.charge_point_id)

    def __len__(self) -> int:
        return len(self._connections)
