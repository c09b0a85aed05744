"""One simulated OCPP 1.6J charge point playing realistic charging sessions against a CSMS.

The charger connects to ``{url}/{charge_point_id}`` (subprotocol ``ocpp1.6``, HTTP Basic auth
when a password is given), boots, reports its connectors, sends heartbeats and answers the
CSMS's commands. Each connector can run a session whose energy follows a simple car model:
full power up to 80 % state of charge, then a taper, ending when the battery is full. A
``speed`` factor accelerates the energy delivered per real second so demos show progress;
timestamps stay real. Connecting, booting, reconnecting and the car model are shared with
the 2.0.1 charger (``voltspot.simulator.base``, ``voltspot.simulator.car``).

Pure asyncio: no Flask, no database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.datatypes import KeyValue, MeterValue, SampledValue
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    AvailabilityStatus,
    AvailabilityType,
    ChargePointErrorCode,
    ChargePointStatus,
    ChargingProfileStatus,
    ClearCacheStatus,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    DataTransferStatus,
    GetCompositeScheduleStatus,
    Location,
    Measurand,
    MessageTrigger,
    ReadingContext,
    Reason,
    RegistrationStatus,
    RemoteStartStopStatus,
    ResetStatus,
    ResetType,
    TriggerMessageStatus,
    UnitOfMeasure,
    UnlockStatus,
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

OCPP16 = Subprotocol("ocpp1.6")

_MEASURANDS = (
    Measurand.energy_active_import_register,
    Measurand.power_active_import,
    Measurand.soc,
    Measurand.current_import,
    Measurand.voltage,
)
_TRIGGERABLE = {
    MessageTrigger.boot_notification,
    MessageTrigger.heartbeat,
    MessageTrigger.status_notification,
    MessageTrigger.meter_values,
}


@dataclass
class _Session:
    transaction_id: int
    id_tag: str
    meter_start: int
    car: Car
    # The power the car drew the moment its transaction began (what the profiles
    # installed by then allowed).
    first_power_w: float | None = None


@dataclass
class _Connector(Plug):
    session: _Session | None = None


def _any_value(value: str) -> bool:
    return True


@dataclass
class _Setting:
    value: str
    readonly: bool = False
    valid: Callable[[str], bool] = _any_value


def _is_bool(value: str) -> bool:
    return value.lower() in ("true", "false")


def _is_count(minimum: int) -> Callable[[str], bool]:
    def valid(value: str) -> bool:
        return value.strip().isdigit() and int(value) >= minimum
    return valid


def _is_measurand_list(value: str) -> bool:
    names = [name.strip() for name in value.split(",") if name.strip()]
    return all(name in _MEASURANDS for name in names)


class _Link(LinkMixin, ChargePoint):
    """The OCPP 1.6 endpoint of one WebSocket connection (see :class:`LinkMixin`)."""

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(self, call_unique_id: str, id_tag: str,
                                    connector_id: int | None = None,
                                    charging_profile: dict[str, Any] | None = None,
                                    **_: Any) -> Any:
        return self._answer(call_unique_id, self._charger._remote_start(
            id_tag, connector_id, charging_profile))

    @after(Action.remote_start_transaction)
    def after_remote_start_transaction(self, call_unique_id: str, **_: Any) -> None:
        self._follow_up(call_unique_id)

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(self, call_unique_id: str, transaction_id: int,
                                   **_: Any) -> Any:
        return self._answer(call_unique_id, self._charger._remote_stop(transaction_id))

    @after(Action.remote_stop_transaction)
    def after_remote_stop_transaction(self, call_unique_id: str, **_: Any) -> None:
        self._follow_up(call_unique_id)

    @on(Action.reset)
    def on_reset(self, call_unique_id: str, type: str, **_: Any) -> Any:
        return self._answer(call_unique_id, self._charger._reset(self, ResetType(type)))

    @after(Action.reset)
    def after_reset(self, call_unique_id: str, **_: Any) -> None:
        self._follow_up(call_unique_id)

    @on(Action.unlock_connector)
    def on_unlock_connector(self, call_unique_id: str, connector_id: int, **_: Any) -> Any:
        return self._answer(call_unique_id, self._charger._unlock(connector_id))

    @after(Action.unlock_connector)
    def after_unlock_connector(self, call_unique_id: str, **_: Any) -> None:
        self._follow_up(call_unique_id)

    @on(Action.change_availability)
    def on_change_availability(self, call_unique_id: str, connector_id: int, type: str,
                               **_: Any) -> Any:
        decision = self._charger._change_availability(connector_id, AvailabilityType(type))
        return self._answer(call_unique_id, decision)

    @after(Action.change_availability)
    def after_change_availability(self, call_unique_id: str, **_: Any) -> None:
        self._follow_up(call_unique_id)

    @on(Action.trigger_message)
    def on_trigger_message(self, call_unique_id: str, requested_message: str,
                           connector_id: int | None = None, **_: Any) -> Any:
        decision = self._charger._trigger(self, MessageTrigger(requested_message), connector_id)
        return self._answer(call_unique_id, decision)

    @after(Action.trigger_message)
    def after_trigger_message(self, call_unique_id: str, **_: Any) -> None:
        self._follow_up(call_unique_id)

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        return self._charger._get_configuration(key)

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str, **_: Any) -> Any:
        return self._charger._change_configuration(key, value)

    @on(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> Any:
        return call_result.ClearCache(status=ClearCacheStatus.accepted)

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, connector_id: int, cs_charging_profiles: dict[str, Any],
                                **_: Any) -> Any:
        return self._charger._set_charging_profile(connector_id, cs_charging_profiles)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(self, id: int | None = None, connector_id: int | None = None,
                                  charging_profile_purpose: str | None = None,
                                  stack_level: int | None = None, **_: Any) -> Any:
        return self._charger._clear_charging_profile(id, connector_id,
                                                     charging_profile_purpose, stack_level)

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, connector_id: int, duration: int,
                                  charging_rate_unit: str | None = None, **_: Any) -> Any:
        return self._charger._get_composite_schedule(connector_id, duration,
                                                     charging_rate_unit)

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> Any:
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)


class SimulatedCharger(ChargerBase):
    """A realistic OCPP 1.6J charge point with ``connectors`` connectors.

    Drive it with :meth:`run` (see :class:`ChargerBase` for connecting, ``speed``,
    ``step_delay`` and ``auto_sessions``). While it runs, tests can use the awaitable
    helpers :meth:`plug_in`, :meth:`unplug` and :meth:`send_meter_values`;
    ``transactions`` maps connector id to the running transaction id, ``booted`` is set
    while a connection is booted (cleared when it drops) and ``boot_count`` counts accepted
    boots (a reset makes it grow by one). Every connection boots anew.
    """

    subprotocol = OCPP16

    def __init__(self, url: str, charge_point_id: str, password: str | None = None, *,
                 connectors: int = 2, power_kw: float = 22.0, meter_interval: float = 10.0,
                 auto_sessions: bool = False, session_interval: float = 60.0,
                 speed: float = 1.0, id_tags: Sequence[str] | None = None,
                 battery_kwh: float = 60.0, step_delay: float = 1.0,
                 seed: int | None = None) -> None:
        if connectors < 1:
            raise ValueError("a charger needs at least one connector")
        super().__init__(url, charge_point_id, password, power_kw=power_kw,
                         meter_interval=meter_interval, auto_sessions=auto_sessions,
                         session_interval=session_interval, speed=speed, id_tags=id_tags,
                         battery_kwh=battery_kwh, step_delay=step_delay, seed=seed)
        self.transactions: dict[int, int] = {}
        self._connectors = {
            n: _Connector(n, register_wh=float(self._rng.randint(100_000, 5_000_000)))
            for n in range(1, connectors + 1)
        }
        self._status = {n: ChargePointStatus.available for n in range(connectors + 1)}
        self._operative = dict.fromkeys(range(connectors + 1), True)
        self._config = self._default_config(connectors, meter_interval)

    @staticmethod
    def _default_config(connectors: int, meter_interval: float) -> dict[str, _Setting]:
        # Keys for behaviour the simulator does not model (clock-aligned data, transaction
        # data in StopTransaction, suspending instead of stopping on unplug) are read-only,
        # so a CSMS cannot set them and believe they took effect.
        return {
            "AllowOfflineTxForUnknownId": _Setting("false", valid=_is_bool),
            "AuthorizationCacheEnabled": _Setting("false", valid=_is_bool),
            "AuthorizeRemoteTxRequests": _Setting("false", valid=_is_bool),
            "ClockAlignedDataInterval": _Setting("0", readonly=True),
            "ConnectionTimeOut": _Setting("60", valid=_is_count(1)),
            "ConnectorPhaseRotation": _Setting(
                ",".join(f"{n}.RST" for n in range(connectors + 1))),
            "GetConfigurationMaxKeys": _Setting("50", readonly=True),
            "HeartbeatInterval": _Setting(str(DEFAULT_HEARTBEAT_S), valid=_is_count(1)),
            "LocalAuthorizeOffline": _Setting("false", valid=_is_bool),
            "LocalPreAuthorize": _Setting("false", valid=_is_bool),
            "MeterValuesAlignedData": _Setting(Measurand.energy_active_import_register,
                                               valid=_is_measurand_list),
            "MeterValuesSampledData": _Setting(",".join(_MEASURANDS), valid=_is_measurand_list),
            "MeterValueSampleInterval": _Setting(f"{meter_interval:g}", valid=_is_count(0)),
            "NumberOfConnectors": _Setting(str(connectors), readonly=True),
            "ResetRetries": _Setting("3", valid=_is_count(0)),
            "StopTransactionOnEVSideDisconnect": _Setting("true", readonly=True),
            "StopTransactionOnInvalidId": _Setting("true", valid=_is_bool),
            "StopTxnAlignedData": _Setting("", readonly=True),
            "StopTxnSampledData": _Setting("", readonly=True),
            "SupportedFeatureProfiles": _Setting("Core,RemoteTrigger,SmartCharging",
                                                 readonly=True),
            "ChargeProfileMaxStackLevel": _Setting("8", readonly=True),
            "ChargingScheduleAllowedChargingRateUnit": _Setting("Current,Power", readonly=True),
            "ChargingScheduleMaxPeriods": _Setting("24", readonly=True),
            "MaxChargingProfilesInstalled": _Setting("16", readonly=True),
            "TransactionMessageAttempts": _Setting("3", valid=_is_count(0)),
            "TransactionMessageRetryInterval": _Setting("30", valid=_is_count(0)),
            "UnlockConnectorOnEVSideDisconnect": _Setting("true", readonly=True),
        }

    # -- what ChargerBase needs -----------------------------------------------------------

    def _open_link(self, ws: ClientConnection) -> _Link:
        return _Link(self, ws)

    async def _start_up(self, link: _Link) -> None:
        await self._register(link)
        for connector_id in self._status:
            await link.request(self._status_notification(connector_id))

    def _boot_notification(self) -> call.BootNotification:
        return call.BootNotification(
            charge_point_vendor="Voltspot", charge_point_model="Simulator",
            charge_point_serial_number=self.serial, charge_box_serial_number=self.serial,
            firmware_version=f"voltspot-sim {__version__}", meter_type="Simulated")

    def _heartbeat(self) -> call.Heartbeat:
        return call.Heartbeat()

    def _heartbeat_interval_s(self) -> int:
        return int(self._config["HeartbeatInterval"].value)

    def _accept_heartbeat_interval(self, seconds: int) -> None:
        self._config["HeartbeatInterval"].value = str(seconds)

    def _free_plugs(self) -> list[_Connector]:
        return [c for c in self._connectors.values() if not c.busy and self._operative[c.id]]

    # -- sending --------------------------------------------------------------------------

    def _status_notification(self, connector_id: int) -> call.StatusNotification:
        return call.StatusNotification(
            connector_id=connector_id, error_code=ChargePointErrorCode.no_error,
            status=self._status[connector_id], timestamp=timestamp())

    async def _change_status(self, connector_id: int, status: ChargePointStatus) -> None:
        self._status[connector_id] = status
        await self._report_status(connector_id)

    def _idle_status(self, connector_id: int) -> ChargePointStatus:
        if self._operative[connector_id]:
            return ChargePointStatus.available
        return ChargePointStatus.unavailable

    # -- sessions -------------------------------------------------------------------------

    def _connector(self, connector_id: int) -> _Connector:
        try:
            return self._connectors[connector_id]
        except KeyError:
            raise ValueError(f"{self.id} has no connector {connector_id}") from None

    async def plug_in(self, connector_id: int, id_tag: str, *, authorize: bool = True) -> int:
        """Plug a car into ``connector_id`` and start a transaction for ``id_tag``.

        Sends StatusNotification Preparing, Authorize (unless ``authorize`` is False),
        StartTransaction and StatusNotification Charging, then charges in the background
        (MeterValues every MeterValueSampleInterval) until the car is full and leaves.
        Waits for the charger to be booted. Returns the transaction id. Raises
        ConnectorUnavailable if the connector is busy or inoperative, SessionRefused if the
        CSMS refuses the idTag (the connector is then free again), ValueError for an
        unknown connector.
        """
        connector = self._connector(connector_id)
        if connector.busy or not self._operative[connector_id]:
            raise ConnectorUnavailable(f"{self.id}: connector {connector_id} is not free")
        connector.busy = True
        return await self._start_session(connector, id_tag, authorize=authorize)

    async def _start_session(self, connector: _Connector, id_tag: str, *,
                             authorize: bool, profile: dict[str, Any] | None = None) -> int:
        log.info("%s: car plugged into connector %d (idTag %s)", self.id, connector.id, id_tag)
        try:
            await self._change_status(connector.id, ChargePointStatus.preparing)
            if authorize:
                result = await self._send_reliably(call.Authorize(id_tag=id_tag))
                status = result.id_tag_info["status"]
                if status != AuthorizationStatus.accepted:
                    raise SessionRefused(f"{self.id}: idTag {id_tag} not authorised ({status})")
            meter_start = int(connector.register_wh)
            started = await self._send_reliably(call.StartTransaction(
                connector_id=connector.id, id_tag=id_tag, meter_start=meter_start,
                timestamp=timestamp()))
        except Exception:
            connector.busy = False
            await self._change_status(connector.id, self._idle_status(connector.id))
            raise

        session = _Session(transaction_id=started.transaction_id, id_tag=id_tag,
                           meter_start=meter_start, car=self._new_car())
        connector.session = session
        self.transactions[connector.id] = session.transaction_id
        if profile is not None:
            # The remote start's own TxProfile, for the transaction it opened.
            self._set_charging_profile(connector.id, {
                **profile, "transaction_id": session.transaction_id})
        self._update_energy(connector)
        session.first_power_w = session.car.power_w
        log.info("%s: transaction %d started on connector %d, car at %.0f %%", self.id,
                 session.transaction_id, connector.id, session.car.soc)
        status = started.id_tag_info["status"]
        if (status != AuthorizationStatus.accepted
                and self._config["StopTransactionOnInvalidId"].value == "true"):
            await self._end_session(connector, Reason.de_authorized, linger=0)
            raise SessionRefused(f"{self.id}: transaction {session.transaction_id} "
                                 f"refused for idTag {id_tag} ({status})")
        await self._change_status(connector.id, ChargePointStatus.charging)
        connector.task = self._spawn(self._charge(connector, session))
        return session.transaction_id

    async def _charge(self, connector: _Connector, session: _Session) -> None:
        while not session.car.full:
            interval = float(self._config["MeterValueSampleInterval"].value)
            await asyncio.sleep(interval or IDLE_TICK_S)
            if connector.session is not session:
                return
            if not interval:
                self._update_energy(connector)
                continue
            try:
                await self.send_meter_values(connector.id)
            except ChargerOffline:
                pass
            except (OCPPError, TimeoutError) as exc:
                log.warning("%s: MeterValues failed: %s", self.id, exc or type(exc).__name__)
        log.info("%s: car on connector %d is full", self.id, connector.id)
        await self._change_status(connector.id, ChargePointStatus.suspended_ev)
        await asyncio.sleep(self.step_delay)
        if connector.session is session:
            await self._end_session(connector, Reason.ev_disconnected, linger=0)

    def _update_energy(self, connector: _Connector, elapsed: float | None = None) -> None:
        session = connector.session
        if session is not None:
            self._deliver_energy(connector, session.car, elapsed)
            # From now on the car draws what the charging profiles allow.
            session.car.allowed_w = self.profiles.limit_w(
                connector.id, str(session.transaction_id), time.time())

    async def send_meter_values(self, connector_id: int, *, elapsed: float | None = None,
                                context: ReadingContext = ReadingContext.sample_periodic
                                ) -> None:
        """Update the connector's energy, then send one MeterValues with the sampled data.

        ``elapsed`` is the simulated time in seconds to charge for first; by default the
        real time since the last sample times ``speed``. The measurands sent follow
        MeterValuesSampledData (default: energy register, power, SoC, current, voltage);
        SoC only while a car is connected. Raises ChargerOffline when not booted.
        """
        connector = self._connector(connector_id)
        self._update_energy(connector, elapsed)
        session = connector.session
        await self._send_now(call.MeterValues(
            connector_id=connector_id,
            meter_value=[MeterValue(timestamp=timestamp(),
                                    sampled_value=self._sampled_values(connector, context))],
            transaction_id=session.transaction_id if session else None))

    def _sampled_values(self, connector: _Connector,
                        context: ReadingContext) -> list[SampledValue]:
        session = connector.session
        power = session.car.power_w if session else 0.0
        values = {
            Measurand.energy_active_import_register: (
                str(int(connector.register_wh)), UnitOfMeasure.wh, Location.outlet),
            Measurand.power_active_import: (f"{power:.0f}", UnitOfMeasure.w, Location.outlet),
            Measurand.current_import: (
                f"{power / (PHASES * VOLTAGE_V):.1f}", UnitOfMeasure.a, Location.outlet),
            Measurand.voltage: (f"{VOLTAGE_V:.1f}", UnitOfMeasure.v, Location.outlet),
        }
        if session:
            values[Measurand.soc] = (str(int(session.car.soc)), UnitOfMeasure.percent,
                                     Location.ev)
        wanted = self._config["MeterValuesSampledData"].value.split(",")
        return [SampledValue(value=values[name][0], context=context, measurand=name,
                             location=values[name][2], unit=values[name][1])
                for name in (Measurand(item.strip()) for item in wanted if item.strip())
                if name in values]

    async def unplug(self, connector_id: int,
                     reason: Reason | str = Reason.ev_disconnected) -> None:
        """Take the car away from ``connector_id``.

        A running transaction is stopped with ``reason`` (StopTransaction, then
        StatusNotification Finishing and Available, or Unavailable if the connector was
        set inoperative meanwhile). Does nothing on a free connector.
        """
        connector = self._connector(connector_id)
        if connector.session is not None:
            await self._end_session(connector, Reason(reason), linger=0)
        elif connector.busy:
            self._cancel_task(connector)
            connector.busy = False
            await self._change_status(connector_id, self._idle_status(connector_id))

    async def _stop_transaction(self, connector: _Connector, reason: Reason) -> None:
        session = connector.session
        if session is None:
            return
        self._update_energy(connector)
        # Detach before awaiting so a concurrent stop (remote stop racing a full car)
        # finds nothing left to stop.
        connector.session = None
        self.transactions.pop(connector.id, None)
        self.profiles.end_transaction(str(session.transaction_id))
        self._cancel_task(connector)
        meter_stop = int(connector.register_wh)
        await self._send_reliably(call.StopTransaction(
            meter_stop=meter_stop, timestamp=timestamp(),
            transaction_id=session.transaction_id, reason=reason))
        log.info("%s: transaction %d on connector %d stopped (%s), %.2f kWh, car at %.0f %%",
                 self.id, session.transaction_id, connector.id, reason,
                 (meter_stop - session.meter_start) / 1000, session.car.soc)

    async def _end_session(self, connector: _Connector, reason: Reason, *,
                           linger: float) -> None:
        await self._stop_transaction(connector, reason)
        await self._change_status(connector.id, ChargePointStatus.finishing)
        if linger:
            await asyncio.sleep(linger)
        # A reset during the linger has already freed the connector.
        if connector.session is None and self._status[connector.id] == ChargePointStatus.finishing:
            connector.busy = False
            await self._change_status(connector.id, self._idle_status(connector.id))

    async def _car_arrives(self, connector: _Connector, id_tag: str) -> None:
        try:
            await self._start_session(connector, id_tag, authorize=True)
        except SessionRefused as exc:
            log.info("%s", exc)

    # -- commands from the CSMS: each returns (reply, follow-up sent after the reply) ----

    def _remote_start(self, id_tag: str, connector_id: int | None,
                      profile: dict[str, Any] | None = None
                      ) -> tuple[call_result.RemoteStartTransaction, FollowUp | None]:
        if connector_id is None:
            connector = next((c for c in self._connectors.values()
                              if not c.busy and self._operative[c.id]), None)
        else:
            connector = self._connectors.get(connector_id)
        if connector is None or connector.busy or not self._operative[connector.id]:
            log.info("%s: remote start for %s rejected, connector %s not free",
                     self.id, id_tag, connector_id)
            return call_result.RemoteStartTransaction(RemoteStartStopStatus.rejected), None
        if profile is not None and self.profiles.refuse_in_start:
            log.info("%s: remote start for %s rejected: it carries a charging profile",
                     self.id, id_tag)
            return call_result.RemoteStartTransaction(RemoteStartStopStatus.rejected), None
        connector.busy = True
        log.info("%s: remote start for %s accepted on connector %d",
                 self.id, id_tag, connector.id)
        free_connector = connector

        async def driver_plugs_in() -> None:
            free_connector.task = asyncio.current_task()
            await asyncio.sleep(self.step_delay)
            authorize = self._config["AuthorizeRemoteTxRequests"].value == "true"
            try:
                await self._start_session(free_connector, id_tag, authorize=authorize,
                                          profile=profile)
            except SessionRefused as exc:
                log.info("%s", exc)

        accepted = call_result.RemoteStartTransaction(RemoteStartStopStatus.accepted)
        return accepted, driver_plugs_in

    def _remote_stop(self, transaction_id: int
                     ) -> tuple[call_result.RemoteStopTransaction, FollowUp | None]:
        connector = next((c for c in self._connectors.values()
                          if c.session and c.session.transaction_id == transaction_id), None)
        if connector is None:
            log.info("%s: remote stop of unknown transaction %d rejected", self.id,
                     transaction_id)
            return call_result.RemoteStopTransaction(RemoteStartStopStatus.rejected), None
        log.info("%s: remote stop of transaction %d accepted", self.id, transaction_id)
        session = connector.session

        async def stop() -> None:
            if connector.session is session:
                await self._end_session(connector, Reason.remote, linger=self.step_delay)

        return call_result.RemoteStopTransaction(RemoteStartStopStatus.accepted), stop

    def _reset(self, link: _Link, kind: ResetType
               ) -> tuple[call_result.Reset, FollowUp | None]:
        log.info("%s: %s reset accepted", self.id, kind.lower())
        reason = Reason.hard_reset if kind == ResetType.hard else Reason.soft_reset

        async def reboot() -> None:
            for connector in self._connectors.values():
                self._cancel_task(connector)
                await self._stop_transaction(connector, reason)
                connector.busy = False
                self._status[connector.id] = self._idle_status(connector.id)
            self._rebooting = True
            await link.ws.close()

        return call_result.Reset(ResetStatus.accepted), reboot

    def _unlock(self, connector_id: int) -> tuple[call_result.UnlockConnector, FollowUp | None]:
        connector = self._connectors.get(connector_id)
        if connector is None:
            return call_result.UnlockConnector(UnlockStatus.not_supported), None

        async def release_cable() -> None:
            if connector.session is not None:
                await self._end_session(connector, Reason.unlock_command, linger=0)

        return call_result.UnlockConnector(UnlockStatus.unlocked), release_cable

    def _change_availability(self, connector_id: int, kind: AvailabilityType
                             ) -> tuple[call_result.ChangeAvailability, FollowUp | None]:
        if connector_id not in self._status:
            return call_result.ChangeAvailability(AvailabilityStatus.rejected), None
        operative = kind == AvailabilityType.operative
        targets = list(self._status) if connector_id == 0 else [connector_id]
        scheduled = False
        changed = []
        for target in targets:
            self._operative[target] = operative
            if target and self._connectors[target].busy:
                # The connector goes Unavailable when its session ends (see _end_session).
                scheduled = scheduled or not operative
            elif self._status[target] != self._idle_status(target):
                self._status[target] = self._idle_status(target)
                changed.append(target)
        status = AvailabilityStatus.scheduled if scheduled else AvailabilityStatus.accepted
        log.info("%s: connector %d set %s (%s)", self.id, connector_id, kind.lower(), status)

        async def report() -> None:
            for target in changed:
                await self._report_status(target)

        return call_result.ChangeAvailability(status), report

    def _trigger(self, link: _Link, message: MessageTrigger, connector_id: int | None
                 ) -> tuple[call_result.TriggerMessage, FollowUp | None]:
        if message not in _TRIGGERABLE:
            return call_result.TriggerMessage(TriggerMessageStatus.not_implemented), None
        if connector_id is not None and connector_id not in self._status:
            return call_result.TriggerMessage(TriggerMessageStatus.rejected), None

        async def send() -> None:
            if message == MessageTrigger.boot_notification:
                if not self.booted.is_set():
                    link.boot_triggered.set()
                    return
                result = await link.request(self._boot_notification())
                if result.status == RegistrationStatus.accepted and result.interval > 0:
                    self._config["HeartbeatInterval"].value = str(result.interval)
            elif message == MessageTrigger.heartbeat:
                await link.request(call.Heartbeat())
            elif message == MessageTrigger.status_notification:
                targets = list(self._status) if connector_id is None else [connector_id]
                for target in targets:
                    await link.request(self._status_notification(target))
            else:
                targets = list(self._connectors) if not connector_id else [connector_id]
                for target in targets:
                    await self.send_meter_values(target, context=ReadingContext.trigger)

        return call_result.TriggerMessage(TriggerMessageStatus.accepted), send

    def _get_configuration(self, keys: list[str] | None) -> call_result.GetConfiguration:
        wanted = keys or list(self._config)
        known = [KeyValue(key=key, readonly=self._config[key].readonly,
                          value=self._config[key].value)
                 for key in wanted if key in self._config]
        unknown = [key for key in wanted if key not in self._config]
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    def _change_configuration(self, key: str, value: str) -> call_result.ChangeConfiguration:
        setting = self._config.get(key)
        if setting is None:
            status = ConfigurationStatus.not_supported
        elif setting.readonly or not setting.valid(value):
            status = ConfigurationStatus.rejected
        else:
            setting.value = value.lower() if _is_bool(value) else value.strip()
            status = ConfigurationStatus.accepted
        log.info("%s: configuration %s=%s %s", self.id, key, value, status.lower())
        return call_result.ChangeConfiguration(status)

    # -- smart charging -------------------------------------------------------------------

    def first_amps(self, connector_id: int) -> float | None:
        """The current per phase the car on ``connector_id`` drew the moment its
        transaction began; None before."""
        session = self._connector(connector_id).session
        if session is None or session.first_power_w is None:
            return None
        return session.first_power_w / (VOLTAGE_V * PHASES)

    def allowed_amps(self, connector_id: int) -> float:
        """The current per phase the charging profiles allow on ``connector_id`` now."""
        session = self._connector(connector_id).session
        watts = self.profiles.limit_w(connector_id,
                                      str(session.transaction_id) if session else None,
                                      time.time())
        return watts / (VOLTAGE_V * PHASES)

    def _limits_changed(self) -> None:
        for connector in self._connectors.values():
            self._update_energy(connector)

    def _set_charging_profile(self, connector_id: int, profile: dict[str, Any]
                              ) -> call_result.SetChargingProfile:
        purpose = str(profile.get("charging_profile_purpose"))
        transaction_id = profile.get("transaction_id")
        if purpose == "TxProfile" and transaction_id is None:
            # A TxProfile without a transaction id is for the one running on the connector.
            running = self.transactions.get(connector_id)
            transaction_id = running
        if connector_id not in self._status or (
                purpose == "TxProfile" and transaction_id not in self.transactions.values()):
            accepted = False
        else:
            accepted = self.profiles.install(
                purpose=purpose, plug=connector_id,
                profile_id=int(profile["charging_profile_id"]),
                stack_level=int(profile.get("stack_level", 0)),
                kind=str(profile.get("charging_profile_kind", "Absolute")),
                schedule=profile.get("charging_schedule") or {}, now=time.time(),
                transaction_id=None if transaction_id is None else str(transaction_id))
        log.info("%s: %s on connector %d %s", self.id, purpose, connector_id,
                 "accepted" if accepted else "rejected")
        if accepted:
            self._limits_changed()
        status = ChargingProfileStatus.accepted if accepted else ChargingProfileStatus.rejected
        return call_result.SetChargingProfile(status)

    def _clear_charging_profile(self, profile_id: int | None, connector_id: int | None,
                                purpose: str | None, stack_level: int | None
                                ) -> call_result.ClearChargingProfile:
        cleared = self.profiles.clear(profile_id=profile_id, plug=connector_id,
                                      purpose=purpose, stack_level=stack_level)
        self._limits_changed()
        status = (ClearChargingProfileStatus.accepted if cleared
                  else ClearChargingProfileStatus.unknown)
        return call_result.ClearChargingProfile(status)

    def _get_composite_schedule(self, connector_id: int, duration: int, unit: str | None
                                ) -> call_result.GetCompositeSchedule:
        if connector_id not in self._status:
            return call_result.GetCompositeSchedule(GetCompositeScheduleStatus.rejected)
        running = self.transactions.get(connector_id)
        now = time.time()
        unit = unit or "A"
        periods = self.profiles.composite(connector_id, None if running is None
                                          else str(running), duration, unit, now)
        return call_result.GetCompositeSchedule(
            GetCompositeScheduleStatus.accepted, connector_id=connector_id,
            schedule_start=timestamp(),
            charging_schedule={"duration": duration, "charging_rate_unit": unit,
                               "charging_schedule_period": periods})
