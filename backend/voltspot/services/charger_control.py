"""The one way the rest of Voltspot commands chargers: by intent, whatever OCPP version
each charger speaks.

:class:`ChargerControl` is the interface; :class:`voltspot.ocpp.control.OcppChargerControl`
is the implementation that talks to connected chargers, building each version's messages
in ``voltspot.ocpp.v16.commands`` and ``voltspot.ocpp.v201.commands``. Nothing here knows
an OCPP action name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from voltspot.domain.protocol import OcppVersion
from voltspot.services.errors import InvalidInput, ServiceError
from voltspot.services.messages import N_

if TYPE_CHECKING:
    # The smart-charging intents' own types (they build on CommandOutcome, defined here).
    from voltspot.services.load.intents import (
        ChargingLimit,
        CompositeSchedule,
        LimitPurpose,
        RateUnit,
        SmartChargingSettings,
    )


class ChargerUnreachable(ServiceError):
    """The command did not reach the charger, or its answer did not reach us."""


class StationOffline(ChargerUnreachable):
    def __init__(self, charge_point_id: str) -> None:
        super().__init__(N_("station %(station)s is offline", station=charge_point_id))
        self.charge_point_id = charge_point_id


class NoAnswer(ChargerUnreachable):
    def __init__(self, charge_point_id: str, action: str, seconds: float) -> None:
        super().__init__(N_("station %(station)s gave no answer to %(action)s in "
                            "%(seconds)s s", station=charge_point_id, action=action,
                            seconds=seconds))
        self.charge_point_id = charge_point_id


class ChargerError(ServiceError):
    """The charger answered with an OCPP CallError."""

    def __init__(self, charge_point_id: str, action: str, code: str, description: str) -> None:
        if description:
            said = N_("station %(station)s answered %(action)s with %(code)s: "
                      "%(description)s", station=charge_point_id, action=action, code=code,
                      description=description)
        else:
            said = N_("station %(station)s answered %(action)s with %(code)s",
                      station=charge_point_id, action=action, code=code)
        super().__init__(said)
        self.code = code
        self.description = description


class UnknownCommand(ServiceError):
    """Not a command this station's protocol version has, or a payload that breaks it."""


class SettingNameInvalid(InvalidInput):
    """A setting's name that cannot name a setting in the station's protocol version (a
    2.0.1 setting is written ``Component.Variable``); the message says how to write it."""


@dataclass(frozen=True)
class CommandOutcome:
    """What a charger answered to one intent.

    ``accepted``: it does (or did, or will do) what was asked; ``status``: its own status
    word ("Accepted", "Rejected", "Scheduled", "Unlocked", "RebootRequired", …; "" when
    it sent none); ``answer``: its whole reply (camelCase keys, its version's shape), for
    logs and for an operator who wants to read it.
    """

    accepted: bool
    status: str
    answer: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        # An outcome is read by its fields: a truth test would always pass and hide a
        # refusal (stop_charging returned a bool before).
        raise TypeError("read CommandOutcome.accepted, not its truth value")


@dataclass(frozen=True)
class StartOutcome(CommandOutcome):
    """A charger's answer to a start request, plus the transaction it already has running
    for it (2.0.1 chargers name it when the cable was in first; None otherwise)."""

    charger_transaction_id: str | None = None


@dataclass(frozen=True)
class StartRequest:
    """A start asked for in a station's own words (the operator API's raw pass-through),
    read as the intent: the token to charge for and the plug (None: the charger picks)."""

    id_tag: str
    connector_id: int | None


@dataclass(frozen=True)
class Setting:
    """One setting of a charger: 1.6 configuration key, or 2.0.1 ``Component.Variable``."""

    key: str
    value: str | None
    readonly: bool


@dataclass(frozen=True)
class SettingsRead(CommandOutcome):
    """A charger's settings as read. ``settings``: those it sent; ``unknown``: asked-for
    names it does not know. ``by_report`` is true when the charger was asked to send all
    its settings as a separate report (a 2.0.1 device model, which arrives as messages of
    its own and is stored with the station): then ``settings`` is empty and
    ``accepted``/``status`` say whether it agreed to send the report."""

    settings: tuple[Setting, ...] = ()
    unknown: tuple[str, ...] = ()
    by_report: bool = False


@dataclass(frozen=True)
class MeteringOutcome:
    """What configuring a charger's meter sampling did. ``changed``: settings written, as
    ``name=value``; ``missing``: settings the charger lacks or refused every value for
    (its meter values may then lack what billing needs). Both empty when the charger
    already samples as needed, or speaks a version Voltspot leaves as installed (1.6)."""

    changed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


