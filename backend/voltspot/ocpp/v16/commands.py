"""Voltspot's intents in OCPP 1.6J: the messages built with the library's typed
``call.*`` dataclasses, and the charger's replies read back into version-neutral
outcomes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ocpp.v16 import call
from ocpp.v16.enums import AvailabilityType, MessageTrigger, ResetType

from voltspot.domain.protocol import OcppVersion
from voltspot.ocpp.replies import outcome
from voltspot.ocpp.v16.smart_charging import profile
from voltspot.services.charger_control import (
    CommandOutcome,
    MeteringOutcome,
    Setting,
    SettingNameInvalid,
    SettingsRead,
    StartOutcome,
    StartRequest,
    UnknownCommand,
)
from voltspot.services.errors import InvalidInput
from voltspot.services.load.intents import ChargingLimit

VERSION = OcppVersion.V16

# What the operator API may send raw. The meanings differ from 2.0.1 (configuration keys
# versus the device model), so no name is silently translated.
SENDABLE = (
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
START_ACTION = "RemoteStartTransaction"

# 1.6 ChangeConfiguration / GetConfiguration limit a key to 50 characters.
MAX_KEY_LENGTH = 50

Send = Callable[[object], dict[str, Any]]



class Commands16:
    """The intents for one 1.6 charger; ``send`` delivers a typed call and returns the
    charger's reply (camelCase keys)."""

    version = VERSION

    def __init__(self, send: Send) -> None:
        self._send = send

    def start_charging(self, *, connector_id: int | None, id_tag: str,
                       remote_start_id: int, limit: ChargingLimit | None = None
                       ) -> StartOutcome:
        # 1.6 has no remote start id: its StartTransaction is matched by plug and token.
        answer = self._send(call.RemoteStartTransaction(
            id_tag=id_tag, connector_id=connector_id,
            charging_profile=None if limit is None else profile(limit, starting=True)))
        status = str(answer.get("status", ""))
        return StartOutcome(status == "Accepted", status, answer)

    def stop_charging(self, charger_transaction_id: str) -> CommandOutcome:
        return outcome(self._send(call.RemoteStopTransaction(
            transaction_id=int(charger_transaction_id))), "Accepted")

    def reset(self, *, hard: bool) -> CommandOutcome:
        kind = ResetType.hard if hard else ResetType.soft
        return outcome(self._send(call.Reset(type=kind)), "Accepted")

    def unlock(self, plug: int) -> CommandOutcome:
        return outcome(self._send(call.UnlockConnector(connector_id=plug)), "Unlocked")

    def set_availability(self, plug: int | None, *, operative: bool) -> CommandOutcome:
        kind = AvailabilityType.operative if operative else AvailabilityType.inoperative
        # Connector 0 is the whole charge point.
        return outcome(self._send(call.ChangeAvailability(connector_id=plug or 0, type=kind)),
                        "Accepted", "Scheduled")

    def trigger_status_report(self, plug: int | None) -> CommandOutcome:
        return outcome(self._send(call.TriggerMessage(
            requested_message=MessageTrigger.status_notification, connector_id=plug)),
            "Accepted")

    def trigger_boot_notification(self) -> CommandOutcome:
        return outcome(self._send(call.TriggerMessage(
            requested_message=MessageTrigger.boot_notification)), "Accepted")

    def read_settings(self, keys: Sequence[str] | None) -> SettingsRead:
        if any(len(key) > MAX_KEY_LENGTH for key in keys or ()):
            raise SettingNameInvalid(
                f"A setting's name is at most {MAX_KEY_LENGTH} characters.")
        answer = self._send(call.GetConfiguration(key=list(keys) if keys else None))
        settings = tuple(Setting(str(item.get("key", "")), item.get("value"),
                                 bool(item.get("readonly")))
                         for item in answer.get("configurationKey") or [])
        unknown = tuple(str(key) for key in answer.get("unknownKey") or [])
        return SettingsRead(True, "Accepted", answer, settings, unknown)

    def change_setting(self, key: str, value: str) -> CommandOutcome:
        return outcome(self._send(call.ChangeConfiguration(key=key, value=value)),
                        "Accepted", "RebootRequired")

    def request_device_report(self) -> CommandOutcome:
        raise UnknownCommand("an OCPP 1.6 station has no device model to report; read its "
                             "settings instead")

    def configure_metering(self, *, sample_interval_s: int) -> MeteringOutcome:
        # A 1.6 charger's sampling (MeterValuesSampledData) is left as its installer set
        # it: 1.6 chargers ship sampling the energy register, which is what billing needs.
        return MeteringOutcome()


def start_request(payload: dict[str, Any]) -> StartRequest:
    """The intent in a raw 1.6 RemoteStartTransaction payload (``idTag``, ``connectorId``).
    Raises :class:`InvalidInput` when the token or plug is missing or unusable."""
    id_tag = payload.get("idTag")
    if not isinstance(id_tag, str) or not 1 <= len(id_tag) <= 20:
        raise InvalidInput("idTag is required: 1 to 20 characters")
    connector_id = payload.get("connectorId")
    if connector_id is not None and (not isinstance(connector_id, int)
                                     or isinstance(connector_id, bool) or connector_id < 1):
        raise InvalidInput("connectorId must be a whole number of 1 or more")
    return StartRequest(id_tag, connector_id)
