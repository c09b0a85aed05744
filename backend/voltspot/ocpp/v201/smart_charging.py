"""Voltspot's smart-charging intents in OCPP 2.0.1 (functional block K): SetChargingProfile,
ClearChargingProfile, GetCompositeSchedule and the SmartChargingCtrlr variables that say
what a charging station accepts. Voltspot's plugs are EVSEs; 0 is the station."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ocpp.v201 import call

from voltspot.ocpp.replies import outcome, whole_number
from voltspot.services.charger_control import CommandOutcome
from voltspot.services.load.intents import (
    ChargingLimit,
    CompositeSchedule,
    LimitPurpose,
    RateUnit,
    SchedulePeriod,
    SmartChargingSettings,
)

Send = Callable[[object], dict[str, Any]]

PURPOSE = {
    LimitPurpose.TRANSACTION: "TxProfile",
    LimitPurpose.PLUG_DEFAULT: "TxDefaultProfile",
    LimitPurpose.STATION_MAX: "ChargingStationMaxProfile",
}
CONTROLLER = "SmartChargingCtrlr"
# (variable, instance) read from the controller.
SETTINGS_VARIABLES = (
    ("Enabled", None),
    ("Available", None),
    ("RateUnit", None),
    ("ProfileStackLevel", None),
    ("Entries", "ChargingProfiles"),
)




def profile(limit: ChargingLimit, now: datetime | None = None, *, starting: bool = False
            ) -> dict[str, Any]:
    """The chargingProfile object for ``limit`` (snake_case keys, as the library's typed
    call takes them). ``starting``: the TxProfile that goes with a start request, for the
    transaction it will open (no transaction id yet: the specification forbids one)."""
    schedule: dict[str, Any] = {
        "id": limit.profile_id,
        "charging_rate_unit": limit.unit.value,
        "charging_schedule_period": [
            {"start_period": 0, "limit": limit.value, "number_phases": limit.phases}
        ],
    }
    body: dict[str, Any] = {
        "id": limit.profile_id,
        "stack_level": limit.stack_level,
        "charging_profile_purpose": PURPOSE[limit.purpose],
        "charging_profile_kind": "Relative" if limit.relative else "Absolute",
        "charging_schedule": [schedule],
    }
    if not limit.relative:
        start = (now or datetime.now(UTC)).replace(microsecond=0)
        schedule["start_schedule"] = start.isoformat().replace("+00:00", "Z")
    if limit.purpose is LimitPurpose.TRANSACTION and not starting:
        if limit.charger_transaction_id is None:
            raise ValueError("a transaction limit names the charger's transaction")
        body["transaction_id"] = limit.charger_transaction_id
    return body


class SmartCharging201:
    """The smart-charging intents for one 2.0.1 charging station; ``send`` delivers a typed
    call and returns the station's reply (camelCase keys)."""

    def __init__(self, send: Send) -> None:
        self._send = send

    def set_charging_limit(self, limit: ChargingLimit) -> CommandOutcome:
        evse = 0 if limit.purpose is LimitPurpose.STATION_MAX else limit.plug
        answer = self._send(call.SetChargingProfile(evse_id=evse,
                                                    charging_profile=profile(limit)))
        return outcome(answer, "Accepted")

    def clear_charging_limit(self, purpose: LimitPurpose, plug: int | None = None
                             ) -> CommandOutcome:
        criteria: dict[str, Any] = {"charging_profile_purpose": PURPOSE[purpose]}
        evse = 0 if purpose is LimitPurpose.STATION_MAX else plug
        if evse is not None:
            criteria["evse_id"] = evse
        answer = self._send(call.ClearChargingProfile(charging_profile_criteria=criteria))
        return outcome(answer, "Accepted", "Unknown")

    def composite_schedule(self, plug: int, duration_s: int, unit: RateUnit | None
                           ) -> CompositeSchedule:
        answer = self._send(call.GetCompositeSchedule(
            duration=duration_s, evse_id=plug,
            charging_rate_unit=unit.value if unit else None))
        status = str(answer.get("status", ""))
        schedule = answer.get("schedule") or {}
        if status != "Accepted" or not schedule:
            return CompositeSchedule(status == "Accepted", status, answer)
        periods = tuple(
            SchedulePeriod(int(period["startPeriod"]), float(period["limit"]),
                           period.get("numberPhases"))
            for period in schedule.get("chargingSchedulePeriod") or [])
        return CompositeSchedule(True, status, answer, RateUnit(schedule["chargingRateUnit"]),
                                 periods)

    def read_smart_charging_settings(self) -> SmartChargingSettings:
        request = []
        for variable, instance in SETTINGS_VARIABLES:
            wanted: dict[str, Any] = {"name": variable}
            if instance:
                wanted["instance"] = instance
            request.append({"component": {"name": CONTROLLER}, "variable": wanted})
        answer = self._send(call.GetVariables(get_variable_data=request))
        values: dict[str, str] = {}
        for result in answer.get("getVariableResult") or []:
            if result.get("attributeStatus") == "Accepted":
                values[str(result.get("variable", {}).get("name"))] = str(
                    result.get("attributeValue", ""))
        enabled = values.get("Enabled", values.get("Available", "true")).lower() != "false"
        units = tuple(RateUnit(word.strip()) for word in values.get("RateUnit", "A").split(",")
                      if word.strip() in ("A", "W"))
        return SmartChargingSettings(
            True, "Accepted", answer, supported=enabled,
            units=units or (RateUnit.AMPS,),
            max_stack_level=whole_number(values.get("ProfileStackLevel")),
            max_profiles=whole_number(values.get("Entries")),
        )
