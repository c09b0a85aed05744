"""ChargerControl over the OCPP connections this process holds."""

from __future__ import annotations

from typing import Any

from ocpp.exceptions import OCPPError

from voltspot.ocpp.registry import ConnectionRegistry
from voltspot.services.charger_control import (
    COMMANDS_V16,
    StationOffline,
    UnknownCommand,
)


class OcppChargerControl:
    """Sends commands to chargers connected to this process (see
    :class:`~voltspot.services.charger_control.ChargerControl`)."""

    def __init__(self, registry: ConnectionRegistry, timeout: float) -> None:
        self._registry = registry
        self._timeout = timeout

    def send(self, charge_point_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        connection = self._registry.get(charge_point_id)
        if connection is None or connection.closed:
            raise StationOffline(charge_point_id)
        if action not in COMMANDS_V16:
            raise UnknownCommand(f"{action} is not a command Voltspot sends; use one of "
                                 + ", ".join(COMMANDS_V16))
        try:
            return connection.call(action, payload, self._timeout)
        except OCPPError as error:
            raise UnknownCommand(f"{action} payload is not valid: {error.description}") from None
