"""Simulated OCPP 1.6J chargers for the load benchmark.

Raw JSON frames over ``websockets`` in asyncio (no ``ocpp`` library on this side, so the
load generator costs as little as it can); one process drives a slice of the chargers and
is steered by the bench over a pipe:

    bench → client            client → bench
                              ("ready", ConnectReport)   every charger tried
    ("load", Window)          ("ran", LoadReport)        MeterValues until the window ends
    ("hold", until)           ("ran", IdleReport)        idle, then a ping on each socket
    ("close",)                ("closed", None)           sockets closed; the process ends

Each charger keeps to OCPP-J: one CALL outstanding, the next sent only after the answer.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

import benchlib

ID_TAG = "BENCHTAG"
CONNECTOR_ID = 1


@dataclass(frozen=True)
class Plan:
    """What one client process does."""

    url: str
    charge_point_ids: list[str]
    password: str
    start_transaction: bool
    cpus: set[int] | None
    connect_concurrency: int = 50
    call_timeout: float = 10.0
    connect_timeout: float = 300.0


@dataclass(frozen=True)
class Window:
    """Monotonic-clock times (system wide, so shared by all processes): load from
    ``start``, count answers from ``measure_from`` to ``until``, then stop."""

    start: float
    measure_from: float
    until: float


@dataclass
class ConnectReport:
    tried: int = 0
    connected: int = 0
    booted: int = 0
    started: int = 0
    failures: Counter[str] = field(default_factory=Counter)


@dataclass
class LoadReport:
    answered_total: int = 0
    answered_in_window: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    call_errors: Counter[str] = field(default_factory=Counter)
    timeouts: int = 0
    dropped: int = 0
    cpu_seconds_in_window: float = 0.0


@dataclass
class IdleReport:
    open_after_hold: int = 0
    answered_ping: int = 0
    dropped: int = 0


class CallErrorReply(Exception):
    """The server answered a CALL with a CALLERROR."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code


def _now() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


class Charger:
    """One simulated charge point on one socket."""

    __slots__ = ("charge_point_id", "ws", "sequence", "transaction_id", "energy_wh")

    def __init__(self, charge_point_id: str) -> None:
        self.charge_point_id = charge_point_id
        self.ws: ClientConnection | None = None
        self.sequence = 0
        self.transaction_id: int | None = None
        self.energy_wh = 0

    async def call(self, action: str, payload: dict[str, Any], timeout: float) -> dict:
        """Send one CALL and return its CALLRESULT payload.

        Raises :class:`CallErrorReply`, ``TimeoutError`` or ``ConnectionClosed``. A CALL
        from the server meanwhile is answered NotSupported; a stray answer is ignored.
        """
        assert self.ws is not None
        self.sequence += 1
        unique_id = str(self.sequence)
        async with asyncio.timeout(timeout):
            await self.ws.send(json.dumps([2, unique_id, action, payload]))
            while True:
                message = json.loads(await self.ws.recv())
                kind = message[0]
                if kind == 3 and message[1] == unique_id:
                    return message[2]
                if kind == 4 and message[1] == unique_id:
                    raise CallErrorReply(message[2], message[3])
                if kind == 2:
                    await self.ws.send(json.dumps(
                        [4, message[1], "NotSupported", "bench charger", {}]))

    def meter_values(self) -> dict[str, Any]:
        """MeterValues with four sampled values: energy register, power, current, voltage."""
        self.energy_wh += 2
        return {
            "connectorId": CONNECTOR_ID,
            "transactionId": self.transaction_id,
            "meterValue": [{
                "timestamp": _now(),
                "sampledValue": [
                    {"value": str(self.energy_wh), "context": "Sample.Periodic",
                     "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                    {"value": "7360.0", "context": "Sample.Periodic",
                     "measurand": "Power.Active.Import", "unit": "W"},
                    {"value": "32.0", "context": "Sample.Periodic",
                     "measurand": "Current.Import", "unit": "A"},
                    {"value": "230.0", "context": "Sample.Periodic",
                     "measurand": "Voltage", "unit": "V"},
                ],
            }],
        }


def _failure(error: BaseException) -> str:
    if isinstance(error, InvalidStatus):
        return f"HTTP {error.response.status_code}"
    if isinstance(error, CallErrorReply):
        return f"CallError {error.code}"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionClosed):
        return "closed by server"
    if isinstance(error, OSError) and error.errno is not None:
        return f"{errno.errorcode.get(error.errno, error.errno)} ({error.strerror})"
    if isinstance(error, InvalidHandshake):
        return f"handshake: {error}"
    return type(error).__name__


