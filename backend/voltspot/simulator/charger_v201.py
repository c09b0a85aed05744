"""One simulated OCPP 2.0.1 charging station playing realistic sessions against a CSMS.

The station connects to ``{url}/{charge_point_id}`` (subprotocol ``ocpp2.0.1``, HTTP Basic
auth when a password is given), boots, reports each EVSE's connector, sends heartbeats and
answers the CSMS. It behaves as the 1.6J simulator does (same car model, ``speed``,
reconnecting, cars arriving on their own; see :class:`ChargerBase`) and as real 2.0.1
stations do:

- a device model (``voltspot.simulator.device_model``) read and written with GetVariables /
  SetVariables and reported with GetBaseReport → NotifyReport, also while the boot is Pending;
- ``SampledDataCtrlr.TxUpdatedMeasurands`` is empty unless configured, so a transaction
  reports no meter values until the CSMS sets it;
- ``TxCtrlr.TxStartPoint`` decides when the transaction starts: ``PowerPathClosed`` (when
  the car is plugged in *and* authorised; a remote start before the car arrives sends
  Started(RemoteStart) before Updated(CablePluggedIn)) or ``EVConnected`` (at plug-in,
  Started(CablePluggedIn) without an idToken);
- transaction ids are chosen by the station (uuid4), seqNo counts from 0 per transaction;
  TransactionEvents wait in an outbox while offline (``offline`` true, original
  timestamps) and one cut off by a dropped connection is sent again with the same seqNo;
- a lost connection reconnects without a new BootNotification; a reset boots again
  (RemoteReset, or ScheduledReset for an OnIdle reset that waited for transactions).

Pure asyncio: no Flask, no database.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ocpp.exceptions import NotImplementedError as OCPPNotImplemented
from ocpp.exceptions import OCPPError
from ocpp.messages import MessageType
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import (
    Action,
    AuthorizationStatusEnumType,
    BootReasonEnumType,
    ChangeAvailabilityStatusEnumType,
    ChargingProfileStatusEnumType,
    ChargingStateEnumType,
    ClearCacheStatusEnumType,
    ClearChargingProfileStatusEnumType,
    ConnectorStatusEnumType,
    DataEnumType,
    DataTransferStatusEnumType,
    GenericDeviceModelStatusEnumType,
    GenericStatusEnumType,
    IdTokenEnumType,
    LocationEnumType,
    MeasurandEnumType,
    MessageTriggerEnumType,
    MutabilityEnumType,
    OperationalStatusEnumType,
    ReadingContextEnumType,
    ReasonEnumType,
    RegistrationStatusEnumType,
    ReportBaseEnumType,
    RequestStartStopStatusEnumType,
    ResetEnumType,
    ResetStatusEnumType,
    TransactionEventEnumType,
    TriggerMessageStatusEnumType,
    TriggerReasonEnumType,
    UnlockStatusEnumType,
)
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from voltspot import __version__
from voltspot.simulator.base import (
    DEFAULT_HEARTBEAT_S,
    IDLE_TICK_S,
    ChargerBase,
    ChargerOffline,
    ConnectorUnavailable,
    FollowUp,
    LinkMixin,
    Plug,
    SessionRefused,
    log,
    timestamp,
)
from voltspot.simulator.car import PHASES, VOLTAGE_V, Car
from voltspot.simulator.device_model import (
    ComponentKey,
    DeviceModel,
    Variable,
    is_boolean,
    is_integer,
    is_member_list,
    split_list,
)

OCPP201 = Subprotocol("ocpp2.0.1")

MEASURANDS: tuple[str, ...] = (
    MeasurandEnumType.energy_active_import_register,
    MeasurandEnumType.power_active_import,
    MeasurandEnumType.soc,
    MeasurandEnumType.current_import,
    MeasurandEnumType.voltage,
)
TX_START_POINTS = ("PowerPathClosed", "EVConnected")
# The station ends a transaction when the car leaves or the driver stops it; it does not
# model other stop points, so the variable is read-only.
TX_STOP_POINT = "EVConnected,Authorized"
UNLOCK_ANSWERS = ("Unlocked", "NotImplemented")
CONNECTOR_ID = 1  # one connector per EVSE, as on most stations

_ENERGY_ONLY = MeasurandEnumType.energy_active_import_register
_RESET_DELIVERY_TIMEOUT_S = 10.0
_TRIGGERABLE = {
    MessageTriggerEnumType.boot_notification,
    MessageTriggerEnumType.heartbeat,
    MessageTriggerEnumType.status_notification,
    MessageTriggerEnumType.meter_values,
    MessageTriggerEnumType.transaction_event,
}


@dataclass
class _Authorization:
    """A driver's permission to charge: the idToken and, for a remote start, its id."""

    id_token: dict[str, Any]
    remote_start_id: int | None = None
    # The TxProfile a RequestStartTransaction carried, for the transaction it starts.
    profile: dict[str, Any] | None = None


@dataclass
class _Transaction:
    id: str
    evse_id: int
    charging_state: ChargingStateEnumType = ChargingStateEnumType.ev_connected
    authorized: bool = False
    seq_nos: itertools.count = field(default_factory=itertools.count)
    # The power the car drew the moment the transaction was authorised.
    first_power_w: float | None = None


@dataclass
class _Evse(Plug):
    car: Car | None = None
    transaction: _Transaction | None = None
    # Claimed synchronously when a card is shown or a remote start accepted, so a second
    # authorisation for the same EVSE is refused while the first is under way.
    authorization: _Authorization | None = None
    faulted: bool = False


@dataclass
class _Outgoing:
    payload: call.TransactionEvent
    answer: asyncio.Future[Any]
    attempts: int = 0


def _retrieve(future: asyncio.Future[Any]) -> None:
    # An answer nobody waited for must not be reported as "never retrieved".
    if not future.cancelled():
        future.exception()


def _is_call(raw: str | bytes) -> bool:
    try:
        return json.loads(raw)[0] == MessageType.Call
    except (ValueError, LookupError, TypeError):
        return False


