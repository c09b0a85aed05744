"""Simulated OCPP 1.6J chargers for the driver-pages benchmark: a charging fleet.

Unlike :mod:`loadgen` (MeterValues back to back, as fast as the server answers), these
chargers behave like a real fleet: each boots, reports its two connectors Available,
starts a transaction on connector 1 (back-dated, so the session has a history) and then
sends one MeterValues per open transaction every ``interval`` seconds. They also answer
the central system's CALLs: a RemoteStartTransaction is accepted and followed by a
StartTransaction with the idTag asked for, so the driver start flow (POST ``/c/<evse>/start``)
runs end to end. Raw JSON frames over ``websockets``; one reader task per socket, one CALL
outstanding per direction (OCPP-J).

One process drives a slice of the chargers and is steered by the bench over a pipe:

    bench → client            client → bench
                              ("ready", ConnectReport)   every charger tried
    ("stream", None)          —                          MeterValues start, paced
    ("stop", None)            ("streamed", StreamReport) loops stopped
    ("close", None)           ("closed", None)           sockets closed; the process ends
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

import benchlib
import loadgen

FLEET_TAG = "BENCHTAG"
AC_POWER_W = 11_040.0  # three phases, 16 A, 230 V
DC_POWER_W = 45_000.0
DC_BATTERY_WH = 75_000.0
DC_SOC_START = 15.0


@dataclass(frozen=True)
class FleetPlan:
    """What one client process does."""

    url: str
    charge_point_ids: list[str]
    password: str
    dc_ids: frozenset[str]
    interval: float
    history_s: float
    cpus: set[int] | None
    connect_concurrency: int = 50
    call_timeout: float = 30.0
    connect_timeout: float = 300.0
    seed: int = 0


@dataclass
class StreamReport:
    meter_values: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)  # time.monotonic() of each answer
    call_errors: Counter[str] = field(default_factory=Counter)
    timeouts: int = 0
    dropped: int = 0
    remote_starts: int = 0
    remote_start_failures: Counter[str] = field(default_factory=Counter)


class Dropped(Exception):
    """The socket closed while a CALL waited for its answer."""


def _iso(moment: float) -> str:
    at = datetime.fromtimestamp(moment, UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


@dataclass
class Transaction:
    connector_id: int
    transaction_id: int
    started: float  # epoch seconds, as sent in StartTransaction
    meter_start: int
    power_w: float
    dc: bool

    def register_wh(self, moment: float) -> int:
        return self.meter_start + int(self.power_w * max(0.0, moment - self.started) / 3600)

    def soc(self, moment: float) -> float:
        gained = 100 * self.power_w * max(0.0, moment - self.started) / 3600 / DC_BATTERY_WH
        return min(100.0, DC_SOC_START + gained)

    def meter_values(self, moment: float) -> dict[str, Any]:
        current = self.power_w / 230 / (1 if self.dc else 3)
        sampled = [
            {"value": str(self.register_wh(moment)), "context": "Sample.Periodic",
             "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": f"{self.power_w:.1f}", "context": "Sample.Periodic",
             "measurand": "Power.Active.Import", "unit": "W"},
            {"value": f"{current:.1f}", "context": "Sample.Periodic",
             "measurand": "Current.Import", "unit": "A"},
            {"value": "230.0", "context": "Sample.Periodic", "measurand": "Voltage",
             "unit": "V"},
        ]
        if self.dc:
            sampled.append({"value": f"{self.soc(moment):.1f}", "context": "Sample.Periodic",
                            "measurand": "SoC", "unit": "Percent", "location": "EV"})
        return {"connectorId": self.connector_id, "transactionId": self.transaction_id,
                "meterValue": [{"timestamp": _iso(moment), "sampledValue": sampled}]}


class FleetCharger:
    """One simulated charge point: a reader task pairs answers with CALLs and serves the
    central system's CALLs; a lock keeps one CALL of ours outstanding."""

    def __init__(self, charge_point_id: str, dc: bool) -> None:
        self.charge_point_id = charge_point_id
        self.dc = dc
        self.ws: ClientConnection | None = None
        self.sequence = 0
        self.pending: dict[str, asyncio.Future] = {}
        self.lock = asyncio.Lock()
        self.transactions: list[Transaction] = []
        self.fleet: Fleet | None = None

    @property
    def power_w(self) -> float:
        return DC_POWER_W if self.dc else AC_POWER_W

    async def call(self, action: str, payload: dict[str, Any], timeout: float
                   ) -> tuple[dict, float]:
        """Send one CALL; return its CALLRESULT payload and the round trip in ms.
        Raises :class:`loadgen.CallErrorReply`, ``TimeoutError`` or :class:`Dropped`."""
        if self.ws is None:
            raise Dropped
        async with self.lock:
            self.sequence += 1
            unique_id = str(self.sequence)
            answer = asyncio.get_running_loop().create_future()
            self.pending[unique_id] = answer
            try:
                sent = time.perf_counter()
                try:
                    await self.ws.send(json.dumps([2, unique_id, action, payload]))
                except ConnectionClosed:
                    raise Dropped from None
                async with asyncio.timeout(timeout):
                    result = await answer
                return result, (time.perf_counter() - sent) * 1000
            finally:
                self.pending.pop(unique_id, None)

    async def read(self) -> None:
        """Until the socket closes: answers to our CALLs, and the server's CALLs."""
        assert self.ws is not None
        try:
            async for text in self.ws:
                message = json.loads(text)
                kind = message[0]
                if kind in (3, 4):
                    answer = self.pending.get(message[1])
                    if answer is None or answer.done():
                        continue
                    if kind == 3:
                        answer.set_result(message[2])
                    else:
                        answer.set_exception(loadgen.CallErrorReply(message[2], message[3]))
                elif kind == 2:
                    await self.on_server_call(message[1], message[2], message[3])
        except ConnectionClosed:
            pass
        finally:
            for answer in self.pending.values():
                if not answer.done():
                    answer.set_exception(Dropped())
                    answer.exception()  # retrieved: a CALL cancelled at close never reads it

    async def on_server_call(self, unique_id: str, action: str, payload: dict) -> None:
        assert self.ws is not None and self.fleet is not None
        if action == "RemoteStartTransaction":
            await self.ws.send(json.dumps([3, unique_id, {"status": "Accepted"}]))
            self.fleet.spawn(self.remote_start(payload.get("connectorId") or 2,
                                               payload["idTag"]))
        else:
            await self.ws.send(json.dumps(
                [4, unique_id, "NotImplemented", f"bench charger: no {action}", {}]))

    async def status(self, connector_id: int, status: str, timeout: float) -> None:
        await self.call("StatusNotification", {
            "connectorId": connector_id, "errorCode": "NoError", "status": status,
            "timestamp": _iso(time.time())}, timeout)

    async def start(self, connector_id: int, id_tag: str, started: float, timeout: float
                    ) -> Transaction:
        answer, _ = await self.call("StartTransaction", {
            "connectorId": connector_id, "idTag": id_tag, "meterStart": 0,
            "timestamp": _iso(started)}, timeout)
        transaction = Transaction(connector_id, answer["transactionId"], started, 0,
                                  self.power_w, self.dc)
        self.transactions.append(transaction)
        await self.status(connector_id, "Charging", timeout)
        return transaction

    async def remote_start(self, connector_id: int, id_tag: str) -> None:
        """What a charger does after accepting a remote start: the car is plugged in, the
        transaction starts with the idTag the central system asked for."""
        assert self.fleet is not None
        fleet = self.fleet
        try:
            await self.status(connector_id, "Preparing", fleet.plan.call_timeout)
            transaction = await self.start(connector_id, id_tag, time.time(),
                                           fleet.plan.call_timeout)
            fleet.report.remote_starts += 1
            if fleet.streaming:
                fleet.spawn(fleet.meter_loop(self, transaction))
        except Exception as error:  # noqa: BLE001 - counted by reason
            fleet.report.remote_start_failures[_failure(error)] += 1


