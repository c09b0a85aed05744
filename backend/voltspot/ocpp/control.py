"""ChargerControl over the OCPP connections this process holds: each intent dispatched
to the commands of the version its charger speaks (``v16.commands``,
``v201.commands``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ocpp.exceptions import OCPPError

from voltspot.domain.protocol import OcppVersion
from voltspot.ocpp import frames
from voltspot.ocpp.connection import OcppConnection
from voltspot.ocpp.registry import ConnectionRegistry
from voltspot.ocpp.v16 import commands as v16
from voltspot.ocpp.v16.smart_charging import SmartCharging16
from voltspot.ocpp.v201 import commands as v201
from voltspot.ocpp.v201.smart_charging import SmartCharging201
from voltspot.services.charger_control import (
    CommandOutcome,
    MeteringOutcome,
    SettingsRead,
    StartOutcome,
    StartRequest,
    StationOffline,
    UnknownCommand,
)
from voltspot.services.load.intents import (
    ChargingLimit,
    CompositeSchedule,
    LimitPurpose,
    RateUnit,
    SmartChargingSettings,
)

_COMMANDS = {OcppVersion.V16: v16.Commands16, OcppVersion.V201: v201.Commands201}
_SMART_CHARGING = {OcppVersion.V16: SmartCharging16, OcppVersion.V201: SmartCharging201}
_SENDABLE = {OcppVersion.V16: v16.SENDABLE, OcppVersion.V201: v201.SENDABLE}
_START = {OcppVersion.V16: (v16.START_ACTION, v16.start_request),
          OcppVersion.V201: (v201.START_ACTION, v201.start_request)}


class OcppChargerControl:
    """Commands chargers connected to this process (see
    :class:`~voltspot.services.charger_control.ChargerControl` for every method's
    contract)."""

    def __init__(self, registry: ConnectionRegistry, timeout: float) -> None:
        self._registry = registry
        self._timeout = timeout

    def _connection(self, charge_point_id: str) -> OcppConnection:
        connection = self._registry.get(charge_point_id)
        if connection is None or connection.closed:
            raise StationOffline(charge_point_id)
        return connection

    def _call(self, connection: OcppConnection, action: str, payload: dict[str, Any]
              ) -> dict[str, Any]:
        try:
            return connection.call(action, payload, self._timeout)
        except OCPPError as error:
            raise UnknownCommand(f"{action} payload is not valid: {error.description}") from None

    def _commands(self, charge_point_id: str) -> v16.Commands16 | v201.Commands201:
        connection = self._connection(charge_point_id)

        def send(message: object) -> dict[str, Any]:
            return self._call(connection, *frames.call_of(message))
        return _COMMANDS[connection.version](send)

    def _smart_charging(self, charge_point_id: str) -> SmartCharging16 | SmartCharging201:
        connection = self._connection(charge_point_id)

        def send(message: object) -> dict[str, Any]:
            return self._call(connection, *frames.call_of(message))
        return _SMART_CHARGING[connection.version](send)

    def version(self, charge_point_id: str) -> OcppVersion:
        return OcppVersion(self._connection(charge_point_id).version)

    def start_charging(self, charge_point_id: str, *, connector_id: int | None, id_tag: str,
                       remote_start_id: int, limit: ChargingLimit | None = None
                       ) -> StartOutcome:
        return self._commands(charge_point_id).start_charging(
            connector_id=connector_id, id_tag=id_tag, remote_start_id=remote_start_id,
            limit=limit)

    def stop_charging(self, charge_point_id: str, charger_transaction_id: str
                      ) -> CommandOutcome:
        return self._commands(charge_point_id).stop_charging(charger_transaction_id)

    def reset(self, charge_point_id: str, *, hard: bool) -> CommandOutcome:
        return self._commands(charge_point_id).reset(hard=hard)

    def unlock(self, charge_point_id: str, plug: int) -> CommandOutcome:
        return self._commands(charge_point_id).unlock(plug)

    def set_availability(self, charge_point_id: str, plug: int | None, *, operative: bool
                         ) -> CommandOutcome:
        return self._commands(charge_point_id).set_availability(plug, operative=operative)

    def trigger_status_report(self, charge_point_id: str, plug: int | None = None
                              ) -> CommandOutcome:
        return self._commands(charge_point_id).trigger_status_report(plug)

    def trigger_boot_notification(self, charge_point_id: str) -> CommandOutcome:
        return self._commands(charge_point_id).trigger_boot_notification()

    def read_settings(self, charge_point_id: str, keys: Sequence[str] | None = None
                      ) -> SettingsRead:
        return self._commands(charge_point_id).read_settings(keys)

    def change_setting(self, charge_point_id: str, key: str, value: str) -> CommandOutcome:
        return self._commands(charge_point_id).change_setting(key, value)

    def request_device_report(self, charge_point_id: str) -> CommandOutcome:
        return self._commands(charge_point_id).request_device_report()

    def configure_metering(self, charge_point_id: str, *, sample_interval_s: int
                           ) -> MeteringOutcome:
        return self._commands(charge_point_id).configure_metering(
            sample_interval_s=sample_interval_s)

    def set_charging_limit(self, charge_point_id: str, limit: ChargingLimit
                           ) -> CommandOutcome:
        return self._smart_charging(charge_point_id).set_charging_limit(limit)

    def clear_charging_limit(self, charge_point_id: str, purpose: LimitPurpose,
                             plug: int | None = None) -> CommandOutcome:
        return self._smart_charging(charge_point_id).clear_charging_limit(purpose, plug)

    def composite_schedule(self, charge_point_id: str, plug: int, *, duration_s: int = 300,
                           unit: RateUnit | None = None) -> CompositeSchedule:
        return self._smart_charging(charge_point_id).composite_schedule(plug, duration_s, unit)

    def read_smart_charging_settings(self, charge_point_id: str) -> SmartChargingSettings:
        return self._smart_charging(charge_point_id).read_smart_charging_settings()

    def start_request(self, charge_point_id: str, action: str, payload: dict[str, Any]
                      ) -> StartRequest | None:
        if action not in {start for start, _ in _START.values()}:
            return None
        version = self.version(charge_point_id)
        start, read = _START[version]
        if action != start:
            raise UnknownCommand(f"{action} is not an OCPP {version} command; use {start}")
        return read(payload)

    def disconnect(self, charge_point_id: str) -> bool:
        connection = self._registry.get(charge_point_id)
        if connection is None or connection.closed:
            return False
        # 1008 (policy violation): the credentials it connected with are no longer valid.
        connection.close(reason=1008, message="credentials changed")
        return True

    def send(self, charge_point_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        connection = self._connection(charge_point_id)
        sendable = _SENDABLE[connection.version]
        if action not in sendable:
            raise UnknownCommand(f"{action} is not an OCPP {connection.version} command "
                                 f"Voltspot sends; use one of " + ", ".join(sendable))
        return self._call(connection, action, payload)