class _Link(LinkMixin, ChargePoint):
    """The OCPP 2.0.1 endpoint of one WebSocket connection (see :class:`LinkMixin`).

    While the last boot was Rejected, calls from the CSMS go unanswered, as the
    specification asks (B03).
    """

    async def route_message(self, raw_msg: str | bytes) -> None:
        if (self._charger.registration == RegistrationStatusEnumType.rejected
                and _is_call(raw_msg)):
            log.info("%s: registration rejected, ignoring a call from the CSMS", self.id)
            return
        await super().route_message(raw_msg)

    @on(Action.request_start_transaction)
    def on_request_start_transaction(self, call_unique_id: str, id_token: dict[str, Any],
                                     remote_start_id: int, evse_id: int | None = None,
                                     charging_profile: dict[str, Any] | None = None,
                                     **_: Any) -> Any:
        decision = self._charger._request_start(id_token, remote_start_id, evse_id,
                                                charging_profile)
        return self._answer(call_unique_id, decision)

    @after(Action.request_start_transaction)
    def after_request_start_transaction(self, call_unique_id: str, **_: Any) -> None:
        self._follow_up(call_unique_id)

    @on(Action.request_stop_transaction)
    def on_request_stop_transaction(self, call_unique_id: str, transaction_id: str,
                                    **_: Any) -> Any:
        return self._answer(call_unique_id, self._charger._request_stop(transaction_id))

    @after(Action.request_stop_transaction)
    def after_request_stop_transaction(self, call_unique_id: str, **_: Any) -> None:
        self._follow_up(call_unique_id)

    @on(Action.reset)
    def on_reset(self, call_unique_id: str, type: str, evse_id: int | None = None,
                 **_: Any) -> Any:
        decision = self._charger._reset(ResetEnumType(type), evse_id)
        return self._answer(call_unique_id, decision)

    @after(Action.reset)
    def after_reset(self, call_unique_id: str, **_: Any) -> None:
        self._follow_up(call_unique_id)

    @on(Action.unlock_connector)
    def on_unlock_connector(self, call_unique_id: str, evse_id: int, connector_id: int,
                            **_: Any) -> Any:
        return self._answer(call_unique_id, self._charger._unlock(evse_id, connector_id))

    @after(Action.unlock_connector)
    def after_unlock_connector(self, call_unique_id: str, **_: Any) -> None:
        self._follow_up(call_unique_id)

    @on(Action.change_availability)
    def on_change_availability(self, call_unique_id: str, operational_status: str,
                               evse: dict[str, Any] | None = None, **_: Any) -> Any:
        decision = self._charger._change_availability(
            OperationalStatusEnumType(operational_status), evse)
        return self._answer(call_unique_id, decision)

    @after(Action.change_availability)
    def after_change_availability(self, call_unique_id: str, **_: Any) -> None:
        self._follow_up(call_unique_id)

    @on(Action.trigger_message)
    def on_trigger_message(self, call_unique_id: str, requested_message: str,
                           evse: dict[str, Any] | None = None, **_: Any) -> Any:
        decision = self._charger._trigger(self, requested_message, evse)
        return self._answer(call_unique_id, decision)

    @after(Action.trigger_message)
    def after_trigger_message(self, call_unique_id: str, **_: Any) -> None:
        self._follow_up(call_unique_id)

    @on(Action.get_base_report)
    def on_get_base_report(self, call_unique_id: str, request_id: int, report_base: str,
                           **_: Any) -> Any:
        decision = self._charger._base_report(request_id, ReportBaseEnumType(report_base))
        return self._answer(call_unique_id, decision)

    @after(Action.get_base_report)
    def after_get_base_report(self, call_unique_id: str, **_: Any) -> None:
        self._follow_up(call_unique_id)

    @on(Action.get_variables)
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        return call_result.GetVariables(get_variable_result=[
            self._charger.device_model.get_variable(item) for item in get_variable_data])

    @on(Action.set_variables)
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        return self._charger._set_variables(set_variable_data)

    @on(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> Any:
        return call_result.ClearCache(status=ClearCacheStatusEnumType.accepted)

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any],
                                **_: Any) -> Any:
        return self._charger._set_charging_profile(evse_id, charging_profile)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, charging_profile_id: int | None = None,
                                  charging_profile_criteria: dict[str, Any] | None = None,
                                  **_: Any) -> Any:
        return self._charger._clear_charging_profile(charging_profile_id,
                                                     charging_profile_criteria or {})

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, duration: int, evse_id: int,
                                  charging_rate_unit: str | None = None, **_: Any) -> Any:
        return self._charger._get_composite_schedule(evse_id, duration, charging_rate_unit)

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> Any:
        return call_result.DataTransfer(status=DataTransferStatusEnumType.unknown_vendor_id)


