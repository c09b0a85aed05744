"""Run a fleet of simulated chargers: the entry point behind ``voltspot simulate``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from voltspot.simulator.charger import SimulatedCharger


def charge_point_ids(base_id: str, count: int) -> list[str]:
    """The ids for ``count`` chargers: ``[base_id]`` for one, else ``base_id-1..base_id-N``.

    Raises ValueError when ``count`` is below 1.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    if count == 1:
        return [base_id]
    return [f"{base_id}-{n}" for n in range(1, count + 1)]


async def run_chargers(url: str, charge_point_ids: Sequence[str], password: str | None, *,
                       connectors: int = 2, power_kw: float = 22, meter_interval: float = 10,
                       auto_sessions: bool = True, speed: float = 1.0,
                       id_tags: list[str] | None = None,
                       stop_event: asyncio.Event | None = None,
                       session_interval: float = 60.0) -> None:
    """Run one :class:`SimulatedCharger` per id against the CSMS at ``url`` (``ws://…/ocpp``).

    All chargers share ``password`` (HTTP Basic auth; None sends no credentials) and the
    other settings. Returns once ``stop_event`` is set, after stopping every charger; with
    no ``stop_event`` it runs until cancelled. A charger that fails for good (a malformed
    URL, a bug) stops the fleet and its exception is raised here; refused or dropped
    connections are retried, not raised. Raises ValueError for an empty id list or
    invalid settings.
    """
    if not charge_point_ids:
        raise ValueError("no charge point ids given")
    chargers = [
        SimulatedCharger(url, cp_id, password, connectors=connectors, power_kw=power_kw,
                         meter_interval=meter_interval, auto_sessions=auto_sessions,
                         session_interval=session_interval, speed=speed, id_tags=id_tags)
        for cp_id in charge_point_ids
    ]
    tasks = [asyncio.create_task(charger.run(), name=f"simulator {charger.id}")
             for charger in chargers]
    waiters: list[asyncio.Future[Any]] = list(tasks)
    if stop_event is not None:
        waiters.append(asyncio.ensure_future(stop_event.wait()))
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
    for task in tasks:
        if task.done() and not task.cancelled() and (error := task.exception()) is not None:
            raise error


def run(url: str, charge_point_ids: Sequence[str], password: str | None = None,
        **options: Any) -> None:
    """Blocking wrapper around :func:`run_chargers` (same keyword options) for the CLI.

    Runs until interrupted; Ctrl-C ends it quietly. Configure logging beforehand to see
    the ``voltspot.simulator`` log lines.
    """
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_chargers(url, charge_point_ids, password, **options))