class ChargerControl(Protocol):
    """Command chargers by intent, whatever OCPP version each speaks.

    ``plug`` is the connector number drivers see (1.6 connectorId, 2.0.1 evseId). Every
    method raises :class:`StationOffline`, :class:`NoAnswer` (both
    :class:`ChargerUnreachable`), :class:`ChargerError` (a CallError) or
    :class:`UnknownCommand` (the version has no such command, or the message would break
    its schema). A refusal is not an exception: it is an outcome with ``accepted`` false.
    """

    def version(self, charge_point_id: str) -> OcppVersion:
        """The OCPP version the station's current connection speaks."""
        ...

    def start_charging(self, charge_point_id: str, *, connector_id: int | None, id_tag: str,
                       remote_start_id: int, limit: ChargingLimit | None = None
                       ) -> StartOutcome:
        """Ask the station to start charging for ``id_tag`` on ``connector_id`` (None: the
        charger picks). ``remote_start_id`` comes back in the 2.0.1 transaction event,
        tying it to the session that asked. The token is one the CSMS handed out: the
        charger need not authorise it again. ``limit`` (a TRANSACTION limit without a
        transaction id) goes with the request, so the car's very first current keeps to
        the site's load management."""
        ...

    def stop_charging(self, charge_point_id: str, charger_transaction_id: str
                      ) -> CommandOutcome:
        """Ask the station to stop the transaction it numbered ``charger_transaction_id``."""
        ...

    def reset(self, charge_point_id: str, *, hard: bool) -> CommandOutcome:
        """Restart the station: hard at once, soft once it is idle (``status``
        "Scheduled" when a 2.0.1 station waits for a session to end)."""
        ...

    def unlock(self, charge_point_id: str, plug: int) -> CommandOutcome:
        """Release the cable on ``plug``; accepted means "Unlocked"."""
        ...

    def set_availability(self, charge_point_id: str, plug: int | None, *, operative: bool
                         ) -> CommandOutcome:
        """Put ``plug`` (None: the whole station) in or out of use; "Scheduled" when it
        changes after the running session."""
        ...

    def trigger_status_report(self, charge_point_id: str, plug: int | None = None
                              ) -> CommandOutcome:
        """Ask for a fresh status report of ``plug``; None: every plug; 0: the station
        itself (1.6 connector 0; a 2.0.1 station then reports every plug)."""
        ...

    def trigger_boot_notification(self, charge_point_id: str) -> CommandOutcome:
        """Ask the station to announce itself again (a boot notification), so that it
        learns a changed registration without restarting."""
        ...

    def read_settings(self, charge_point_id: str, keys: Sequence[str] | None = None
                      ) -> SettingsRead:
        """Read the named settings (1.6 keys; 2.0.1 ``Component.Variable``), or all of
        them when ``keys`` is empty or None (a 2.0.1 station sends those as a report: see
        :attr:`SettingsRead.by_report`). Raises :class:`SettingNameInvalid` for a name the
        version cannot express."""
        ...

    def change_setting(self, charge_point_id: str, key: str, value: str) -> CommandOutcome:
        """Write one setting; accepted for "Accepted" and "RebootRequired" (``status``
        tells them apart). Raises :class:`SettingNameInvalid` like :meth:`read_settings`."""
        ...

    def request_device_report(self, charge_point_id: str) -> CommandOutcome:
        """Ask a 2.0.1 station for its full device model (it arrives as reports of their
        own); accepted for "Accepted" and "EmptyResultSet". Raises
        :class:`UnknownCommand` for a 1.6 station, which has none."""
        ...

    def configure_metering(self, charge_point_id: str, *, sample_interval_s: int
                           ) -> MeteringOutcome:
        """Make the station sample the meter values billing needs, every
        ``sample_interval_s`` seconds, changing only what it lacks (allowed while it is
        still Pending). A 1.6 station is left as its installer set it up."""
        ...

    def set_charging_limit(self, charge_point_id: str, limit: ChargingLimit
                           ) -> CommandOutcome:
        """Install ``limit`` (a running transaction's, a plug's default or the station's
        cap), replacing the last one of its purpose and plug; "Rejected" when refused."""
        ...

    def clear_charging_limit(self, charge_point_id: str, purpose: LimitPurpose,
                             plug: int | None = None) -> CommandOutcome:
        """Remove the limits of ``purpose`` on ``plug`` (None: every plug); accepted also
        when there was none (``status`` "Unknown")."""
        ...

    def composite_schedule(self, charge_point_id: str, plug: int, *, duration_s: int = 300,
                           unit: RateUnit | None = None) -> CompositeSchedule:
        """What the charger will really allow on ``plug`` over the next ``duration_s``
        seconds, all its limits combined (in ``unit``; None: the charger's choice)."""
        ...

    def read_smart_charging_settings(self, charge_point_id: str) -> SmartChargingSettings:
        """What the charger takes: smart charging at all, rate units, stack levels and
        how many profiles it holds (1.6 configuration keys; 2.0.1 SmartChargingCtrlr)."""
        ...

    def start_request(self, charge_point_id: str, action: str, payload: dict[str, Any]
                      ) -> StartRequest | None:
        """For the operator API's raw pass-through: the start that ``action`` with
        ``payload`` asks for, in the station's version, or None when it is not a start.
        Raises :class:`UnknownCommand` for the other version's start and
        :class:`InvalidInput` for a start without a usable token or plug."""
        ...

    def disconnect(self, charge_point_id: str) -> bool:
        """End the station's current connection (its credentials changed: it must sign in
        again with the new ones); True when one was closed. Like every method it may raise
        :class:`ChargerUnreachable` when no process holds the station's socket."""
        ...

    def send(self, charge_point_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The operator API's raw pass-through, and only that: send ``action`` with
        ``payload`` (an OCPP JSON object with camelCase keys, of the version the station
        speaks) and return the charger's answer. Everything else uses the intents."""
        ...
