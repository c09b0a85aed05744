"""Simulated OCPP chargers (1.6J or 2.0.1) for the load benchmark.

Raw JSON frames over ``websockets`` in asyncio (no ``ocpp`` library on this side, so the
load generator costs as little as it can); one process drives a slice of the chargers and
is steered by the bench over a pipe:

    bench → client            client → bench
                              ("ready", ConnectReport)   every charger tried
    ("load", Window)          ("ran", LoadReport)        measured calls until the window ends
    ("hold", until)           ("ran", IdleReport)        idle, then a ping on each socket
    ("close",)                ("closed", None)           sockets closed; the process ends

A fleet plan (``Plan.fleet``) instead connects its chargers spread over the fleet's ramp,
each sending boot, a status per connector and a transaction start, then MeterValues and
Heartbeat at their intervals, and reports ("ran", FleetReport) when the fleet's time is up.

Each charger keeps to OCPP-J: one CALL outstanding, the next sent only after the answer.
What it says is its version's :class:`Dialect`: the measured call is MeterValues (1.6) or
TransactionEvent Updated (2.0.1), each with four sampled values.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import json
import os
import random
import time
import uuid
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
EVSE_ID = 1


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
    ocpp_version: str = "1.6"
    fleet: Fleet | None = None
    rank_start: int = 0
    rank_stride: int = 1


@dataclass(frozen=True)
class Fleet:
    """A fleet's timeline, on the system-wide monotonic clock: chargers connect spread
    over ``start`` … ``start + ramp_s``; latencies are counted from ``measure_from`` to
    ``until``, when the chargers stop. Each charger sends MeterValues every
    ``meter_every_s`` and Heartbeat every ``heartbeat_every_s``, at a random phase."""

    chargers: int
    start: float
    ramp_s: float
    measure_from: float
    until: float
    meter_every_s: float = 60.0
    heartbeat_every_s: float = 300.0


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
class FleetReport:
    """``ready_s``: per charger that got its transaction started, seconds from opening its
    socket to the StartTransaction answer; ``last_ready_at``: when the last of them got it
    (monotonic clock). Latencies and counts after ``measure_from``."""

    connect: ConnectReport = field(default_factory=ConnectReport)
    ready_s: list[float] = field(default_factory=list)
    last_ready_at: float = 0.0
    answered: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    call_errors: Counter[str] = field(default_factory=Counter)
    timeouts: int = 0
    dropped: int = 0


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
    """One simulated charge point on one socket, speaking ``dialect``."""

    __slots__ = ("charge_point_id", "dialect", "ws", "sequence", "transaction_id", "seq_no",
                 "energy_wh", "listener")

    def __init__(self, charge_point_id: str, dialect: Dialect) -> None:
        self.charge_point_id = charge_point_id
        self.dialect = dialect
        self.ws: ClientConnection | None = None
        self.sequence = 0
        self.transaction_id: int | str | None = None
        self.seq_no = 0
        self.energy_wh = 0
        self.listener: asyncio.Task | None = None

    async def call(self, action: str, payload: dict[str, Any], timeout: float) -> dict:
        """Send one CALL and return its CALLRESULT payload.

        Raises :class:`CallErrorReply`, ``TimeoutError`` or ``ConnectionClosed``. A CALL
        from the server meanwhile is answered by the dialect; a stray answer is ignored.
        """
        assert self.ws is not None
        if self.listener is not None:
            await self._stop_listening()
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
                    await self._answer(message)

    def listen(self) -> None:
        """Answer the server's CALLs in the background until this charger's next own call
        (a 2.0.1 CSMS configures a charger after its boot, while the bench waits)."""
        self.listener = asyncio.create_task(self._answer_calls())

    async def _answer_calls(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionClosed):
            while True:
                message = json.loads(await self.ws.recv())
                if message[0] == 2:
                    await self._answer(message)

    async def _stop_listening(self) -> None:
        assert self.listener is not None
        self.listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.listener
        self.listener = None

    async def _answer(self, message: list[Any]) -> None:
        assert self.ws is not None
        result = self.dialect.answer(message[2], message[3])
        await self.ws.send(json.dumps(
            [4, message[1], "NotSupported", "bench charger", {}] if result is None
            else [3, message[1], result]))


class Dialect:
    """What a bench charger of one OCPP version says: its boot, how it starts its one
    transaction, and the call the benchmark measures (four sampled values each)."""

    version: str
    label: str
    subprotocol: str
    measured: str

    def boot(self, charger: Charger) -> dict[str, Any]:
        """The BootNotification payload."""
        raise NotImplementedError

    def statuses(self, charger: Charger) -> list[dict[str, Any]]:
        """The StatusNotification payloads a charger sends after its boot, one per
        connector (fleet mode)."""
        raise NotImplementedError

    async def start(self, charger: Charger, timeout: float) -> None:
        """Start one transaction on connector 1; sets ``charger.transaction_id``."""
        raise NotImplementedError

    def measured_call(self, charger: Charger) -> tuple[str, dict[str, Any]]:
        """The next measured CALL (action, payload); the energy register rises 2 Wh."""
        raise NotImplementedError

    def answer(self, action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The CALLRESULT payload for a CALL from the server; None: CALLERROR NotSupported."""
        return None


