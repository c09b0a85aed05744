"""The one way the rest of Voltspot sends commands to chargers.

:class:`ChargerControl` is the interface; :class:`voltspot.ocpp.control.OcppChargerControl`
is the implementation that talks to connected chargers.
"""

from __future__ import annotations

from typing import Any, Protocol

from voltspot.services.errors import ServiceError

COMMANDS_V16 = (
    "RemoteStartTransaction",
    "RemoteStopTransaction",
    "Reset",
    "UnlockConnector",
    "ChangeAvailability",
    "GetConfiguration",
    "ChangeConfiguration",
    "TriggerMessage",
    "ClearCache",
    "DataTransfer",
)


class ChargerUnreachable(ServiceError):
    """The command did not reach the charger, or its answer did not reach us."""


class StationOffline(ChargerUnreachable):
    def __init__(self, charge_point_id: str) -> None:
        super().__init__(f"station {charge_point_id} is offline")
        self.charge_point_id = charge_point_id


class NoAnswer(ChargerUnreachable):
    def __init__(self, charge_point_id: str, action: str, seconds: float) -> None:
        super().__init__(f"station {charge_point_id} gave no answer to {action} "
                         f"in {seconds:g} s")
        self.charge_point_id = charge_point_id


class ChargerError(ServiceError):
    """The charger answered with an OCPP CallError."""

    def __init__(self, charge_point_id: str, action: str, code: str, description: str) -> None:
        super().__init__(f"station {charge_point_id} answered {action} with {code}: "
                         f"{description}".rstrip(": "))
        self.code = code
        self.description = description


class UnknownCommand(ServiceError):
    """Not a command this station's protocol version has, or a payload that breaks it."""


class ChargerControl(Protocol):
    """Send a command to a charger and return its answer.

    ``payload`` and the answer are OCPP payloads as JSON objects (camelCase keys) of the
    version the station speaks. Raises :class:`StationOffline`, :class:`NoAnswer`,
    :class:`ChargerError` or :class:`UnknownCommand`.
    """

    def send(self, charge_point_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        ...
