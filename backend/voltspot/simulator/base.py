"""What every simulated charger does whatever OCPP version it speaks.

Connecting with HTTP Basic auth, reconnecting with backoff, booting (Accepted, Pending,
Rejected), heartbeats, replying to the CSMS before acting on a command, cars arriving at
random, and the energy a plugged car draws at ``speed`` times real time. The version modules
(``charger`` for 1.6J, ``charger_v201`` for 2.0.1) supply the messages and the session rules.

Pure asyncio: no Flask, no database.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import random
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

from ocpp.exceptions import OCPPError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from voltspot.simulator.car import Car
from voltspot.simulator.smart_charging import ProfileStore

log = logging.getLogger("voltspot.simulator")

DEFAULT_ID_TAGS: tuple[str, ...] = tuple(f"SIM{n:05d}" for n in range(1, 11))
DEFAULT_HEARTBEAT_S = 60
IDLE_TICK_S = 10.0
RECONNECT_MIN_S = 1.0
RECONNECT_MAX_S = 60.0

FollowUp = Callable[[], Awaitable[None]]


class SimulatorError(Exception):
    """Base class of the errors the simulator's helpers raise."""


class ChargerOffline(SimulatorError):
    """The charger has no booted connection to the CSMS (or lost it mid-call)."""


class ConnectorUnavailable(SimulatorError):
    """The connector is in use or set inoperative."""


class SessionRefused(SimulatorError):
    """The CSMS did not accept the driver's id (Authorize or the transaction message)."""