async def open_charger(charger: Charger, plan: Plan, report: ConnectReport) -> None:
    """Connect with Basic auth and ``ocpp1.6``, boot, and (if planned) start a
    transaction; failures are counted in ``report`` by reason."""
    token = base64.b64encode(f"{charger.charge_point_id}:{plan.password}".encode()).decode()
    try:
        charger.ws = await connect(
            f"{plan.url}/{charger.charge_point_id}", subprotocols=["ocpp1.6"],
            additional_headers={"Authorization": f"Basic {token}"}, compression=None,
            proxy=None, open_timeout=plan.call_timeout, ping_interval=None,
            close_timeout=2, max_size=2**20, user_agent_header=None)
        if charger.ws.subprotocol != "ocpp1.6":
            raise InvalidHandshake(f"server chose subprotocol {charger.ws.subprotocol!r}")
        report.connected += 1
        boot = await charger.call("BootNotification", {
            "chargePointVendor": "Voltspot", "chargePointModel": "Bench",
            "chargePointSerialNumber": charger.charge_point_id}, plan.call_timeout)
        if boot.get("status") != "Accepted":
            raise InvalidHandshake(f"BootNotification {boot.get('status')}")
        report.booted += 1
        if plan.start_transaction:
            started = await charger.call("StartTransaction", {
                "connectorId": CONNECTOR_ID, "idTag": ID_TAG, "meterStart": 0,
                "timestamp": _now()}, plan.call_timeout)
            charger.transaction_id = started["transactionId"]
            report.started += 1
    except Exception as error:  # noqa: BLE001 - every failure is counted by its reason
        report.failures[_failure(error)] += 1


async def run_meter_values(charger: Charger, window: Window, timeout: float,
                           report: LoadReport) -> None:
    """Send MeterValues back to back until the window ends; count answers in it."""
    if charger.ws is None or charger.transaction_id is None:
        return
    latencies = report.latencies_ms
    await asyncio.sleep(max(0.0, window.start - time.monotonic()))
    while time.monotonic() < window.until:
        sent = time.perf_counter()
        try:
            await charger.call("MeterValues", charger.meter_values(), timeout)
        except CallErrorReply as error:
            report.call_errors[error.code] += 1
            continue
        except TimeoutError:
            report.timeouts += 1
            continue
        except ConnectionClosed:
            report.dropped += 1
            return
        answered = time.monotonic()
        report.answered_total += 1
        if window.measure_from <= answered < window.until:
            report.answered_in_window += 1
            latencies.append((time.perf_counter() - sent) * 1000)


async def _sample_cpu(window: Window, report: LoadReport) -> None:
    await asyncio.sleep(max(0.0, window.measure_from - time.monotonic()))
    before = time.process_time()
    await asyncio.sleep(max(0.0, window.until - time.monotonic()))
    report.cpu_seconds_in_window = time.process_time() - before


async def _ping(ws: ClientConnection, timeout: float) -> bool:
    try:
        async with asyncio.timeout(timeout):
            await (await ws.ping())
        return True
    except (TimeoutError, ConnectionClosed):
        return False


async def _receive(conn: Connection) -> Any:
    """The next message from the bench, without blocking the event loop."""
    loop = asyncio.get_running_loop()
    readable = loop.create_future()
    loop.add_reader(conn.fileno(), lambda: readable.done() or readable.set_result(None))
    try:
        await readable
    finally:
        loop.remove_reader(conn.fileno())
    return conn.recv()


async def _close_all(chargers: list[Charger]) -> None:
    sockets = [c.ws for c in chargers if c.ws is not None]
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(30):
            await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


async def _serve(plan: Plan, conn: Connection) -> None:
    chargers = [Charger(cp_id) for cp_id in plan.charge_point_ids]
    report = ConnectReport(tried=len(chargers))
    gate = asyncio.Semaphore(plan.connect_concurrency)

    async def open_one(charger: Charger) -> None:
        async with gate:
            await open_charger(charger, plan, report)

    try:
        async with asyncio.timeout(plan.connect_timeout):
            await asyncio.gather(*(open_one(c) for c in chargers))
    except TimeoutError:
        report.failures["connect phase over time"] += 1
    conn.send(("ready", report))
    try:
        while True:
            command, argument = await _receive(conn)
            if command == "load":
                load = LoadReport()
                await asyncio.gather(
                    _sample_cpu(argument, load),
                    *(run_meter_values(c, argument, plan.call_timeout, load)
                      for c in chargers))
                conn.send(("ran", load))
            elif command == "hold":
                await asyncio.sleep(max(0.0, argument - time.monotonic()))
                live = [c.ws for c in chargers if c.ws is not None]
                idle = IdleReport(open_after_hold=sum(ws.state.name == "OPEN" for ws in live))
                answers = await asyncio.gather(*(_ping(ws, 20.0) for ws in live))
                idle.answered_ping = sum(answers)
                idle.dropped = len(live) - idle.answered_ping
                conn.send(("ran", idle))
            else:
                break
    finally:
        await _close_all(chargers)
    conn.send(("closed", None))


def client_main(plan: Plan, conn: Connection) -> None:
    """Entry point of a client process: pinned to ``plan.cpus``, killed with the bench."""
    benchlib.die_with_parent()
    benchlib.raise_nofile_limit()
    if plan.cpus:
        os.sched_setaffinity(0, plan.cpus)
    with contextlib.suppress(KeyboardInterrupt, EOFError, BrokenPipeError):
        asyncio.run(_serve(plan, conn))


async def prime(url: str, charge_point_id: str, password: str, meter_values: int = 3) -> None:
    """One charger that boots, starts a transaction, sends a few MeterValues and leaves,
    so lazy imports and caches of the server are warm before its RSS is read."""
    plan = Plan(url, [charge_point_id], password, True, None)
    report = ConnectReport()
    charger = Charger(charge_point_id)
    await open_charger(charger, plan, report)
    if report.failures:
        raise RuntimeError(f"priming charger failed: {dict(report.failures)}")
    try:
        for _ in range(meter_values):
            await charger.call("MeterValues", charger.meter_values(), plan.call_timeout)
    finally:
        await _close_all([charger])
