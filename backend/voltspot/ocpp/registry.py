"""The chargers connected to this process, by charge point id."""

from __future__ import annotations

import logging
import threading

from voltspot.ocpp.connection import OcppConnection

log = logging.getLogger("voltspot.ocpp")


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

    def __len__(self) -> int:
        return len(self._connections)
