"""The smart-charging intents in both OCPP versions, in-process against the simulated
chargers' own handlers: every message Voltspot builds is checked against its version's
schema, every answer too, and read back into the version-neutral outcome."""

from __future__ import annotations

from typing import Any

import pytest
from ocpp.charge_point import remove_nones, serialize_as_dict, snake_to_camel_case
from ocpp.messages import MessageType

from voltspot.ocpp import frames
from voltspot.ocpp.v16.smart_charging import SmartCharging16
from voltspot.ocpp.v201.smart_charging import SmartCharging201
from voltspot.services.load.intents import ChargingLimit, LimitPurpose, RateUnit
from voltspot.simulator import SimulatedCharger, SimulatedCharger201


def _camel(message: object) -> dict[str, Any]:
    return remove_nones(snake_to_camel_case(serialize_as_dict(message)))


def _wire(version: str, handle) -> Any:
    """A ``send`` that validates the call, hands it to ``handle(action, snake_payload)``
    (the simulator), validates the answer and returns it as a charger would."""
    sent: list[tuple[str, dict[str, Any]]] = []

    def send(message: object) -> dict[str, Any]:
        action, payload = type(message).__name__, _camel(message)
        frames.validate(MessageType.Call, action, payload, version)
        sent.append((action, payload))
        answer = _camel(handle(action, frames.snake_case_keys(payload)))
        frames.validate(MessageType.CallResult, action, answer, version)
        return answer

    send.sent = sent  # type: ignore[attr-defined]
    return send


def _charger16() -> tuple[SimulatedCharger, Any]:
    charger = SimulatedCharger("ws://127.0.0.1:9/ocpp", "SC-16", connectors=2)

    def handle(action: str, payload: dict[str, Any]) -> Any:
        if action == "SetChargingProfile":
            return charger._set_charging_profile(payload["connector_id"],
                                                 payload["cs_charging_profiles"])
        if action == "ClearChargingProfile":
            return charger._clear_charging_profile(
                payload.get("id"), payload.get("connector_id"),
                payload.get("charging_profile_purpose"), payload.get("stack_level"))
        if action == "GetCompositeSchedule":
            return charger._get_composite_schedule(payload["connector_id"], payload["duration"],
                                                   payload.get("charging_rate_unit"))
        assert action == "GetConfiguration"
        return charger._get_configuration(payload.get("key"))

    return charger, _wire("1.6", handle)