class Ocpp16(Dialect):
    version, label, subprotocol, measured = "1.6", "OCPP 1.6J", "ocpp1.6", "MeterValues"

    def boot(self, charger: Charger) -> dict[str, Any]:
        return {"chargePointVendor": "Voltspot", "chargePointModel": "Bench",
                "chargePointSerialNumber": charger.charge_point_id}

    def statuses(self, charger: Charger) -> list[dict[str, Any]]:
        return [{"connectorId": 0, "errorCode": "NoError", "status": "Available",
                 "timestamp": _now()},
                {"connectorId": CONNECTOR_ID, "errorCode": "NoError", "status": "Preparing",
                 "timestamp": _now()}]

    async def start(self, charger: Charger, timeout: float) -> None:
        started = await charger.call("StartTransaction", {
            "connectorId": CONNECTOR_ID, "idTag": ID_TAG, "meterStart": 0,
            "timestamp": _now()}, timeout)
        charger.transaction_id = started["transactionId"]

    def measured_call(self, charger: Charger) -> tuple[str, dict[str, Any]]:
        """MeterValues: energy register, power, current, voltage."""
        charger.energy_wh += 2
        return "MeterValues", {
            "connectorId": CONNECTOR_ID,
            "transactionId": charger.transaction_id,
            "meterValue": [{
                "timestamp": _now(),
                "sampledValue": [
                    {"value": str(charger.energy_wh), "context": "Sample.Periodic",
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


def _sampled(value: float, measurand: str, unit: str, context: str) -> dict[str, Any]:
    return {"value": value, "context": context, "measurand": measurand,
            "unitOfMeasure": {"unit": unit}}


class Ocpp201(Dialect):
    """Plug in (StatusNotification Occupied), TransactionEvent Started with the card and a
    charger-chosen uuid as transaction id, then TransactionEvent Updated, seqNo rising.

    Configured by its installer: GetVariables finds the sampled data settings in place (so
    the CSMS sets nothing), SetVariables is accepted, and GetBaseReport finds no device
    model to report (EmptyResultSet: a NotifyReport would be a CALL of the charger's own
    while the bench is not driving it)."""

    version, label, subprotocol = "2.0.1", "OCPP 2.0.1", "ocpp2.0.1"
    measured = "TransactionEvent Updated"
    VARIABLES = {
        ("SampledDataCtrlr", "TxUpdatedMeasurands"):
            "Energy.Active.Import.Register,Power.Active.Import,Current.Import,SoC",
        ("SampledDataCtrlr", "TxUpdatedInterval"): "60",
        ("SampledDataCtrlr", "TxEndedMeasurands"): "Energy.Active.Import.Register",
    }

    def boot(self, charger: Charger) -> dict[str, Any]:
        return {"reason": "PowerUp",
                "chargingStation": {"vendorName": "Voltspot", "model": "Bench",
                                    "serialNumber": charger.charge_point_id}}

    def statuses(self, charger: Charger) -> list[dict[str, Any]]:
        # Occupied follows in start(), as the cable goes in.
        return [{"timestamp": _now(), "connectorStatus": "Available", "evseId": EVSE_ID,
                 "connectorId": CONNECTOR_ID}]

    async def start(self, charger: Charger, timeout: float) -> None:
        await charger.call("StatusNotification", {
            "timestamp": _now(), "connectorStatus": "Occupied", "evseId": EVSE_ID,
            "connectorId": CONNECTOR_ID}, timeout)
        transaction_id = str(uuid.uuid4())
        now = _now()
        started = await charger.call("TransactionEvent", {
            "eventType": "Started", "timestamp": now, "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": transaction_id, "chargingState": "EVConnected"},
            "evse": {"id": EVSE_ID, "connectorId": CONNECTOR_ID},
            "idToken": {"idToken": ID_TAG, "type": "ISO14443"},
            "meterValue": [{"timestamp": now, "sampledValue": [
                _sampled(charger.energy_wh, "Energy.Active.Import.Register", "Wh",
                         "Transaction.Begin")]}],
        }, timeout)
        status = started.get("idTokenInfo", {}).get("status", "Accepted")
        if status != "Accepted":
            raise InvalidHandshake(f"TransactionEvent Started: idToken {status}")
        charger.transaction_id = transaction_id
        charger.seq_no = 1

    def measured_call(self, charger: Charger) -> tuple[str, dict[str, Any]]:
        """TransactionEvent Updated: energy register, power, current, state of charge."""
        charger.energy_wh += 2
        seq_no, charger.seq_no = charger.seq_no, charger.seq_no + 1
        now = _now()
        return "TransactionEvent", {
            "eventType": "Updated", "timestamp": now, "triggerReason": "MeterValuePeriodic",
            "seqNo": seq_no,
            "transactionInfo": {"transactionId": charger.transaction_id,
                                "chargingState": "Charging"},
            "meterValue": [{"timestamp": now, "sampledValue": [
                _sampled(charger.energy_wh, "Energy.Active.Import.Register", "Wh",
                         "Sample.Periodic"),
                _sampled(7360.0, "Power.Active.Import", "W", "Sample.Periodic"),
                _sampled(32.0, "Current.Import", "A", "Sample.Periodic"),
                _sampled(min(100, 20 + charger.energy_wh // 1000), "SoC", "Percent",
                         "Sample.Periodic"),
            ]}],
        }


    def answer(self, action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if action == "GetVariables":
            return {"getVariableResult": [
                self._variable(item["component"], item["variable"])
                for item in payload["getVariableData"]]}
        if action == "SetVariables":
            return {"setVariableResult": [
                {"attributeStatus": "Accepted", "component": item["component"],
                 "variable": item["variable"]} for item in payload["setVariableData"]]}
        if action == "GetBaseReport":
            return {"status": "EmptyResultSet"}
        return None

    def _variable(self, component: dict[str, Any], variable: dict[str, Any]) -> dict[str, Any]:
        value = self.VARIABLES.get((component.get("name"), variable.get("name")))
        if value is None:
            return {"attributeStatus": "UnknownVariable", "component": component,
                    "variable": variable}
        return {"attributeStatus": "Accepted", "attributeValue": value,
                "component": component, "variable": variable}


DIALECTS: dict[str, Dialect] = {d.version: d for d in (Ocpp16(), Ocpp201())}


def _failure(error: BaseException) -> str:
    if isinstance(error, InvalidStatus):
        return f"HTTP {error.response.status_code}"
    if isinstance(error, CallErrorReply):
        return f"CallError {error.code}"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionClosed):
        # Which side closed, and its code, tell a server's refusal (1008 …) from a lost
        # connection (no close frame: a reset) or the client's own keepalive giving up.
        if error.rcvd is not None:
            reason = f" {error.rcvd.reason}" if error.rcvd.reason else ""
            return f"closed by server ({error.rcvd.code}{reason})"
        if error.sent is not None:
            return f"closed by the client ({error.sent.code})"
        return "connection lost without a close frame"
    if isinstance(error, OSError) and error.errno is not None:
        return f"{errno.errorcode.get(error.errno, error.errno)} ({error.strerror})"
    if isinstance(error, InvalidHandshake):
        return f"handshake: {error}"
    return type(error).__name__


async def open_charger(charger: Charger, plan: Plan, report: ConnectReport) -> None:
    """Connect with Basic auth and the plan's OCPP version, boot, and (if planned) start a
    transaction; failures are counted in ``report`` by reason."""
    dialect = charger.dialect
    token = base64.b64encode(f"{charger.charge_point_id}:{plan.password}".encode()).decode()
    try:
        charger.ws = await connect(
            f"{plan.url}/{charger.charge_point_id}", subprotocols=[dialect.subprotocol],
            additional_headers={"Authorization": f"Basic {token}"}, compression=None,
            proxy=None, open_timeout=plan.call_timeout, ping_interval=None,
            close_timeout=2, max_size=2**20, user_agent_header=None)
        if charger.ws.subprotocol != dialect.subprotocol:
            raise InvalidHandshake(f"server chose subprotocol {charger.ws.subprotocol!r}")
        report.connected += 1
        boot = await charger.call("BootNotification", dialect.boot(charger), plan.call_timeout)
        if boot.get("status") != "Accepted":
            raise InvalidHandshake(f"BootNotification {boot.get('status')}")
        report.booted += 1
        if plan.fleet is not None:
            for status in dialect.statuses(charger):
                await charger.call("StatusNotification", status, plan.call_timeout)
        if plan.start_transaction:
            await dialect.start(charger, plan.call_timeout)
            report.started += 1
        charger.listen()
    except Exception as error:  # noqa: BLE001 - every failure is counted by its reason
        report.failures[_failure(error)] += 1


async def run_load(charger: Charger, window: Window, timeout: float,
                   report: LoadReport) -> None:
    """Send the measured call back to back until the window ends; count answers in it."""
    if charger.ws is None or charger.transaction_id is None:
        return
    latencies = report.latencies_ms
    await asyncio.sleep(max(0.0, window.start - time.monotonic()))
    while time.monotonic() < window.until:
        sent = time.perf_counter()
        try:
            await charger.call(*charger.dialect.measured_call(charger), timeout)
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


async def run_fleet_charger(charger: Charger, plan: Plan, offset_s: float,
                            report: FleetReport, rng: random.Random) -> None:
    """One fleet charger: open at ``fleet.start + offset_s`` (boot, statuses, a
    transaction), then MeterValues and Heartbeat at the fleet's intervals until its end."""
    fleet = plan.fleet
    assert fleet is not None
    await asyncio.sleep(max(0.0, fleet.start + offset_s - time.monotonic()))
    opened = time.monotonic()
    failures = sum(report.connect.failures.values())
    await open_charger(charger, plan, report.connect)
    if sum(report.connect.failures.values()) != failures or charger.transaction_id is None:
        return
    ready = time.monotonic()
    report.ready_s.append(ready - opened)
    report.last_ready_at = max(report.last_ready_at, ready)
    next_meter = ready + rng.uniform(0, fleet.meter_every_s)
    next_beat = ready + rng.uniform(0, fleet.heartbeat_every_s)
    while min(next_meter, next_beat) < fleet.until:
        due = min(next_meter, next_beat)
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        if next_meter <= next_beat:
            call = charger.dialect.measured_call(charger)
            next_meter += fleet.meter_every_s
        else:
            call = ("Heartbeat", {})
            next_beat += fleet.heartbeat_every_s
        sent, began = time.perf_counter(), time.monotonic()
        try:
            await charger.call(*call, plan.call_timeout)
        except CallErrorReply as error:
            report.call_errors[error.code] += 1
        except TimeoutError:
            report.timeouts += 1
        except ConnectionClosed:
            report.dropped += 1
            return
        else:
            if began >= fleet.measure_from:
                report.answered += 1
                report.latencies_ms.append((time.perf_counter() - sent) * 1000)
        charger.listen()  # answer the server's calls while idle


async def _run_fleet(plan: Plan, chargers: list[Charger], offsets: list[float]
                     ) -> FleetReport:
    report = FleetReport(connect=ConnectReport(tried=len(chargers)))
    rng = random.Random(os.getpid())
    await asyncio.gather(*(run_fleet_charger(charger, plan, offset, report, rng)
                           for charger, offset in zip(chargers, offsets, strict=True)))
    return report


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
    dialect = DIALECTS[plan.ocpp_version]
    chargers = [Charger(cp_id, dialect) for cp_id in plan.charge_point_ids]
    if plan.fleet is not None:
        try:
            # This client's chargers are every ``rank_stride``-th of the fleet from
            # ``rank_start``: spread over the ramp in the fleet's order.
            offsets = [plan.fleet.ramp_s * (plan.rank_start + n * plan.rank_stride)
                       / plan.fleet.chargers for n in range(len(chargers))]
            conn.send(("ran", await _run_fleet(plan, chargers, offsets)))
            await _receive(conn)
        finally:
            await _close_all(chargers)
        conn.send(("closed", None))
        return
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
                    *(run_load(c, argument, plan.call_timeout, load) for c in chargers))
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


async def prime(url: str, charge_point_id: str, password: str, ocpp_version: str = "1.6",
                calls: int = 3) -> None:
    """One charger that boots, starts a transaction, sends a few measured calls and leaves,
    so lazy imports and caches of the server are warm before its RSS is read."""
    plan = Plan(url, [charge_point_id], password, True, None, ocpp_version=ocpp_version)
    report = ConnectReport()
    charger = Charger(charge_point_id, DIALECTS[ocpp_version])
    await open_charger(charger, plan, report)
    if report.failures:
        raise RuntimeError(f"priming charger failed: {dict(report.failures)}")
    try:
        for _ in range(calls):
            await charger.call(*charger.dialect.measured_call(charger), plan.call_timeout)
    finally:
        await _close_all([charger])
