"""ChargerControl over the OCPP connections this process holds: commands in the version
each charger speaks."""

from __future__ import annotations

from typing import Any

from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.exceptions import OCPPError

from voltspot.ocpp.connection import OcppConnection
from voltspot.ocpp.registry import ConnectionRegistry
from voltspot.ocpp.v16.smart_charging import SmartCharging16
from voltspot.ocpp.v201.smart_charging import SmartCharging201
from voltspot.services.charger_control import (
    COMMANDS,
    StartAnswer,
    StationOffline,
    UnknownCommand,
)
from voltspot.services.load.intents import (
    ChargingLimit,
    CompositeSchedule,
    LimitOutcome,
    LimitPurpose,
    RateUnit,
    SmartChargingSettings,
)


class OcppChargerControl:
    """Sends commands to chargers connected to this process (see
    :class:`~voltspot.services.charger_control.ChargerControl`)."""

    def __init__(self, registry: ConnectionRegistry, timeout: float) -> None:
        self._registry = registry
        self._timeout = timeout

    def _connection(self, charge_point_id: str) -> OcppConnection:
        connection = self._registry.get(charge_point_id)
        if connection is None or connection.closed:
            raise StationOffline(charge_point_id)
        return connection

    def version(self, charge_point_id: str) -> str:
        return self._connection(charge_point_id).version

    def send(self, charge_point_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        connection = self._connection(charge_point_id)
        commands = COMMANDS[connection.version]
        if action not in commands:
            raise UnknownCommand(f"{action} is not an OCPP {connection.version} command "
                                 f"Voltspot sends; use one of " + ", ".join(commands))
        try:
            return connection.call(action, payload, self._timeout)
        except OCPPError as error:
            raise UnknownCommand(f"{action} payload is not valid: {error.description}") from None

    def start_charging(self, charge_point_id: str, *, connector_id: int | None, id_tag: str,
                       remote_start_id: int) -> StartAnswer:
        if self.version(charge_point_id) == "1.6":
            payload: dict[str, Any] = {"idTag": id_tag}
            if connector_id is not None:
                payload["connectorId"] = connector_id
            answer = self.send(charge_point_id, "RemoteStartTransaction", payload)
            return StartAnswer(answer.get("status") == "Accepted", None, answer)
        # Tokens the CSMS hands out (drivers' app sessions, operator starts) are "Central";
        # the charger need not authorise them again.
        payload = {"idToken": {"idToken": id_tag, "type": "Central"},
                   "remoteStartId": remote_start_id}
        if connector_id is not None:
            payload["evseId"] = connector_id
        answer = self.send(charge_point_id, "RequestStartTransaction", payload)
        return StartAnswer(answer.get("status") == "Accepted", answer.get("transactionId"),
                           answer)

    def stop_charging(self, charge_point_id: str, charger_transaction_id: str) -> bool:
        if self.version(charge_point_id) == "1.6":
            answer = self.send(charge_point_id, "RemoteStopTransaction",
                               {"transactionId": int(charger_transaction_id)})
        else:
            answer = self.send(charge_point_id, "RequestStopTransaction",
                               {"transactionId": charger_transaction_id})
        return answer.get("status") == "Accepted"

    def _smart(self, charge_point_id: str) -> SmartCharging16 | SmartCharging201:
        connection = self._connection(charge_point_id)

        def send(message: object) -> dict[str, Any]:
            payload = remove_nones(snake_to_camel_case(serialize_as_dict(message)))
            try:
                return connection.call(type(message).__name__, payload, self._timeout)
            except OCPPError as error:
                raise UnknownCommand(f"{type(message).__name__} payload is not valid: "
                                     f"{error.description}") from None
        if connection.version == "1.6":
            return SmartCharging16(send)
        return SmartCharging201(send)

    def set_charging_limit(self, charge_point_id: str, limit: ChargingLimit) -> LimitOutcome:
        return self._smart(charge_point_id).set_charging_limit(limit)

    def clear_charging_limit(self, charge_point_id: str, purpose: LimitPurpose,
                             plug: int | None = None) -> LimitOutcome:
        return self._smart(charge_point_id).clear_charging_limit(purpose, plug)

    def composite_schedule(self, charge_point_id: str, plug: int, *, duration_s: int = 300,
                           unit: RateUnit | None = None) -> CompositeSchedule:
        return self._smart(charge_point_id).composite_schedule(plug, duration_s, unit)

    def read_smart_charging_settings(self, charge_point_id: str) -> SmartChargingSettings:
        return self._smart(charge_point_id).read_smart_charging_settings()