def timestamp() -> str:
    """Now in UTC as OCPP wants it: ISO 8601 with milliseconds and a ``Z``."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def action_name(payload: Any) -> str:
    return type(payload).__name__


class _FrameLogger(logging.LoggerAdapter):
    """The ocpp library logs every frame at INFO; demote those to DEBUG, keep errors."""

    def info(self, msg: object, *args: Any, **kwargs: Any) -> None:
        self.debug(msg, *args, **kwargs)

    def exception(self, msg: object, *args: Any, **kwargs: Any) -> None:
        # The library logs a traceback for every CallError it answers with. One that the
        # charger chose (NotImplemented) or that the CSMS caused (a malformed call) is an
        # answer, not a simulator bug: one warning line is enough.
        if isinstance(sys.exc_info()[1], OCPPError):
            kwargs.pop("exc_info", None)
            self.warning(f"{msg}: %s", *args, sys.exc_info()[1], **kwargs)
        else:
            super().exception(msg, *args, **kwargs)


FRAME_LOG = _FrameLogger(logging.getLogger("voltspot.simulator.frames"))


class LinkMixin:
    """The OCPP endpoint of one WebSocket connection, answering the CSMS for a charger.

    Mixed in before a version's ``ChargePoint``. Replies are decided in ``on_*`` handlers;
    anything the charger must send as a consequence runs from the matching ``after_*``
    hook, which the library calls only once the reply has been written, so the CSMS always
    sees the reply first.
    """

    def __init__(self, charger: ChargerBase, ws: ClientConnection) -> None:
        super().__init__(charger.id, ws, logger=FRAME_LOG)  # type: ignore[call-arg]
        self.id: str = charger.id
        self.ws = ws
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.boot_triggered = asyncio.Event()
        self._charger = charger
        self._follow_ups: dict[str, FollowUp] = {}

    async def serve(self) -> None:
        """Route incoming frames until the socket closes, then resolve ``closed``."""
        try:
            await self.start()  # type: ignore[attr-defined]
        except ConnectionClosed:
            pass
        except Exception:
            # Said here: the reader's task is gathered with return_exceptions, so a fault
            # in a handler would otherwise end the connection without a word.
            log.exception("%s: stopped reading the CSMS's frames", self._charger.id)
            raise
        finally:
            self._lost()

    def _lost(self) -> None:
        # Synchronously, so that no sender sees a closed link on a charger still marked
        # booted and retries in a loop that never yields.
        if not self.closed.done():
            self.closed.set_result(None)
            self._charger._link_lost(self)
            # Wakes a boot retry waiting out a Pending interval, so it notices at once.
            self.boot_triggered.set()

    async def request(self, payload: Any) -> Any:
        """Send one call and return its result.

        Raises ChargerOffline when the socket is or becomes closed (the library alone would
        wait out its 30 s response timeout), the matching OCPPError for a CallError, and
        TimeoutError when the CSMS does not answer in time.
        """
        if self.closed.done():
            raise ChargerOffline(f"{self.id}: not connected")
        pending = asyncio.ensure_future(self.call(payload, suppress=False))  # type: ignore[attr-defined]
        try:
            await asyncio.wait({pending, self.closed}, return_when=asyncio.FIRST_COMPLETED)
            if not pending.done():
                raise ChargerOffline(f"{self.id}: connection lost during "
                                     f"{action_name(payload)}")
            try:
                return pending.result()
            except ConnectionClosed as exc:
                self._lost()
                raise ChargerOffline(f"{self.id}: connection lost during "
                                     f"{action_name(payload)}") from exc
        finally:
            if not pending.done():
                pending.cancel()

    def _answer(self, call_unique_id: str, decision: tuple[Any, FollowUp | None]) -> Any:
        result, follow_up = decision
        if follow_up is not None:
            self._follow_ups[call_unique_id] = follow_up
        return result

    def _follow_up(self, call_unique_id: str) -> None:
        follow_up = self._follow_ups.pop(call_unique_id, None)
        if follow_up is not None:
            self._charger._spawn(follow_up())


@dataclass
class Plug:
    """Where a car plugs in: a 1.6 connector or a 2.0.1 EVSE, with its energy register."""

    id: int
    register_wh: float
    # True from the moment a car (or a remote start waiting for one) claims the plug until
    # it is free again; set synchronously so concurrent commands cannot double-book.
    busy: bool = False
    task: asyncio.Task[Any] | None = None


class ChargerBase:
    """A simulated charge point, whatever its OCPP version; subclasses speak the protocol.

    Drive it with :meth:`run` (connects, boots, serves, reconnects with backoff until
    cancelled); :meth:`lose_connection` plays a network failure. ``booted`` is set while a
    connection is up and registered (cleared when it drops), ``boot_count`` counts accepted
    BootNotifications (a reset makes it grow by one) and ``registration`` is the CSMS's
    last answer to one (None before the first).

    ``speed`` multiplies the energy delivered per real second (60: one real second charges
    as much as a simulated minute); reported power and timestamps stay real, so a CSMS that
    derives power from energy over time sees ``speed`` times the reported power.
    ``step_delay`` is the real time a person takes between steps (plugging in after a
    remote start, unplugging after the car is full or a remote stop). With
    ``auto_sessions`` a car arrives at a free plug every ``session_interval`` seconds on
    average, with an id drawn from ``id_tags``.
    """

    subprotocol: ClassVar[Subprotocol]

    def __init__(self, url: str, charge_point_id: str, password: str | None, *,
                 power_kw: float, meter_interval: float, auto_sessions: bool,
                 session_interval: float, speed: float, id_tags: Sequence[str] | None,
                 battery_kwh: float, step_delay: float, seed: int | None) -> None:
        if min(power_kw, meter_interval, session_interval, speed, battery_kwh) <= 0:
            raise ValueError("power, meter interval, session interval, speed and battery "
                             "size must be positive")
        if step_delay < 0:
            raise ValueError("step_delay cannot be negative")
        self.id = charge_point_id
        self.url = f"{url.rstrip('/')}/{quote(charge_point_id, safe='')}"
        self.power_w = power_kw * 1000.0
        # The charging profiles the CSMS installed; tests may set ``reject`` or
        # ``stack_level_zero_only`` to play chargers that refuse them.
        self.profiles = ProfileStore(self.power_w)
        self.speed = speed
        self.battery_wh = battery_kwh * 1000.0
        self.auto_sessions = auto_sessions
        self.session_interval = session_interval
        self.step_delay = step_delay
        self.id_tags = tuple(id_tags) if id_tags else DEFAULT_ID_TAGS
        self.booted = asyncio.Event()
        self.boot_count = 0
        self.registration: str | None = None
        self.serial = "VS-" + hashlib.sha256(charge_point_id.encode()).hexdigest()[:12].upper()

        self._headers: dict[str, str] = {}
        if password is not None:
            token = base64.b64encode(f"{charge_point_id}:{password}".encode()).decode()
            self._headers["Authorization"] = f"Basic {token}"
        self._rng = random.Random(seed)
        self._link: Any = None
        self._rebooting = False
        self._times_online = 0
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- what a version supplies ----------------------------------------------------------

    def _open_link(self, ws: ClientConnection) -> Any:
        """The version's :class:`LinkMixin` endpoint for a fresh connection."""
        raise NotImplementedError

    async def _start_up(self, link: Any) -> None:
        """Everything a fresh connection sends before the charger counts as online
        (BootNotification when one is due, the plugs' statuses)."""
        raise NotImplementedError

    def _boot_notification(self) -> Any:
        raise NotImplementedError

    def _heartbeat(self) -> Any:
        raise NotImplementedError

    def _heartbeat_interval_s(self) -> int:
        raise NotImplementedError

    def _accept_heartbeat_interval(self, seconds: int) -> None:
        raise NotImplementedError

    def _status_notification(self, plug_id: int) -> Any:
        raise NotImplementedError

    def _free_plugs(self) -> list[Plug]:
        """Plugs a newly arriving car may take: free and operative."""
        raise NotImplementedError

    async def _car_arrives(self, plug: Any, id_tag: str) -> None:
        """A car has claimed ``plug`` (already marked busy) and its driver shows ``id_tag``."""
        raise NotImplementedError

    def _before_run(self) -> None:
        """Start the version's own background tasks (called once by :meth:`run`)."""

    # -- running --------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, boot and serve the CSMS until cancelled; call once per charger.

        A refused or dropped connection is retried with jittered exponential backoff
        (1 s doubling to 60 s); a Reset reconnects at once. Cancelling ends every task the
        charger started and closes the socket without sending anything more.
        """
        self._before_run()
        if self.auto_sessions:
            self._spawn(self._auto_sessions())
        delay = RECONNECT_MIN_S
        try:
            while True:
                times_online = self._times_online
                await self._connect_once()
                if self._rebooting:
                    self._rebooting = False
                    delay = RECONNECT_MIN_S
                    log.info("%s: rebooting", self.id)
                    await asyncio.sleep(self.step_delay)
                    continue
                if self._times_online > times_online:
                    delay = RECONNECT_MIN_S
                wait = self._rng.uniform(delay / 2, delay)
                log.info("%s: reconnecting in %.1f s", self.id, wait)
                await asyncio.sleep(wait)
                delay = min(delay * 2, RECONNECT_MAX_S)
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _connect_once(self) -> None:
        try:
            async with connect(self.url, subprotocols=[self.subprotocol],
                               additional_headers=self._headers, compression=None) as ws:
                if ws.subprotocol != self.subprotocol:
                    log.error("%s: the CSMS at %s did not accept subprotocol %s",
                              self.id, self.url, self.subprotocol)
                    return
                log.info("%s: connected to %s", self.id, self.url)
                await self._serve(ws)
            log.info("%s: connection closed", self.id)
        except InvalidHandshake as exc:
            log.warning("%s: the CSMS refused the connection: %s", self.id, exc)
        except (OSError, TimeoutError, ConnectionClosed, OCPPError) as exc:
            log.warning("%s: connection failed: %s", self.id, exc or type(exc).__name__)

    async def _serve(self, ws: ClientConnection) -> None:
        link = self._open_link(ws)
        reader = asyncio.create_task(link.serve())
        self._link = link
        try:
            await self._start_up(link)
            self._times_online += 1
            self.booted.set()
            log.info("%s: online, heartbeat every %s s", self.id, self._heartbeat_interval_s())
            await self._heartbeats(link)
        except ChargerOffline:
            pass
        finally:
            self._link_lost(link)
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def lose_connection(self) -> None:
        """Cut the connection as a network failure would (no closing handshake) and return
        once the charger knows it is offline; it reconnects on its own with backoff."""
        link = self._link
        if link is None:
            return
        link.ws.transport.abort()
        await asyncio.shield(link.closed)

    def _link_lost(self, link: Any) -> None:
        if self._link is link:
            self._link = None
            self.booted.clear()

    async def _register(self, link: Any) -> None:
        """BootNotification until Accepted, waiting out the interval of a Pending or
        Rejected answer (a TriggerMessage for BootNotification cuts the wait short)."""
        while True:
            result = await link.request(self._boot_notification())
            self.registration = str(result.status)
            interval = result.interval if result.interval > 0 else DEFAULT_HEARTBEAT_S
            if result.status == "Accepted":
                self._accept_heartbeat_interval(interval)
                self.boot_count += 1
                return
            log.info("%s: boot %s, retrying in %d s", self.id, result.status, interval)
            link.boot_triggered.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(link.boot_triggered.wait(), interval)

    async def _heartbeats(self, link: Any) -> None:
        while True:
            interval = self._heartbeat_interval_s()
            await asyncio.wait({link.closed}, timeout=interval)
            if link.closed.done():
                return
            try:
                await link.request(self._heartbeat())
            except (OCPPError, TimeoutError) as exc:
                log.warning("%s: heartbeat failed: %s", self.id, exc or type(exc).__name__)

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        if isinstance(exc, SimulatorError):
            log.info("%s: %s", self.id, exc)
        elif isinstance(exc, OCPPError | TimeoutError):
            log.warning("%s: %s", self.id, exc or type(exc).__name__)
        else:
            log.error("%s: simulator task failed", self.id, exc_info=exc)

    # -- sending --------------------------------------------------------------------------

    async def _send_now(self, payload: Any, *, require_boot: bool = True) -> Any:
        """Send on the current connection; raise ChargerOffline if there is none."""
        link = self._link
        if link is None or (require_boot and not self.booted.is_set()):
            raise ChargerOffline(f"{self.id}: offline, {action_name(payload)} not sent")
        return await link.request(payload)

    async def _send_reliably(self, payload: Any) -> Any:
        """Send a message that must not be lost, waiting for (re)connection; a message cut
        off by a dropped connection is sent again once the charger is back online."""
        while True:
            await self.booted.wait()
            try:
                return await self._send_now(payload)
            except ChargerOffline:
                continue

    async def _report_status(self, plug_id: int) -> None:
        """Send the plug's status; a status the CSMS misses is sent again at boot."""
        try:
            await self._send_now(self._status_notification(plug_id))
        except ChargerOffline:
            pass
        except (OCPPError, TimeoutError) as exc:
            log.warning("%s: StatusNotification failed: %s", self.id, exc or type(exc).__name__)

    # -- cars -----------------------------------------------------------------------------

    def _new_car(self) -> Car:
        return Car(battery_wh=self.battery_wh, soc=self._rng.uniform(20.0, 60.0),
                   max_power_w=self.power_w, sampled_at=asyncio.get_running_loop().time())

    def _deliver_energy(self, plug: Plug, car: Car, elapsed: float | None = None) -> None:
        """Charge ``car`` through ``plug`` for ``elapsed`` simulated seconds (default: the
        real time since its last update times ``speed``), advancing the plug's register."""
        now = asyncio.get_running_loop().time()
        seconds = (now - car.sampled_at) * self.speed if elapsed is None else elapsed
        plug.register_wh += car.charge(seconds)
        car.sampled_at = now

    def _cancel_task(self, plug: Plug) -> None:
        task, plug.task = plug.task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _auto_sessions(self) -> None:
        while True:
            await asyncio.sleep(self._rng.expovariate(1.0 / self.session_interval))
            free = self._free_plugs()
            if not self.booted.is_set() or not free:
                continue
            plug = self._rng.choice(free)
            plug.busy = True
            plug.task = self._spawn(self._car_arrives(plug, self._rng.choice(self.id_tags)))
