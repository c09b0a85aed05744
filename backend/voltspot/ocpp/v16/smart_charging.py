"""Voltspot's smart-charging intents in OCPP 1.6J (the Smart Charging feature profile):
SetChargingProfile, ClearChargingProfile, GetCompositeSchedule and the configuration keys
that say what a charger accepts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ocpp.v16 import call

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
    LimitPurpose.STATION_MAX: "ChargePointMaxProfile",
}
UNIT = {RateUnit.AMPS: "A", RateUnit.WATTS: "W"}
SETTINGS_KEYS = (
    "SupportedFeatureProfiles",
    "ChargeProfileMaxStackLevel",
    "ChargingScheduleAllowedChargingRateUnit",
    "MaxChargingProfilesInstalled",
)




def profile(limit: ChargingLimit, now: datetime | None = None, *, starting: bool = False
            ) -> dict[str, Any]:
    """The csChargingProfiles object for ``limit`` (snake_case keys, as the library's typed
    call takes them). ``starting``: the TxProfile that goes with a start request, for the
    transaction it will open (no transaction id yet: the specification forbids one)."""
    schedule: dict[str, Any] = {
        "charging_rate_unit": UNIT[limit.unit],
        "charging_schedule_period": [
            {"start_period": 0, "limit": limit.value, "number_phases": limit.phases}
        ],
    }
    body: dict[str, Any] = {
        "charging_profile_id": limit.profile_id,
        "stack_level": limit.stack_level,
        "charging_profile_purpose": PURPOSE[limit.purpose],
        "charging_profile_kind": "Relative" if limit.relative else "Absolute",
        "charging_schedule": schedule,
    }
    if not limit.relative:
        # An Absolute profile without a start would start at an undefined moment.
        start = (now or datetime.now(UTC)).replace(microsecond=0)
        schedule["start_schedule"] = start.isoformat().replace("+00:00", "Z")
    if limit.purpose is LimitPurpose.TRANSACTION and not starting:
        if limit.charger_transaction_id is None:
            raise ValueError("a transaction limit names the charger's transaction")
        body["transaction_id"] = int(limit.charger_transaction_id)
    return body


class SmartCharging16:
    """The smart-charging intents for one 1.6 charger; ``send`` delivers a typed call and
    returns the charger's reply (camelCase keys)."""

    def __init__(self, send: Send) -> None:
        self._send = send

    def set_charging_limit(self, limit: ChargingLimit) -> CommandOutcome:
        plug = 0 if limit.purpose is LimitPurpose.STATION_MAX else limit.plug
        answer = self._send(call.SetChargingProfile(connector_id=plug,
                                                    cs_charging_profiles=profile(limit)))
        return outcome(answer, "Accepted")

    def clear_charging_limit(self, purpose: LimitPurpose, plug: int | None = None
                             ) -> CommandOutcome:
        # Cleared by purpose (and plug) rather than by id: that also removes profiles
        # someone else installed for the same purpose, which would otherwise cap the car.
        connector = 0 if purpose is LimitPurpose.STATION_MAX else plug
        answer = self._send(call.ClearChargingProfile(
            connector_id=connector, charging_profile_purpose=PURPOSE[purpose]))
        # "Unknown": nothing matched, which is what was asked for.
        return outcome(answer, "Accepted", "Unknown")

    def composite_schedule(self, plug: int, duration_s: int, unit: RateUnit | None
                           ) -> CompositeSchedule:
        answer = self._send(call.GetCompositeSchedule(
            connector_id=plug, duration=duration_s,
            charging_rate_unit=UNIT[unit] if unit else None))
        status = str(answer.get("status", ""))
        schedule = answer.get("chargingSchedule") or {}
        if status != "Accepted" or not schedule:
            return CompositeSchedule(status == "Accepted", status, answer)
        periods = tuple(
            SchedulePeriod(int(period["startPeriod"]), float(period["limit"]),
                           period.get("numberPhases"))
            for period in schedule.get("chargingSchedulePeriod") or [])
        return CompositeSchedule(True, status, answer, RateUnit(schedule["chargingRateUnit"]),
                                 periods)

    def read_smart_charging_settings(self) -> SmartChargingSettings:
        answer = self._send(call.GetConfiguration(key=list(SETTINGS_KEYS)))
        values = {str(item.get("key")): item.get("value")
                  for item in answer.get("configurationKey") or []}
        profiles = values.get("SupportedFeatureProfiles")
        # A charger that does not list its profiles is given the benefit of the doubt: a
        # rejected profile says the rest.
        supported = profiles is None or "SmartCharging" in str(profiles)
        units_text = str(values.get("ChargingScheduleAllowedChargingRateUnit") or "Current")
        units = tuple(unit for word, unit in (("Current", RateUnit.AMPS),
                                              ("Power", RateUnit.WATTS))
                      if word.lower() in units_text.lower())
        return SmartChargingSettings(
            True, "Accepted", answer, supported=supported,
            units=units or (RateUnit.AMPS,),
            max_stack_level=whole_number(values.get("ChargeProfileMaxStackLevel")),
            max_profiles=whole_number(values.get("MaxChargingProfilesInstalled")),
        )
