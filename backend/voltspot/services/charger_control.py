"""The one way the rest of Voltspot sends commands to chargers.

:class:`ChargerControl` is the interface; :class:`voltspot.ocpp.control.OcppChargerControl`
is the implementation that talks to connected chargers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from voltspot.services.errors import ServiceError
from voltspot.services.load.intents import (
    ChargingLimit,
    CompositeSchedule,
    LimitOutcome,
    LimitPurpose,
    RateUnit,
    SmartChargingSettings,
)

# The commands Voltspot sends, per OCPP version. Operator API and owner page use the
# version's own names: the meanings differ (1.6 configuration keys versus the 2.0.1 device
# model), so no name is silently translated.
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

COMMANDS_V201 = (
    "RequestStartTransaction",
    "RequestStopTransaction",
    "Reset",
    "UnlockConnector",
    "ChangeAvailability",
    "GetVariables",
    "SetVariables",
    "GetBaseReport",
    "TriggerMessage",
    "ClearCache",
    "DataTransfer",
)

COMMANDS = {"1.6": COMMANDS_V16, "2.0.1": COMMANDS_V201}

# Each version's remote start: through the operator API it is tracked as a session.
START_COMMAND = {"1.6": "RemoteStartTransaction", "2.0.1": "RequestStartTransaction"}


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


@dataclass(frozen=True)
class StartAnswer:
    """A charger's answer to a start request: whether it accepted, the transaction it
    already has running for it (2.0.1 chargers say so when the cable was in first), and
    the raw answer for the operator."""

    accepted: bool
    charger_transaction_id: str | None
    answer: dict[str, Any]


class ChargerControl(Protocol):
    """Send commands to chargers, whatever OCPP version each speaks.

    Every method raises :class:`StationOffline`, :class:`NoAnswer`, :class:`ChargerError`
    or :class:`UnknownCommand`.
    """

    def send(self, charge_point_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send ``action`` with ``payload`` (an OCPP JSON object with camelCase keys, of the
        version the station speaks) and return the charger's answer."""
        ...

    def version(self, charge_point_id: str) -> str:
        """The OCPP version the station's current connection speaks."""
        ...

    def start_charging(self, charge_point_id: str, *, connector_id: int | None, id_tag: str,
                       remote_start_id: int) -> StartAnswer:
        """Ask the station to start charging for ``id_tag`` on ``connector_id`` (1.6
        connectorId / 2.0.1 evseId; None: the charger picks). ``remote_start_id`` comes
        back in the 2.0.1 transaction event, tying it to the session that asked."""
        ...

    def stop_charging(self, charge_point_id: str, charger_transaction_id: str) -> bool:
        """Ask the station to stop the transaction; True when the charger accepted."""
        ...

    def set_charging_limit(self, charge_point_id: str, limit: ChargingLimit) -> LimitOutcome:
        """Install ``limit`` (replacing the last one of its purpose and plug)."""
        ...

    def clear_charging_limit(self, charge_point_id: str, purpose: LimitPurpose,
                             plug: int | None = None) -> LimitOutcome:
        """Remove the limits of ``purpose`` on ``plug`` (None: every plug); accepted also
        when there was none."""
        ...

    def composite_schedule(self, charge_point_id: str, plug: int, *, duration_s: int = 300,
                           unit: RateUnit | None = None) -> CompositeSchedule:
        """What the charger will really allow on ``plug`` over the next ``duration_s``."""
        ...

    def read_smart_charging_settings(self, charge_point_id: str) -> SmartChargingSettings:
        """What the charger accepts: smart charging at all, rate units, stack levels and
        how many profiles it holds."""
        ...