class SimulatedCharger201(ChargerBase):
    """A realistic OCPP 2.0.1 charging station with ``evses`` EVSEs of one connector each.

    Drive it with :meth:`run` (see :class:`ChargerBase` for connecting, ``speed``,
    ``step_delay`` and ``auto_sessions``; the module docstring for the 2.0.1 behaviour).
    While it runs, tests can use the awaitable helpers :meth:`plug_in`, :meth:`unplug`,
    :meth:`send_meter_values` and :meth:`set_faulted`. ``transactions`` maps EVSE id to
    the running transaction id, ``device_model`` is the station's device model and
    ``queued_transaction_events`` counts TransactionEvents not yet answered by the CSMS.

    ``tx_updated_measurands`` is the initial SampledDataCtrlr.TxUpdatedMeasurands (empty:
    no meter values during a transaction until the CSMS sets it); ``meter_interval`` the
    initial TxUpdatedInterval. ``tx_start_point`` is "PowerPathClosed" or "EVConnected".
    ``unlock_connector`` is how UnlockConnector is answered: "Unlocked", or
    "NotImplemented" for a CALLERROR as some real stations send.
    """

    subprotocol = OCPP201

    def __init__(self, url: str, charge_point_id: str, password: str | None = None, *,
                 evses: int = 2, power_kw: float = 22.0, meter_interval: float = 10.0,
                 auto_sessions: bool = False, session_interval: float = 60.0,
                 speed: float = 1.0, id_tags: Sequence[str] | None = None,
                 battery_kwh: float = 60.0, step_delay: float = 1.0,
                 seed: int | None = None, tx_updated_measurands: str = "",
                 tx_start_point: str = "PowerPathClosed",
                 unlock_connector: str = "Unlocked") -> None:
        if evses < 1:
            raise ValueError("a charging station needs at least one EVSE")
        if tx_start_point not in TX_START_POINTS:
            raise ValueError(f"tx_start_point must be one of {', '.join(TX_START_POINTS)}")
        if unlock_connector not in UNLOCK_ANSWERS:
            raise ValueError(f"unlock_connector must be one of {', '.join(UNLOCK_ANSWERS)}")
        if not is_member_list(MEASURANDS)(tx_updated_measurands):
            raise ValueError(f"tx_updated_measurands must list some of {', '.join(MEASURANDS)}")
        super().__init__(url, charge_point_id, password, power_kw=power_kw,
                         meter_interval=meter_interval, auto_sessions=auto_sessions,
                         session_interval=session_interval, speed=speed, id_tags=id_tags,
                         battery_kwh=battery_kwh, step_delay=step_delay, seed=seed)
        self.unlock_connector = unlock_connector
        self.transactions: dict[int, str] = {}
        self._evses = {
            n: _Evse(n, register_wh=float(self._rng.randint(100_000, 5_000_000)))
            for n in range(1, evses + 1)
        }
        self._status = dict.fromkeys(self._evses, ConnectorStatusEnumType.available)
        self._operative = dict.fromkeys(self._evses, True)
        self.device_model = self._default_device_model(
            evses, round(meter_interval), ",".join(split_list(tx_updated_measurands)),
            tx_start_point)
        self._boot_due = True
        self._boot_reason = BootReasonEnumType.power_up
        self._reset_when_idle = False
        self._outbox: deque[_Outgoing] = deque()
        self._outbox_filled = asyncio.Event()

    def _default_device_model(self, evses: int, meter_interval: int,
                              tx_updated_measurands: str, tx_start_point: str) -> DeviceModel:
        station = ComponentKey("ChargingStation")
        comm = ComponentKey("OCPPCommCtrlr")
        sampled = ComponentKey("SampledDataCtrlr")
        tx = ComponentKey("TxCtrlr")
        auth = ComponentKey("AuthCtrlr")
        device_data = ComponentKey("DeviceDataCtrlr")
        smart = ComponentKey("SmartChargingCtrlr")
        read_only = MutabilityEnumType.read_only
        string, integer, boolean = DataEnumType.string, DataEnumType.integer, DataEnumType.boolean
        members, options = DataEnumType.member_list, DataEnumType.option_list
        measurands = ",".join(MEASURANDS)
        statuses = ",".join(ConnectorStatusEnumType)

        def measurand_list(component: ComponentKey, name: str, value: str) -> Variable:
            return Variable(component, name, value, members, values_list=measurands,
                            valid=is_member_list(MEASURANDS))

        # Variables for behaviour the simulator does not model (offline thresholds, local
        # authorisation, connection time-outs) are read-only, so a CSMS cannot set them and
        # believe they took effect.
        variables = [
            Variable(station, "Model", "Simulator", string, read_only),
            Variable(station, "VendorName", "Voltspot", string, read_only),
            Variable(station, "AvailabilityState", "Available", options, read_only,
                     values_list=statuses),
            Variable(station, "Available", "true", boolean, read_only),
            Variable(station, "SupplyPhases", str(PHASES), integer, read_only),
            Variable(comm, "HeartbeatInterval", str(DEFAULT_HEARTBEAT_S), integer, unit="s",
                     valid=is_integer(1)),
            Variable(comm, "MessageTimeout", "30", integer, read_only, instance="Default",
                     unit="s"),
            Variable(comm, "MessageAttempts", "3", integer, instance="TransactionEvent",
                     valid=is_integer(1)),
            Variable(comm, "MessageAttemptInterval", "10", integer, instance="TransactionEvent",
                     unit="s", valid=is_integer(0)),
            Variable(comm, "OfflineThreshold", "60", integer, read_only, unit="s"),
            Variable(comm, "ResetRetries", "0", integer, read_only),
            Variable(sampled, "Enabled", "true", boolean, read_only),
            measurand_list(sampled, "TxStartedMeasurands", _ENERGY_ONLY),
            measurand_list(sampled, "TxUpdatedMeasurands", tx_updated_measurands),
            Variable(sampled, "TxUpdatedInterval", str(meter_interval), integer, unit="s",
                     valid=is_integer(0)),
            measurand_list(sampled, "TxEndedMeasurands", _ENERGY_ONLY),
            Variable(sampled, "TxEndedInterval", "0", integer, read_only, unit="s"),
            Variable(tx, "TxStartPoint", tx_start_point, members,
                     values_list=",".join(TX_START_POINTS),
                     valid=is_member_list(TX_START_POINTS, at_least=1, at_most=1)),
            Variable(tx, "TxStopPoint", TX_STOP_POINT, members, read_only,
                     values_list=TX_STOP_POINT),
            Variable(tx, "EVConnectionTimeOut", "60", integer, read_only, unit="s"),
            Variable(tx, "StopTxOnInvalidId", "true", boolean, valid=is_boolean),
            Variable(tx, "StopTxOnEVSideDisconnect", "true", boolean, read_only),
            Variable(auth, "Enabled", "true", boolean, read_only),
            Variable(auth, "AuthorizeRemoteStart", "false", boolean, valid=is_boolean),
            Variable(auth, "LocalAuthorizeOffline", "false", boolean, read_only),
            Variable(auth, "LocalPreAuthorize", "false", boolean, read_only),
            Variable(device_data, "ItemsPerMessage", "20", integer, read_only,
                     instance="GetReport"),
            Variable(device_data, "ItemsPerMessage", "20", integer, read_only,
                     instance="GetVariables"),
            Variable(smart, "Enabled", "true", boolean, read_only),
            Variable(smart, "Available", "true", boolean, read_only),
            Variable(smart, "RateUnit", "A,W", members, read_only, values_list="A,W"),
            Variable(smart, "ProfileStackLevel", str(self.profiles.max_stack_level), integer,
                     read_only),
            Variable(smart, "PeriodsPerSchedule", "24", integer, read_only),
            Variable(smart, "Entries", str(self.profiles.max_profiles), integer, read_only,
                     instance="ChargingProfiles"),
        ]
        for n in range(1, evses + 1):
            for component in (ComponentKey("EVSE", evse=n),
                              ComponentKey("Connector", evse=n, connector=CONNECTOR_ID)):
                variables += [
                    Variable(component, "AvailabilityState", "Available", options, read_only,
                             values_list=statuses),
                    Variable(component, "Available", "true", boolean, read_only),
                    Variable(component, "SupplyPhases", str(PHASES), integer, read_only),
                ]
            variables += [
                Variable(ComponentKey("EVSE", evse=n), "Power", f"{self.power_w:g}",
                         DataEnumType.decimal, read_only, unit="W", max_limit=self.power_w),
                Variable(ComponentKey("Connector", evse=n, connector=CONNECTOR_ID),
                         "ConnectorType", "cType2", string, read_only),
            ]
        return DeviceModel(variables)

    def _setting(self, component: str, name: str, instance: str | None = None) -> str:
        return self.device_model.value(component, name, instance)

    @property
    def queued_transaction_events(self) -> int:
        """TransactionEvents waiting to be sent or answered, oldest first."""
        return len(self._outbox)

    # -- what ChargerBase needs -----------------------------------------------------------

    def _open_link(self, ws: ClientConnection) -> _Link:
        return _Link(self, ws)

    def _before_run(self) -> None:
        self._spawn(self._deliver_transaction_events())

    async def _start_up(self, link: _Link) -> None:
        if self._boot_due:
            await self._register(link)
            self._boot_due = False
        for evse_id in self._evses:
            await link.request(self._status_notification(evse_id))

    def _boot_notification(self, reason: BootReasonEnumType | None = None
                           ) -> call.BootNotification:
        return call.BootNotification(
            charging_station={
                "model": self._setting("ChargingStation", "Model"),
                "vendor_name": self._setting("ChargingStation", "VendorName"),
                "serial_number": self.serial,
                "firmware_version": f"voltspot-sim {__version__}",
            },
            reason=reason or self._boot_reason)

    def _heartbeat(self) -> call.Heartbeat:
        return call.Heartbeat()

    def _heartbeat_interval_s(self) -> int:
        return int(self._setting("OCPPCommCtrlr", "HeartbeatInterval"))

    def _accept_heartbeat_interval(self, seconds: int) -> None:
        self.device_model.update("OCPPCommCtrlr", "HeartbeatInterval", str(seconds))

    def _status_notification(self, evse_id: int) -> call.StatusNotification:
        return call.StatusNotification(
            timestamp=timestamp(), connector_status=self._status[evse_id], evse_id=evse_id,
            connector_id=CONNECTOR_ID)

    def _free_plugs(self) -> list[_Evse]:
        return [e for e in self._evses.values() if self._can_take_a_car(e)]

    def _can_take_a_car(self, evse: _Evse) -> bool:
        return not evse.busy and self._operative[evse.id] and not evse.faulted

    # -- statuses -------------------------------------------------------------------------

    def _set_status(self, evse_id: int, status: ConnectorStatusEnumType) -> None:
        self._status[evse_id] = status
        for component in ("EVSE", "Connector"):
            self.device_model.update(
                component, "AvailabilityState", status, evse=evse_id,
                connector=CONNECTOR_ID if component == "Connector" else None)

    async def _change_status(self, evse_id: int, status: ConnectorStatusEnumType) -> None:
        self._set_status(evse_id, status)
        await self._report_status(evse_id)

    def _idle_status(self, evse_id: int) -> ConnectorStatusEnumType:
        if self._evses[evse_id].faulted:
            return ConnectorStatusEnumType.faulted
        if self._operative[evse_id]:
            return ConnectorStatusEnumType.available
        return ConnectorStatusEnumType.unavailable

    # -- transaction events ---------------------------------------------------------------

    def _transaction_event(self, transaction: _Transaction, event_type: TransactionEventEnumType,
                           trigger: TriggerReasonEnumType, *,
                           charging_state: ChargingStateEnumType,
                           authorization: _Authorization | None = None,
                           stopped_reason: str | None = None,
                           meter_value: list[dict[str, Any]] | None = None,
                           with_evse: bool = False) -> asyncio.Future[Any]:
        """Queue one TransactionEvent for ``transaction``; returns the future of its answer.

        The event is stamped now, numbered next in the transaction and marked offline when
        the station is not online; the outbox sends events in order.
        """
        transaction.charging_state = charging_state
        info: dict[str, Any] = {"transaction_id": transaction.id,
                                "charging_state": charging_state}
        if stopped_reason is not None:
            info["stopped_reason"] = stopped_reason
        if authorization is not None and authorization.remote_start_id is not None:
            info["remote_start_id"] = authorization.remote_start_id
        payload = call.TransactionEvent(
            event_type=event_type, timestamp=timestamp(), trigger_reason=trigger,
            seq_no=next(transaction.seq_nos), transaction_info=info,
            meter_value=meter_value, offline=not self.booted.is_set(),
            evse={"id": transaction.evse_id, "connector_id": CONNECTOR_ID} if with_evse else None,
            id_token=authorization.id_token if authorization is not None else None)
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        answer.add_done_callback(_retrieve)
        self._outbox.append(_Outgoing(payload, answer))
        self._outbox_filled.set()
        return answer

    async def _deliver_transaction_events(self) -> None:
        """Send the outbox in order whenever online; an event stays at the head until the
        CSMS answers it (a CallError or timeout is retried MessageAttempts times)."""
        while True:
            if not self._outbox:
                self._outbox_filled.clear()
                await self._outbox_filled.wait()
                continue
            await self.booted.wait()
            head = self._outbox[0]
            try:
                result = await self._send_now(head.payload)
            except ChargerOffline:
                continue
            except (OCPPError, TimeoutError) as exc:
                head.attempts += 1
                attempts = int(self._setting("OCPPCommCtrlr", "MessageAttempts",
                                             "TransactionEvent"))
                if head.attempts < attempts:
                    log.warning("%s: TransactionEvent seqNo %d failed (%s), retrying", self.id,
                                head.payload.seq_no, exc or type(exc).__name__)
                    await asyncio.sleep(int(self._setting(
                        "OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent")))
                    continue
                log.warning("%s: TransactionEvent seqNo %d dropped after %d attempts", self.id,
                            head.payload.seq_no, head.attempts)
                self._outbox.popleft()
                head.answer.set_exception(exc)
                continue
            self._outbox.popleft()
            if not head.answer.done():
                head.answer.set_result(result)

    def _meter_value(self, evse: _Evse, measurands_variable: str,
                     context: ReadingContextEnumType) -> list[dict[str, Any]] | None:
        """One MeterValue with the measurands SampledDataCtrlr.<measurands_variable> lists,
        or None when it lists none."""
        return self._sampled(evse, split_list(self._setting("SampledDataCtrlr",
                                                             measurands_variable)), context)

    def _sampled(self, evse: _Evse, measurands: list[str],
                 context: ReadingContextEnumType) -> list[dict[str, Any]] | None:
        charging = (evse.car is not None and evse.transaction is not None
                    and evse.transaction.authorized)
        power = evse.car.power_w if charging else 0.0
        values: dict[str, tuple[float, str, LocationEnumType]] = {
            MeasurandEnumType.energy_active_import_register: (
                int(evse.register_wh), "Wh", LocationEnumType.outlet),
            MeasurandEnumType.power_active_import: (round(power), "W", LocationEnumType.outlet),
            MeasurandEnumType.current_import: (
                round(power / (PHASES * VOLTAGE_V), 1), "A", LocationEnumType.outlet),
            MeasurandEnumType.voltage: (VOLTAGE_V, "V", LocationEnumType.outlet),
        }
        if evse.car is not None:
            values[MeasurandEnumType.soc] = (int(evse.car.soc), "Percent", LocationEnumType.ev)
        sampled = [{"value": values[name][0], "measurand": name, "context": context,
                    "location": values[name][2], "unit_of_measure": {"unit": values[name][1]}}
                   for name in measurands if name in values]
        if not sampled:
            return None
        return [{"timestamp": timestamp(), "sampled_value": sampled}]

    # -- sessions -------------------------------------------------------------------------

    def _evse(self, evse_id: int) -> _Evse:
        try:
            return self._evses[evse_id]
        except KeyError:
            raise ValueError(f"{self.id} has no EVSE {evse_id}") from None

    async def plug_in(self, evse_id: int, id_token: str | None = None, *,
                      authorize: bool = True) -> str | None:
        """Plug a car into ``evse_id`` and, with ``id_token``, have the driver show that
        RFID card (type ISO14443).

        Sends StatusNotification Occupied (and with TxStartPoint EVConnected a
        TransactionEvent Started, CablePluggedIn), then for the card Authorize (unless
        ``authorize`` is False) and the TransactionEvent that authorises the transaction
        (Started with PowerPathClosed, Updated with EVConnected), then charges in the
        background until the car is full and leaves. Waits for the answers that decide
        (Authorize, the event carrying the idToken), so while offline it waits for the
        connection. Returns the transaction id, or None when plugged in without a card
        before any transaction starts. Raises ConnectorUnavailable if the EVSE is taken,
        inoperative or faulted, SessionRefused if the CSMS refuses the card (the car then
        leaves), ValueError for an unknown EVSE.
        """
        evse = self._evse(evse_id)
        if not self._can_take_a_car(evse):
            raise ConnectorUnavailable(f"{self.id}: EVSE {evse_id} is not free")
        evse.busy = True
        started = await self._car_connects(evse)
        if id_token is None:
            if started is not None:
                await started
            return evse.transaction.id if evse.transaction else None
        return await self._card_shown(evse, id_token, authorize=authorize)

    async def _car_arrives(self, evse: _Evse, id_tag: str) -> None:
        try:
            await self._car_connects(evse)
            await self._card_shown(evse, id_tag, authorize=True)
        except (SessionRefused, ConnectorUnavailable) as exc:
            log.info("%s", exc)

    async def _car_connects(self, evse: _Evse) -> asyncio.Future[Any] | None:
        """The car is plugged in: Occupied, and the transaction starts if TxStartPoint is
        EVConnected or a remote start waits for this car. Returns the answer to the
        Started event the plug-in caused, if any."""
        evse.car = self._new_car()
        log.info("%s: car plugged into EVSE %d, at %.0f %%", self.id, evse.id, evse.car.soc)
        await self._change_status(evse.id, ConnectorStatusEnumType.occupied)
        started = None
        if self._setting("TxCtrlr", "TxStartPoint") == "EVConnected":
            transaction = self._open_transaction(evse)
            started = self._transaction_event(
                transaction, TransactionEventEnumType.started,
                TriggerReasonEnumType.cable_plugged_in,
                charging_state=ChargingStateEnumType.ev_connected, with_evse=True,
                meter_value=self._meter_value(evse, "TxStartedMeasurands",
                                              ReadingContextEnumType.transaction_begin))
        if evse.authorization is not None:
            await self._start_authorized(evse, TriggerReasonEnumType.remote_start,
                                         just_plugged=True)
        return started

    def _open_transaction(self, evse: _Evse) -> _Transaction:
        transaction = _Transaction(id=str(uuid.uuid4()), evse_id=evse.id)
        evse.transaction = transaction
        self.transactions[evse.id] = transaction.id
        return transaction

    async def _card_shown(self, evse: _Evse, id_token: str, *, authorize: bool) -> str:
        if evse.car is None:
            raise ConnectorUnavailable(f"{self.id}: no car on EVSE {evse.id} any more")
        if evse.authorization is not None:
            raise ConnectorUnavailable(f"{self.id}: EVSE {evse.id} is already authorised")
        token = {"id_token": id_token, "type": IdTokenEnumType.iso14443}
        evse.authorization = _Authorization(token)
        if authorize:
            try:
                result = await self._send_reliably(call.Authorize(id_token=token))
            except BaseException:
                evse.authorization = None
                raise
            status = result.id_token_info["status"]
            if status != AuthorizationStatusEnumType.accepted:
                evse.authorization = None
                await self._unplug(evse, ReasonEnumType.ev_disconnected)
                raise SessionRefused(f"{self.id}: idToken {id_token} not authorised ({status})")
        return await self._start_authorized(evse, TriggerReasonEnumType.authorized)

    async def _start_authorized(self, evse: _Evse, trigger: TriggerReasonEnumType, *,
                                just_plugged: bool = False) -> str:
        """Authorise the EVSE's transaction with ``evse.authorization`` (starting it when
        TxStartPoint is PowerPathClosed) and start charging; returns the transaction id.

        Raises SessionRefused, after ending the transaction, when the CSMS answers the
        idToken with anything but Accepted and StopTxOnInvalidId is true.
        """
        authorization = evse.authorization
        assert authorization is not None
        transaction = evse.transaction
        opened = transaction is None
        if transaction is None:
            transaction = self._open_transaction(evse)
            answer = self._transaction_event(
                transaction, TransactionEventEnumType.started, trigger,
                charging_state=(ChargingStateEnumType.ev_connected if just_plugged
                                else ChargingStateEnumType.charging),
                authorization=authorization, with_evse=True,
                meter_value=self._meter_value(evse, "TxStartedMeasurands",
                                              ReadingContextEnumType.transaction_begin))
        else:
            answer = self._transaction_event(
                transaction, TransactionEventEnumType.updated, trigger,
                charging_state=ChargingStateEnumType.ev_connected, authorization=authorization)
        transaction.authorized = True
        log.info("%s: transaction %s on EVSE %d authorised for %s (%s)", self.id,
                 transaction.id, evse.id, authorization.id_token["id_token"], trigger)
        if authorization.profile is not None:
            self._set_charging_profile(evse.id, {**authorization.profile,
                                                 "transaction_id": transaction.id})
        if evse.car is not None:
            evse.car.sampled_at = asyncio.get_running_loop().time()
            evse.car.allowed_w = self._allowed_w(evse)
            transaction.first_power_w = evse.car.power_w
        status = AuthorizationStatusEnumType.accepted
        try:
            result = await answer
            if result.id_token_info:
                status = result.id_token_info["status"]
        except (OCPPError, TimeoutError):
            pass  # no verdict from the CSMS: the station keeps its own decision
        if evse.transaction is not transaction:
            return transaction.id
        if (status != AuthorizationStatusEnumType.accepted
                and self._setting("TxCtrlr", "StopTxOnInvalidId") == "true"):
            await self._end_transaction(evse, TriggerReasonEnumType.deauthorized,
                                        ReasonEnumType.de_authorized,
                                        ChargingStateEnumType.ev_connected)
            await self._unplug(evse, ReasonEnumType.ev_disconnected)
            raise SessionRefused(f"{self.id}: transaction {transaction.id} refused for "
                                 f"idToken {authorization.id_token['id_token']} ({status})")
        charging = None
        if opened and just_plugged:
            charging = self._transaction_event(transaction, TransactionEventEnumType.updated,
                                               TriggerReasonEnumType.cable_plugged_in,
                                               charging_state=ChargingStateEnumType.charging)
        elif transaction.charging_state != ChargingStateEnumType.charging:
            charging = self._transaction_event(transaction, TransactionEventEnumType.updated,
                                               TriggerReasonEnumType.charging_state_changed,
                                               charging_state=ChargingStateEnumType.charging)
        evse.task = self._spawn(self._charge(evse, transaction))
        if charging is not None:
            with contextlib.suppress(OCPPError, TimeoutError):
                await charging
        return transaction.id

    async def _charge(self, evse: _Evse, transaction: _Transaction) -> None:
        car = evse.car
        assert car is not None
        while True:
            interval = int(self._setting("SampledDataCtrlr", "TxUpdatedInterval"))
            await asyncio.sleep(interval or IDLE_TICK_S)
            if evse.transaction is not transaction:
                return
            self._deliver_energy(evse, car)
            meter_value = self._meter_value(evse, "TxUpdatedMeasurands",
                                            ReadingContextEnumType.sample_periodic)
            if interval and meter_value:
                self._transaction_event(transaction, TransactionEventEnumType.updated,
                                        TriggerReasonEnumType.meter_value_periodic,
                                        charging_state=transaction.charging_state,
                                        meter_value=meter_value)
            if car.full:
                break
        log.info("%s: car on EVSE %d is full", self.id, evse.id)
        self._transaction_event(transaction, TransactionEventEnumType.updated,
                                TriggerReasonEnumType.charging_state_changed,
                                charging_state=ChargingStateEnumType.suspended_ev)
        await asyncio.sleep(self.step_delay)
        if evse.transaction is transaction:
            await self._unplug(evse, ReasonEnumType.ev_disconnected)

    def _end_transaction(self, evse: _Evse, trigger: TriggerReasonEnumType,
                         stopped_reason: str | None, charging_state: ChargingStateEnumType
                         ) -> asyncio.Future[Any]:
        """Queue the Ended event of the EVSE's transaction (if any) and forget it; returns
        the future of the CSMS's answer (already done when there was none)."""
        transaction = evse.transaction
        if transaction is None:
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        if evse.car is not None and transaction.authorized:
            self._deliver_energy(evse, evse.car)
        answer = self._transaction_event(
            transaction, TransactionEventEnumType.ended, trigger, charging_state=charging_state,
            stopped_reason=stopped_reason,
            meter_value=self._meter_value(evse, "TxEndedMeasurands",
                                          ReadingContextEnumType.transaction_end))
        # Detached before anything awaits, so a concurrent stop finds nothing left to stop.
        evse.transaction = None
        evse.authorization = None
        self.transactions.pop(evse.id, None)
        self._cancel_task(evse)
        log.info("%s: transaction %s on EVSE %d ended (%s, %s)", self.id, transaction.id,
                 evse.id, trigger, stopped_reason or "no reason given")
        if self._reset_when_idle and not self.transactions:
            self._reset_when_idle = False
            self._spawn(self._reboot(BootReasonEnumType.scheduled_reset))
        return answer

    async def send_meter_values(self, evse_id: int, *, elapsed: float | None = None) -> None:
        """Update the EVSE's energy, then report it and wait for the CSMS's answer.

        ``elapsed`` is the simulated time in seconds to charge for first; by default the
        real time since the last update times ``speed``. During a transaction this is a
        TransactionEvent Updated (MeterValuePeriodic) with the TxUpdatedMeasurands (none
        while that variable is empty), queued like every transaction event; otherwise a
        MeterValues with the energy register, and ChargerOffline when not online.
        """
        evse = self._evse(evse_id)
        transaction = evse.transaction
        if transaction is None:
            await self._send_now(call.MeterValues(evse_id=evse_id, meter_value=self._sampled(
                evse, [_ENERGY_ONLY], ReadingContextEnumType.sample_periodic)))
            return
        if evse.car is not None and transaction.authorized:
            self._deliver_energy(evse, evse.car, elapsed)
        await self._transaction_event(
            transaction, TransactionEventEnumType.updated,
            TriggerReasonEnumType.meter_value_periodic,
            charging_state=transaction.charging_state,
            meter_value=self._meter_value(evse, "TxUpdatedMeasurands",
                                          ReadingContextEnumType.sample_periodic))

    async def unplug(self, evse_id: int,
                     reason: ReasonEnumType | str | None = ReasonEnumType.ev_disconnected
                     ) -> None:
        """Take the car away from ``evse_id``, ending its transaction first.

        ``reason`` EVDisconnected: the cable is pulled (Ended, EVCommunicationLost, Idle).
        Any other reason, or None for none at all as some stations send: the driver stops
        with the card first (Ended, StopAuthorized, EVConnected). Then StatusNotification
        Available (Unavailable if set inoperative meanwhile). Waits for the CSMS to answer
        the Ended event. Does nothing on a free EVSE.
        """
        await self._unplug(self._evse(evse_id), reason)

    async def _unplug(self, evse: _Evse, reason: str | None) -> None:
        if evse.transaction is None:
            if evse.busy:
                await self._car_leaves(evse)
            return
        if reason == ReasonEnumType.ev_disconnected:
            answer = self._end_transaction(evse, TriggerReasonEnumType.ev_communication_lost,
                                           reason, ChargingStateEnumType.idle)
        else:
            answer = self._end_transaction(evse, TriggerReasonEnumType.stop_authorized,
                                           reason, ChargingStateEnumType.ev_connected)
        self._free(evse)
        try:
            # The CSMS hears that the transaction ended before it hears the EVSE is free.
            await answer
        finally:
            await self._report_status(evse.id)

    async def _car_leaves(self, evse: _Evse) -> None:
        self._free(evse)
        await self._report_status(evse.id)

    def _free(self, evse: _Evse) -> None:
        """The car has gone: the EVSE takes new cars (its status is reported separately)."""
        self._cancel_task(evse)
        evse.car = None
        evse.authorization = None
        evse.busy = False
        self._set_status(evse.id, self._idle_status(evse.id))

    async def set_faulted(self, evse_id: int, faulted: bool = True) -> None:
        """Report a fault on ``evse_id`` (or its end): StatusNotification Faulted, and a
        running transaction ends (AbnormalCondition, stoppedReason Other); once cleared the
        status returns to Occupied or Available."""
        evse = self._evse(evse_id)
        evse.faulted = faulted
        if faulted:
            self._end_transaction(evse, TriggerReasonEnumType.abnormal_condition,
                                  ReasonEnumType.other, ChargingStateEnumType.ev_connected)
            await self._change_status(evse.id, ConnectorStatusEnumType.faulted)
        elif evse.car is not None:
            await self._change_status(evse.id, ConnectorStatusEnumType.occupied)
        else:
            await self._change_status(evse.id, self._idle_status(evse.id))

    # -- commands from the CSMS: each returns (reply, follow-up sent after the reply) ----

    def _request_start(self, id_token: dict[str, Any], remote_start_id: int,
                       evse_id: int | None, profile: dict[str, Any] | None = None
                       ) -> tuple[call_result.RequestStartTransaction, FollowUp | None]:
        if evse_id is None:
            candidates = sorted(self._evses.values(), key=lambda e: e.car is None)
            evse = next((e for e in candidates if self._can_start_remotely(e)), None)
        else:
            evse = self._evses.get(evse_id)
        if evse is None or not self._can_start_remotely(evse):
            log.info("%s: remote start %d for %s rejected, EVSE %s not free", self.id,
                     remote_start_id, id_token.get("id_token"), evse_id)
            return call_result.RequestStartTransaction(
                status=RequestStartStopStatusEnumType.rejected), None
        authorization = _Authorization(id_token, remote_start_id, profile)
        evse.authorization = authorization
        evse.busy = True
        transaction_id = evse.transaction.id if evse.transaction else None
        log.info("%s: remote start %d for %s accepted on EVSE %d", self.id, remote_start_id,
                 id_token.get("id_token"), evse.id)
        chosen = evse

        async def start() -> None:
            chosen.task = asyncio.current_task()
            if self._setting("AuthCtrlr", "AuthorizeRemoteStart") == "true":
                result = await self._send_reliably(call.Authorize(id_token=id_token))
                if result.id_token_info["status"] != AuthorizationStatusEnumType.accepted:
                    log.info("%s: remote start %d not authorised", self.id, remote_start_id)
                    chosen.authorization = None
                    chosen.busy = chosen.car is not None
                    return
            try:
                if chosen.car is None:
                    await asyncio.sleep(self.step_delay)
                    if chosen.authorization is authorization:
                        await self._car_connects(chosen)
                elif chosen.authorization is authorization:
                    await self._start_authorized(chosen, TriggerReasonEnumType.remote_start)
            except SessionRefused as exc:
                log.info("%s", exc)

        return call_result.RequestStartTransaction(
            status=RequestStartStopStatusEnumType.accepted, transaction_id=transaction_id), start

    def _can_start_remotely(self, evse: _Evse) -> bool:
        return (self._operative[evse.id] and not evse.faulted and evse.authorization is None
                and (evse.car is not None or not evse.busy))

    def _request_stop(self, transaction_id: str
                      ) -> tuple[call_result.RequestStopTransaction, FollowUp | None]:
        evse = next((e for e in self._evses.values()
                     if e.transaction and e.transaction.id == transaction_id), None)
        if evse is None:
            log.info("%s: remote stop of unknown transaction %s rejected", self.id,
                     transaction_id)
            return call_result.RequestStopTransaction(
                status=RequestStartStopStatusEnumType.rejected), None
        log.info("%s: remote stop of transaction %s accepted", self.id, transaction_id)
        transaction = evse.transaction

        async def stop() -> None:
            if evse.transaction is not transaction:
                return
            car = evse.car
            answer = self._end_transaction(evse, TriggerReasonEnumType.remote_stop,
                                           ReasonEnumType.remote,
                                           ChargingStateEnumType.ev_connected)
            await asyncio.sleep(self.step_delay)
            if evse.car is car and evse.transaction is None:
                await self._car_leaves(evse)
            await answer

        return call_result.RequestStopTransaction(
            status=RequestStartStopStatusEnumType.accepted), stop

    def _reset(self, kind: ResetEnumType, evse_id: int | None
               ) -> tuple[call_result.Reset, FollowUp | None]:
        if evse_id is not None:
            log.info("%s: reset of EVSE %d rejected, only the whole station resets",
                     self.id, evse_id)
            return call_result.Reset(status=ResetStatusEnumType.rejected), None
        if kind == ResetEnumType.on_idle and self.transactions:
            log.info("%s: reset scheduled for when the transactions have ended", self.id)
            self._reset_when_idle = True
            return call_result.Reset(status=ResetStatusEnumType.scheduled), None
        log.info("%s: %s reset accepted", self.id, kind)

        async def reboot() -> None:
            await self._reboot(BootReasonEnumType.remote_reset)

        return call_result.Reset(status=ResetStatusEnumType.accepted), reboot

    async def _reboot(self, reason: BootReasonEnumType) -> None:
        """End every transaction (ImmediateReset), free the EVSEs, then drop the connection
        so that the station boots again with ``reason``."""
        for evse in self._evses.values():
            self._end_transaction(evse, TriggerReasonEnumType.reset_command,
                                  ReasonEnumType.immediate_reset, ChargingStateEnumType.idle)
            self._free(evse)
        # Queued events go out before the connection drops, as a station sends them before
        # it reboots; whatever is left is sent after the reboot.
        pending = [queued.answer for queued in self._outbox]
        if pending:
            await asyncio.wait(pending, timeout=_RESET_DELIVERY_TIMEOUT_S)
        self._boot_due = True
        self._boot_reason = reason
        link = self._link
        if link is not None:
            self._rebooting = True
            await link.ws.close()

    def _unlock(self, evse_id: int, connector_id: int
                ) -> tuple[call_result.UnlockConnector, FollowUp | None]:
        if self.unlock_connector == "NotImplemented":
            log.info("%s: UnlockConnector answered NotImplemented", self.id)
            raise OCPPNotImplemented("UnlockConnector is not implemented on this station")
        evse = self._evses.get(evse_id)
        if evse is None or connector_id != CONNECTOR_ID:
            return call_result.UnlockConnector(
                status=UnlockStatusEnumType.unknown_connector), None
        if evse.transaction is not None and evse.transaction.authorized:
            return call_result.UnlockConnector(
                status=UnlockStatusEnumType.ongoing_authorized_transaction), None

        async def release_cable() -> None:
            if evse.transaction is not None:
                self._end_transaction(evse, TriggerReasonEnumType.unlock_command,
                                      ReasonEnumType.ev_disconnected,
                                      ChargingStateEnumType.idle)
            if evse.car is not None:
                await self._car_leaves(evse)

        return call_result.UnlockConnector(status=UnlockStatusEnumType.unlocked), release_cable

    def _change_availability(self, status: OperationalStatusEnumType,
                             evse: dict[str, Any] | None
                             ) -> tuple[call_result.ChangeAvailability, FollowUp | None]:
        if evse is None:
            targets = list(self._evses)
        elif evse["id"] in self._evses and evse.get("connector_id", CONNECTOR_ID) == CONNECTOR_ID:
            targets = [evse["id"]]
        else:
            return call_result.ChangeAvailability(
                status=ChangeAvailabilityStatusEnumType.rejected), None
        operative = status == OperationalStatusEnumType.operative
        if evse is None:
            self.device_model.update("ChargingStation", "AvailabilityState",
                                     "Available" if operative else "Unavailable")
        scheduled = False
        changed = []
        for target in targets:
            self._operative[target] = operative
            if self._evses[target].busy:
                # The EVSE follows once the car has left (see _car_leaves).
                scheduled = scheduled or not operative
            elif self._status[target] != self._idle_status(target):
                changed.append(target)
        answer = (ChangeAvailabilityStatusEnumType.scheduled if scheduled
                  else ChangeAvailabilityStatusEnumType.accepted)
        log.info("%s: EVSE %s set %s (%s)", self.id, evse["id"] if evse else "all", status,
                 answer)

        async def report() -> None:
            for target in changed:
                await self._change_status(target, self._idle_status(target))

        return call_result.ChangeAvailability(status=answer), report

    def _trigger(self, link: _Link, requested: str, evse: dict[str, Any] | None
                 ) -> tuple[call_result.TriggerMessage, FollowUp | None]:
        if requested not in _TRIGGERABLE:
            return call_result.TriggerMessage(
                status=TriggerMessageStatusEnumType.not_implemented), None
        if evse is not None and evse.get("id") not in self._evses:
            return call_result.TriggerMessage(status=TriggerMessageStatusEnumType.rejected), None
        targets = list(self._evses) if evse is None else [evse["id"]]
        running = [self._evses[t] for t in targets if self._evses[t].transaction is not None]
        if requested == MessageTriggerEnumType.transaction_event and not running:
            return call_result.TriggerMessage(status=TriggerMessageStatusEnumType.rejected), None

        async def send() -> None:
            if requested == MessageTriggerEnumType.boot_notification:
                if not self.booted.is_set():
                    link.boot_triggered.set()
                    return
                result = await link.request(self._boot_notification(BootReasonEnumType.triggered))
                if result.status == RegistrationStatusEnumType.accepted and result.interval > 0:
                    self._accept_heartbeat_interval(result.interval)
            elif requested == MessageTriggerEnumType.heartbeat:
                await link.request(call.Heartbeat())
            elif requested == MessageTriggerEnumType.status_notification:
                for target in targets:
                    await link.request(self._status_notification(target))
            elif requested == MessageTriggerEnumType.meter_values:
                for target in targets:
                    measurands = (split_list(self._setting("SampledDataCtrlr",
                                                           "TxUpdatedMeasurands"))
                                  or [_ENERGY_ONLY])
                    await link.request(call.MeterValues(evse_id=target, meter_value=self._sampled(
                        self._evses[target], measurands, ReadingContextEnumType.trigger)))
            else:
                for chosen in running:
                    transaction = chosen.transaction
                    if transaction is not None:
                        self._transaction_event(
                            transaction, TransactionEventEnumType.updated,
                            TriggerReasonEnumType.trigger,
                            charging_state=transaction.charging_state,
                            meter_value=self._meter_value(chosen, "TxUpdatedMeasurands",
                                                          ReadingContextEnumType.trigger))

        return call_result.TriggerMessage(status=TriggerMessageStatusEnumType.accepted), send

    def _set_variables(self, items: list[dict[str, Any]]) -> call_result.SetVariables:
        results = [self.device_model.set_variable(item) for item in items]
        for item, result in zip(items, results, strict=True):
            log.info("%s: SetVariables %s.%s=%s %s", self.id, item["component"]["name"],
                     item["variable"]["name"], item["attribute_value"],
                     result["attribute_status"])
        return call_result.SetVariables(set_variable_result=results)

    def _base_report(self, request_id: int, base: ReportBaseEnumType
                     ) -> tuple[call_result.GetBaseReport, FollowUp | None]:
        data = self.device_model.report(base)
        if not data:
            return call_result.GetBaseReport(
                status=GenericDeviceModelStatusEnumType.empty_result_set), None
        per_message = int(self._setting("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"))
        chunks = [data[i:i + per_message] for i in range(0, len(data), per_message)]

        async def notify() -> None:
            generated_at = timestamp()
            for seq_no, chunk in enumerate(chunks):
                await self._send_now(call.NotifyReport(
                    request_id=request_id, generated_at=generated_at, seq_no=seq_no,
                    report_data=chunk, tbc=seq_no < len(chunks) - 1), require_boot=False)
            log.info("%s: %s report %d sent in %d messages", self.id, base, request_id,
                     len(chunks))

        return call_result.GetBaseReport(status=GenericDeviceModelStatusEnumType.accepted), notify

    # -- smart charging -------------------------------------------------------------------

    def _allowed_w(self, evse: _Evse) -> float:
        transaction = evse.transaction
        return self.profiles.limit_w(evse.id, transaction.id if transaction else None,
                                     time.time())

    def allowed_amps(self, evse_id: int) -> float:
        """The current per phase the charging profiles allow on ``evse_id`` now."""
        return self._allowed_w(self._evse(evse_id)) / (VOLTAGE_V * PHASES)

    def first_amps(self, evse_id: int) -> float | None:
        """The current per phase the car on ``evse_id`` drew the moment its transaction
        was authorised; None before."""
        transaction = self._evse(evse_id).transaction
        if transaction is None or transaction.first_power_w is None:
            return None
        return transaction.first_power_w / (VOLTAGE_V * PHASES)

    def _deliver_energy(self, plug: Any, car: Car, elapsed: float | None = None) -> None:
        super()._deliver_energy(plug, car, elapsed)
        # From now on the car draws what the charging profiles allow.
        car.allowed_w = self._allowed_w(plug)

    def _limits_changed(self) -> None:
        for evse in self._evses.values():
            if evse.car is not None and evse.transaction is not None \
                    and evse.transaction.authorized:
                self._deliver_energy(evse, evse.car)

    def _set_charging_profile(self, evse_id: int, profile: dict[str, Any]
                              ) -> call_result.SetChargingProfile:
        purpose = str(profile.get("charging_profile_purpose"))
        transaction_id = profile.get("transaction_id")
        schedules = profile.get("charging_schedule") or [{}]
        valid_evse = evse_id == 0 or evse_id in self._evses
        if purpose == "ChargingStationMaxProfile" and evse_id != 0:
            valid_evse = False
        if purpose == "TxProfile" and transaction_id not in self.transactions.values():
            valid_evse = False
        accepted = valid_evse and self.profiles.install(
            purpose=purpose, plug=evse_id, profile_id=int(profile["id"]),
            stack_level=int(profile.get("stack_level", 0)),
            kind=str(profile.get("charging_profile_kind", "Absolute")),
            schedule=schedules[0], now=time.time(), transaction_id=transaction_id)
        log.info("%s: %s on EVSE %d %s", self.id, purpose, evse_id,
                 "accepted" if accepted else "rejected")
        if accepted:
            self._limits_changed()
        return call_result.SetChargingProfile(
            status=ChargingProfileStatusEnumType.accepted if accepted
            else ChargingProfileStatusEnumType.rejected)

    def _clear_charging_profile(self, profile_id: int | None, criteria: dict[str, Any]
                                ) -> call_result.ClearChargingProfile:
        cleared = self.profiles.clear(profile_id=profile_id, plug=criteria.get("evse_id"),
                                      purpose=criteria.get("charging_profile_purpose"),
                                      stack_level=criteria.get("stack_level"))
        self._limits_changed()
        return call_result.ClearChargingProfile(
            status=ClearChargingProfileStatusEnumType.accepted if cleared
            else ClearChargingProfileStatusEnumType.unknown)

    def _get_composite_schedule(self, evse_id: int, duration: int, unit: str | None
                                ) -> call_result.GetCompositeSchedule:
        if evse_id != 0 and evse_id not in self._evses:
            return call_result.GetCompositeSchedule(status=GenericStatusEnumType.rejected)
        transaction = self._evses[evse_id].transaction if evse_id else None
        unit = unit or "A"
        periods = self.profiles.composite(evse_id, transaction.id if transaction else None,
                                          duration, unit, time.time())
        return call_result.GetCompositeSchedule(
            status=GenericStatusEnumType.accepted,
            schedule={"evse_id": evse_id, "duration": duration, "schedule_start": timestamp(),
                      "charging_rate_unit": unit, "charging_schedule_period": periods})
