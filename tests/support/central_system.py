"""A small OCPP 2.0.1 central system for testing the simulated 2.0.1 charger on its own.

Built on the ``ocpp`` library's v201 ChargePoint over a ``websockets`` server on 127.0.0.1
(random port). It answers what a charger sends, records every call with the time it
arrived, and lets a test issue commands or drop the connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.support.waiting import run_async
from voltspot.simulator import SimulatedCharger201


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Received:
    action: str
    payload: dict[str, Any]
    at: datetime
    connection: int


@dataclass
class Connection:
    number: int
    path: str
    subprotocol: str | None
    authorization: str | None
    at: datetime


@dataclass
class CentralSystem:
    """What the test controls: ``boot_answers`` are used in turn (the last one repeats),
    ``refused_tokens`` get that idTokenInfo status, ``drop_on_next_transaction_event``
    closes the connection instead of answering the next TransactionEvent."""

    boot_answers: list[str] = field(default_factory=lambda: ["Accepted"])
    boot_interval: int = 300
    refused_tokens: dict[str, str] = field(default_factory=dict)
    response_timeout: float = 5.0
    drop_on_next_transaction_event: bool = False
    received: list[Received] = field(default_factory=list)
    connections: list[Connection] = field(default_factory=list)
    port: int = 0
    link: _StationLink | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    def messages(self, action: str) -> list[dict[str, Any]]:
        return [r.payload for r in self.received if r.action == action]

    def events(self, **matching: Any) -> list[dict[str, Any]]:
        """TransactionEvents whose top-level fields equal ``matching``."""
        return [e for e in self.messages("TransactionEvent")
                if all(e.get(k) == v for k, v in matching.items())]

    async def wait_for(self, condition: Callable[[], Any], seconds: float = 5.0) -> Any:
        """Poll ``condition`` until it returns something truthy; return that."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            await asyncio.sleep(0.02)
        raise AssertionError(f"condition not met in {seconds} s; received: "
                             f"{[(r.action, r.payload) for r in self.received]}")

    async def send(self, payload: Any) -> Any:
        """Send a command on the current connection; a CallError raises its OCPPError."""
        assert self.link is not None, "no charger connected"
        return await self.link.call(payload, suppress=False)

    async def drop(self) -> None:
        """Close the charger's connection from the CSMS side."""
        assert self.link is not None, "no charger connected"
        await self.link._connection.close()

    def _boot_status(self) -> str:
        boots = len(self.messages("BootNotification"))
        return self.boot_answers[min(boots - 1, len(self.boot_answers) - 1)]

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections.append(Connection(
            len(self.connections) + 1, ws.request.path, ws.subprotocol,
            ws.request.headers.get("Authorization"), datetime.now(UTC)))
        link = _StationLink(self, ws.request.path.rsplit("/", 1)[-1], ws)
        self.link = link
        with suppress(ConnectionClosed):
            await link.start()


class _StationLink(ChargePoint):
    def __init__(self, csms: CentralSystem, charge_point_id: str, ws: ServerConnection) -> None:
        super().__init__(charge_point_id, ws, response_timeout=csms.response_timeout)
        self.csms = csms

    def _record(self, action: str, payload: dict[str, Any]) -> None:
        self.csms.received.append(Received(action, payload, datetime.now(UTC),
                                           len(self.csms.connections)))

    @on(Action.boot_notification)
    def on_boot_notification(self, **payload: Any) -> Any:
        self._record("BootNotification", payload)
        return call_result.BootNotification(
            current_time=datetime.now(UTC).isoformat(), interval=self.csms.boot_interval,
            status=self.csms._boot_status())

    @on(Action.heartbeat)
    def on_heartbeat(self, **payload: Any) -> Any:
        self._record("Heartbeat", payload)
        return call_result.Heartbeat(current_time=datetime.now(UTC).isoformat())

    @on(Action.status_notification)
    def on_status_notification(self, **payload: Any) -> Any:
        self._record("StatusNotification", payload)
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, **payload: Any) -> Any:
        self._record("Authorize", payload)
        token = payload["id_token"]["id_token"]
        return call_result.Authorize(
            id_token_info={"status": self.csms.refused_tokens.get(token, "Accepted")})

    @on(Action.transaction_event)
    async def on_transaction_event(self, **payload: Any) -> Any:
        self._record("TransactionEvent", payload)
        if self.csms.drop_on_next_transaction_event:
            self.csms.drop_on_next_transaction_event = False
            await self._connection.close()
        if "id_token" not in payload:
            return call_result.TransactionEvent()
        token = payload["id_token"]["id_token"]
        return call_result.TransactionEvent(
            id_token_info={"status": self.csms.refused_tokens.get(token, "Accepted")})

    @on(Action.meter_values)
    def on_meter_values(self, **payload: Any) -> Any:
        self._record("MeterValues", payload)
        return call_result.MeterValues()

    @on(Action.notify_report)
    def on_notify_report(self, **payload: Any) -> Any:
        self._record("NotifyReport", payload)
        return call_result.NotifyReport()


@asynccontextmanager
async def central_system(**options: Any) -> AsyncIterator[CentralSystem]:
    """A :class:`CentralSystem` (``options`` are its fields) serving ``ocpp2.0.1``."""
    csms = CentralSystem(**options)
    async with serve(csms._handle, "127.0.0.1", 0,
                     subprotocols=[Subprotocol("ocpp2.0.1")]) as server:
        csms.port = next(iter(server.sockets)).getsockname()[1]
        yield csms


CHARGE_POINT_ID = "SIM-201"
PASSWORD = "station-secret"

Scenario = Callable[[CentralSystem, Any], Any]


def play(scenario: Scenario, *, csms: dict[str, Any] | None = None, wait_for_boot: bool = True,
         seconds: float = 20.0, **charger_options: Any) -> None:
    """Run ``scenario(csms, charger)`` against a fresh central system, with a
    :class:`SimulatedCharger201` (``charger_options`` over fast defaults: no step delay,
    fixed seed) running beside it; by default the scenario starts once it is online."""
    async def main() -> None:
        async with central_system(**(csms or {})) as central:
            charger = SimulatedCharger201(central.url, CHARGE_POINT_ID, PASSWORD,
                                          **{"step_delay": 0, "seed": 7, **charger_options})
            running = asyncio.create_task(charger.run())
            try:
                if wait_for_boot:
                    await asyncio.wait_for(charger.booted.wait(), 5)
                await asyncio.wait_for(scenario(central, charger), seconds)
            finally:
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)

    run_async(main)