def _charger201() -> tuple[SimulatedCharger201, Any]:
    from ocpp.v201 import call_result

    charger = SimulatedCharger201("ws://127.0.0.1:9/ocpp", "SC-201", evses=2)

    def handle(action: str, payload: dict[str, Any]) -> Any:
        if action == "SetChargingProfile":
            return charger._set_charging_profile(payload["evse_id"], payload["charging_profile"])
        if action == "ClearChargingProfile":
            return charger._clear_charging_profile(payload.get("charging_profile_id"),
                                                   payload.get("charging_profile_criteria") or {})
        if action == "GetCompositeSchedule":
            return charger._get_composite_schedule(payload["evse_id"], payload["duration"],
                                                   payload.get("charging_rate_unit"))
        assert action == "GetVariables"
        return call_result.GetVariables(get_variable_result=[
            charger.device_model.get_variable(item) for item in payload["get_variable_data"]])

    return charger, _wire("2.0.1", handle)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_charger_reports_what_smart_charging_it_takes(version):
    charger, send = _charger16() if version == "1.6" else _charger201()
    intents = SmartCharging16(send) if version == "1.6" else SmartCharging201(send)
    settings = intents.read_smart_charging_settings()
    assert settings.supported
    assert settings.units == (RateUnit.AMPS, RateUnit.WATTS)
    assert (settings.max_stack_level, settings.max_profiles) == (8, 16)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_plug_default_limit_is_what_the_charger_then_allows(version):
    charger, send = _charger16() if version == "1.6" else _charger201()
    intents = SmartCharging16(send) if version == "1.6" else SmartCharging201(send)
    outcome = intents.set_charging_limit(ChargingLimit(LimitPurpose.PLUG_DEFAULT, 8.0))
    assert (outcome.accepted, outcome.status) == (True, "Accepted")
    assert charger.allowed_amps(1) == pytest.approx(8.0)
    schedule = intents.composite_schedule(1, 300, RateUnit.AMPS)
    assert schedule.accepted and schedule.limit_now_amps() == pytest.approx(8.0)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_station_cap_in_watts_caps_every_plug(version):
    charger, send = _charger16() if version == "1.6" else _charger201()
    intents = SmartCharging16(send) if version == "1.6" else SmartCharging201(send)
    cap = ChargingLimit(LimitPurpose.STATION_MAX, 10.0, unit=RateUnit.WATTS)
    assert intents.set_charging_limit(cap).accepted
    action, payload = send.sent[-1]
    profile = payload.get("csChargingProfiles") or payload["chargingProfile"]
    assert action == "SetChargingProfile"
    assert profile["chargingProfilePurpose"] in ("ChargePointMaxProfile",
                                                 "ChargingStationMaxProfile")
    assert charger.allowed_amps(2) == pytest.approx(10.0)
    schedule = intents.composite_schedule(2, 60, RateUnit.WATTS)
    assert schedule.unit is RateUnit.WATTS and schedule.periods[0].limit == 6900


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_clearing_a_limit_restores_full_power_and_clearing_nothing_is_fine(version):
    charger, send = _charger16() if version == "1.6" else _charger201()
    intents = SmartCharging16(send) if version == "1.6" else SmartCharging201(send)
    intents.set_charging_limit(ChargingLimit(LimitPurpose.PLUG_DEFAULT, 8.0, plug=1))
    assert intents.clear_charging_limit(LimitPurpose.PLUG_DEFAULT, 1).status == "Accepted"
    assert charger.allowed_amps(1) == pytest.approx(22000 / 690)
    again = intents.clear_charging_limit(LimitPurpose.PLUG_DEFAULT, 1)
    assert (again.accepted, again.status) == (True, "Unknown")


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_charger_that_takes_stack_level_zero_only_refuses_level_one(version):
    charger, send = _charger16() if version == "1.6" else _charger201()
    intents = SmartCharging16(send) if version == "1.6" else SmartCharging201(send)
    charger.profiles.stack_level_zero_only = True
    refused = intents.set_charging_limit(ChargingLimit(LimitPurpose.PLUG_DEFAULT, 8.0,
                                                       stack_level=1))
    assert (refused.accepted, refused.status) == (False, "Rejected")
    assert intents.set_charging_limit(ChargingLimit(LimitPurpose.PLUG_DEFAULT, 8.0)).accepted


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_a_relative_transaction_profile_fits_the_schema(version):
    # A TxProfile names its transaction; the simulated charger has none running, so it
    # refuses, but the message must still be one the charger can read.
    charger, send = _charger16() if version == "1.6" else _charger201()
    intents = SmartCharging16(send) if version == "1.6" else SmartCharging201(send)
    limit = ChargingLimit(LimitPurpose.TRANSACTION, 10.6, plug=1, charger_transaction_id="17",
                          stack_level=1, relative=True)
    assert intents.set_charging_limit(limit).status == "Rejected"
    profile = send.sent[-1][1].get("csChargingProfiles") or send.sent[-1][1]["chargingProfile"]
    assert profile["chargingProfileKind"] == "Relative"
    assert profile["transactionId"] in (17, "17")


_COMPOSITE_16 = {"status": "Accepted", "connectorId": 1, "chargingSchedule": {
    "chargingRateUnit": "A", "duration": 60,
    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 21.4}]}}


@pytest.mark.parametrize("first", ["voltspot", "library"])
def test_voltspot_and_the_library_check_a_16_composite_schedule_alike_in_one_process(first):
    """A simulated charger runs in the same process as Voltspot in the demo and in tests:
    whichever checks a 1.6 composite schedule first, both checks keep working (the
    library caches one parse of each schema, with floats or decimals, whoever asks)."""
    import asyncio

    from ocpp import messages

    messages._validators.pop("GetCompositeScheduleResponse_1.6", None)

    def voltspot_check() -> None:
        frames.validate(MessageType.CallResult, "GetCompositeSchedule", _COMPOSITE_16, "1.6")

    def library_check() -> None:
        reply = messages.CallResult("1", dict(_COMPOSITE_16), action="GetCompositeSchedule")
        asyncio.run(messages.validate_payload(reply, "1.6"))

    checks = [voltspot_check, library_check]
    if first == "library":
        checks.reverse()
    for check in checks:
        check()
