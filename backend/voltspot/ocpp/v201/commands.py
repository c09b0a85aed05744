"""Voltspot's intents in OCPP 2.0.1: the messages built with the library's typed
``call.*`` dataclasses, and the charger's replies read back into version-neutral
outcomes. Voltspot's plugs are 2.0.1 EVSEs, each with its one connector."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from ocpp.v201 import call
from ocpp.v201.datatypes import (
    ComponentType,
    EVSEType,
    GetVariableDataType,
    IdTokenType,
    SetVariableDataType,
    VariableType,
)
from ocpp.v201.enums import (
    IdTokenEnumType,
    MessageTriggerEnumType,
    OperationalStatusEnumType,
    ReportBaseEnumType,
    ResetEnumType,
)

from voltspot.domain.device_model import SAMPLED_DATA_CTRLR, SAMPLING_VARIABLES, sampling_to_set
from voltspot.domain.protocol import OcppVersion
from voltspot.ocpp.replies import outcome
from voltspot.ocpp.v201.smart_charging import profile
from voltspot.services.charger_control import (
    CommandOutcome,
    MeteringOutcome,
    Setting,
    SettingNameInvalid,
    SettingsRead,
    StartOutcome,
    StartRequest,
)
from voltspot.services.errors import InvalidInput
from voltspot.services.load.intents import ChargingLimit

VERSION = OcppVersion.V201

# What the operator API may send raw (see the 1.6 list: no name is translated).
SENDABLE = (
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
START_ACTION = "RequestStartTransaction"

# Each EVSE of a Voltspot charger has one connector.
CONNECTOR = 1
# A setting that changed, or will once the charger restarts.
WRITTEN = ("Accepted", "RebootRequired")
# A setting the charger does not have at all: trying other values is pointless.
ABSENT = ("UnknownComponent", "UnknownVariable", "NotSupportedAttributeType")

Send = Callable[[object], dict[str, Any]]



def setting_name(key: str) -> tuple[str, str]:
    """A 2.0.1 setting as people write it, "Component.Variable", as its two names.
    Raises :class:`SettingNameInvalid` for anything else."""
    component, _, variable = key.partition(".")
    if not component or not variable:
        raise SettingNameInvalid("Write a 2.0.1 setting as Component.Variable, such as "
                                 "OCPPCommCtrlr.HeartbeatInterval.")
    return component, variable


def _variable(component: str, variable: str) -> dict[str, Any]:
    return {"component": ComponentType(name=component), "variable": VariableType(name=variable)}


class Commands201:
    """The intents for one 2.0.1 charger; ``send`` delivers a typed call and returns the
    charger's reply (camelCase keys)."""

    version = VERSION

    def __init__(self, send: Send) -> None:
        self._send = send

    def start_charging(self, *, connector_id: int | None, id_tag: str,
                       remote_start_id: int, limit: ChargingLimit | None = None
                       ) -> StartOutcome:
        # Tokens the CSMS hands out (drivers' app sessions, operator starts) are "Central":
        # the charger need not authorise them again.
        answer = self._send(call.RequestStartTransaction(
            id_token=IdTokenType(id_token=id_tag, type=IdTokenEnumType.central),
            remote_start_id=remote_start_id, evse_id=connector_id,
            charging_profile=None if limit is None else profile(limit, starting=True)))
        status = str(answer.get("status", ""))
        return StartOutcome(status == "Accepted", status, answer,
                            answer.get("transactionId"))

    def stop_charging(self, charger_transaction_id: str) -> CommandOutcome:
        return outcome(self._send(call.RequestStopTransaction(
            transaction_id=charger_transaction_id)), "Accepted")

    def reset(self, *, hard: bool) -> CommandOutcome:
        # 2.0.1 names the two restarts by when they happen.
        kind = ResetEnumType.immediate if hard else ResetEnumType.on_idle
        return outcome(self._send(call.Reset(type=kind)), "Accepted", "Scheduled")

    def unlock(self, plug: int) -> CommandOutcome:
        return outcome(self._send(call.UnlockConnector(evse_id=plug, connector_id=CONNECTOR)),
                        "Unlocked")

    def set_availability(self, plug: int | None, *, operative: bool) -> CommandOutcome:
        kind = (OperationalStatusEnumType.operative if operative
                else OperationalStatusEnumType.inoperative)
        # No EVSE: the whole station.
        return outcome(self._send(call.ChangeAvailability(
            operational_status=kind, evse=EVSEType(id=plug) if plug else None)),
            "Accepted", "Scheduled")

    def trigger_status_report(self, plug: int | None) -> CommandOutcome:
        evse = EVSEType(id=plug, connector_id=CONNECTOR) if plug else None
        return outcome(self._send(call.TriggerMessage(
            requested_message=MessageTriggerEnumType.status_notification, evse=evse)),
            "Accepted")

    def trigger_boot_notification(self) -> CommandOutcome:
        return outcome(self._send(call.TriggerMessage(
            requested_message=MessageTriggerEnumType.boot_notification)), "Accepted")

    def read_settings(self, keys: Sequence[str] | None) -> SettingsRead:
        if not keys:
            # Every setting: too many for one answer, so the charger reports them in
            # NotifyReport messages, stored as the station's device model.
            answer = self._send(call.GetBaseReport(
                request_id=secrets.randbelow(2**31),
                report_base=ReportBaseEnumType.configuration_inventory))
            status = str(answer.get("status", ""))
            return SettingsRead(status in ("Accepted", "EmptyResultSet"), status, answer,
                                by_report=True)
        wanted = [setting_name(key) for key in keys]
        answer = self._send(call.GetVariables(get_variable_data=[
            GetVariableDataType(**_variable(component, variable))
            for component, variable in wanted]))
        settings, unknown = [], []
        for item in answer.get("getVariableResult") or []:
            name = f"{item['component']['name']}.{item['variable']['name']}"
            if item.get("attributeStatus") == "Accepted":
                settings.append(Setting(name, item.get("attributeValue"), False))
            else:
                unknown.append(name)
        return SettingsRead(True, "Accepted", answer, tuple(settings), tuple(unknown))

    def change_setting(self, key: str, value: str) -> CommandOutcome:
        component, variable = setting_name(key)
        answer = self._send(call.SetVariables(set_variable_data=[SetVariableDataType(
            attribute_value=value, **_variable(component, variable))]))
        status = str((answer.get("setVariableResult") or [{}])[0].get("attributeStatus", ""))
        return CommandOutcome(status in WRITTEN, status, answer)

    def request_device_report(self) -> CommandOutcome:
        return outcome(self._send(call.GetBaseReport(
            request_id=secrets.randbelow(2**31), report_base=ReportBaseEnumType.full_inventory)),
            "Accepted", "EmptyResultSet")

    def configure_metering(self, *, sample_interval_s: int) -> MeteringOutcome:
        answer = self._send(call.GetVariables(get_variable_data=[
            GetVariableDataType(**_variable(SAMPLED_DATA_CTRLR, name))
            for name in SAMPLING_VARIABLES]))
        current: dict[str, str | None] = {}
        for result in answer.get("getVariableResult", []):
            name = result.get("variable", {}).get("name")
            if result.get("attributeStatus") == "Accepted":
                current[name] = result.get("attributeValue", "")
        changed: list[str] = []
        missing: list[str] = []
        for name, choices in sampling_to_set(current, sample_interval_s).items():
            setting = f"{SAMPLED_DATA_CTRLR}.{name}"
            for value in choices:
                reply = self._send(call.SetVariables(set_variable_data=[SetVariableDataType(
                    attribute_value=value, **_variable(SAMPLED_DATA_CTRLR, name))]))
                status = (reply.get("setVariableResult") or [{}])[0].get("attributeStatus")
                if status in WRITTEN:
                    changed.append(f"{setting}={value}")
                    break
                if status in ABSENT:
                    missing.append(f"{setting} ({status})")
                    break
            else:
                missing.append(f"{setting} (every value rejected)")
        return MeteringOutcome(tuple(changed), tuple(missing))


def start_request(payload: dict[str, Any]) -> StartRequest:
    """The intent in a raw 2.0.1 RequestStartTransaction payload (``idToken.idToken``,
    ``evseId``). Raises :class:`InvalidInput` when the token or plug is missing or
    unusable."""
    id_token = payload.get("idToken")
    id_tag = id_token.get("idToken") if isinstance(id_token, dict) else None
    if not isinstance(id_tag, str) or not 1 <= len(id_tag) <= 36:
        raise InvalidInput("idToken.idToken is required: 1 to 36 characters")
    evse_id = payload.get("evseId")
    if evse_id is not None and (not isinstance(evse_id, int) or isinstance(evse_id, bool)
                                or evse_id < 1):
        raise InvalidInput("evseId must be a whole number of 1 or more")
    return StartRequest(id_tag, evse_id)