def _failure(error: BaseException) -> str:
    return "closed by server" if isinstance(error, Dropped) else loadgen._failure(error)


class Fleet:
    """The chargers of one client process and their background tasks."""

    def __init__(self, plan: FleetPlan) -> None:
        self.plan = plan
        self.chargers = [FleetCharger(cp, cp in plan.dc_ids) for cp in plan.charge_point_ids]
        for charger in self.chargers:
            charger.fleet = self
        self.report = StreamReport()
        self.streaming = False
        self.stopping = asyncio.Event()
        self.random = random.Random(plan.seed)
        self._tasks: set[asyncio.Task] = set()

    def spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def open(self, charger: FleetCharger, report: loadgen.ConnectReport) -> None:
        """Connect, boot, report both plugs Available, start a back-dated transaction on
        connector 1 and report it Charging. Failures are counted by reason."""
        plan = self.plan
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
            self.spawn(charger.read())
            boot, _ = await charger.call("BootNotification", {
                "chargePointVendor": "Voltspot", "chargePointModel": "Bench fleet",
                "chargePointSerialNumber": charger.charge_point_id}, plan.call_timeout)
            if boot.get("status") != "Accepted":
                raise InvalidHandshake(f"BootNotification {boot.get('status')}")
            report.booted += 1
            for connector_id in (1, 2):
                await charger.status(connector_id, "Available", plan.call_timeout)
            await charger.status(1, "Preparing", plan.call_timeout)
            await charger.start(1, FLEET_TAG, time.time() - plan.history_s, plan.call_timeout)
            report.started += 1
        except Exception as error:  # noqa: BLE001 - every failure is counted by its reason
            report.failures[_failure(error)] += 1

    async def meter_loop(self, charger: FleetCharger, transaction: Transaction) -> None:
        """One MeterValues every ``interval`` seconds (first one at a random phase, so the
        fleet's load is spread evenly) until the bench says stop."""
        interval = self.plan.interval
        report = self.report
        loop = asyncio.get_running_loop()
        due = loop.time() + self.random.uniform(0, interval)
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), max(0.0, due - loop.time()))
            if self.stopping.is_set():
                return
            due += interval
            try:
                _, latency = await charger.call(
                    "MeterValues", transaction.meter_values(time.time()),
                    self.plan.call_timeout)
            except loadgen.CallErrorReply as error:
                report.call_errors[error.code] += 1
                continue
            except TimeoutError:
                report.timeouts += 1
                continue
            except Dropped:
                report.dropped += 1
                return
            report.meter_values += 1
            report.latencies_ms.append(latency)
            report.answered_at.append(time.monotonic())

    async def close(self) -> None:
        sockets = [c.ws for c in self.chargers if c.ws is not None]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _serve(plan: FleetPlan, conn: Connection) -> None:
    fleet = Fleet(plan)
    report = loadgen.ConnectReport(tried=len(fleet.chargers))
    gate = asyncio.Semaphore(plan.connect_concurrency)

    async def open_one(charger: FleetCharger) -> None:
        async with gate:
            await fleet.open(charger, report)

    try:
        try:
            async with asyncio.timeout(plan.connect_timeout):
                await asyncio.gather(*(open_one(c) for c in fleet.chargers))
        except TimeoutError:
            report.failures["connect phase over time"] += 1
        conn.send(("ready", report))
        while True:
            command, _ = await loadgen._receive(conn)
            if command == "stream":
                fleet.streaming = True
                for charger in fleet.chargers:
                    for transaction in charger.transactions:
                        fleet.spawn(fleet.meter_loop(charger, transaction))
            elif command == "stop":
                fleet.stopping.set()
                fleet.streaming = False
                await asyncio.sleep(0.1)
                conn.send(("streamed", fleet.report))
            else:
                break
    finally:
        await fleet.close()
    conn.send(("closed", None))


def client_main(plan: FleetPlan, conn: Connection) -> None:
    """Entry point of a client process: pinned to ``plan.cpus``, killed with the bench."""
    benchlib.die_with_parent()
    benchlib.raise_nofile_limit()
    if plan.cpus:
        os.sched_setaffinity(0, plan.cpus)
    with contextlib.suppress(KeyboardInterrupt, EOFError, BrokenPipeError):
        asyncio.run(_serve(plan, conn))
