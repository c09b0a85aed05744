"""Run a fleet of simulated chargers: the entry point behind ``voltspot simulate``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from voltspot.simulator.base import ChargerBase
from voltspot.simulator.charger import SimulatedCharger
from voltspot.simulator.charger_v201 import SimulatedCharger201

OCPP_VERSIONS = ("1.6", "2.0.1")


def charge_point_ids(base_id: str, count: int) -> list[str]:
    """The ids for ``count`` chargers: ``[base_id]`` for one, else ``base_id-1..base_id-N``.

    Raises ValueError when ``count`` is below 1.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    if count == 1:
        return [base_id]
    return [f"{base_id}-{n}" for n in range(1, count + 1)]


def versions_for(count: int, ocpp_versions: Sequence[str]) -> list[str]:
    """The OCPP version of each of ``count`` chargers, taking ``ocpp_versions`` in turn:
    ``["2.0.1"]`` makes them all 2.0.1, ``["1.6", "1.6", "2.0.1"]`` every third one.

    Raises ValueError for no versions or one not in :data:`OCPP_VERSIONS`.
    """
    if not ocpp_versions:
        raise ValueError("no OCPP version given")
    unknown = [v for v in ocpp_versions if v not in OCPP_VERSIONS]
    if unknown:
        raise ValueError(f"unknown OCPP version {unknown[0]!r}; "
                         f"choose from {', '.join(OCPP_VERSIONS)}")
    return [ocpp_versions[n % len(ocpp_versions)] for n in range(count)]


PROFILE_BEHAVIOURS = ("obey", "reject", "ignore", "level0")


def make_chargers(url: str, charge_point_ids: Sequence[str], password: str | None, *,
                  connectors: int = 2, power_kw: float = 22, meter_interval: float = 10,
                  auto_sessions: bool = True, speed: float = 1.0,
                  id_tags: list[str] | None = None, session_interval: float = 60.0,
                  ocpp_versions: Sequence[str] = ("1.6",), tx_updated_measurands: str = "",
                  tx_start_point: str = "PowerPathClosed",
                  unlock_connector: str = "Unlocked", profiles: str = "obey"
                  ) -> list[ChargerBase]:
    """One simulated charger per id, speaking the version :func:`versions_for` gives it:
    :class:`SimulatedCharger` for 1.6, :class:`SimulatedCharger201` for 2.0.1 (with
    ``connectors`` EVSEs and the 2.0.1-only ``tx_updated_measurands``, ``tx_start_point``
    and ``unlock_connector``). All share ``password`` and the other settings.
    ``profiles`` is how they treat charging profiles: "obey", "reject" (no working smart
    charging), "ignore" (accepted, then not kept) or "level0" (stack level 0 only).

    Raises ValueError for an empty id list or invalid settings.
    """
    if not charge_point_ids:
        raise ValueError("no charge point ids given")
    if profiles not in PROFILE_BEHAVIOURS:
        raise ValueError(f"profiles: choose from {', '.join(PROFILE_BEHAVIOURS)}")
    common: dict[str, Any] = dict(
        power_kw=power_kw, meter_interval=meter_interval, auto_sessions=auto_sessions,
        session_interval=session_interval, speed=speed, id_tags=id_tags)
    chargers: list[ChargerBase] = []
    for cp_id, version in zip(charge_point_ids,
                              versions_for(len(charge_point_ids), ocpp_versions), strict=True):
        if version == "2.0.1":
            chargers.append(SimulatedCharger201(
                url, cp_id, password, evses=connectors, **common,
                tx_updated_measurands=tx_updated_measurands, tx_start_point=tx_start_point,
                unlock_connector=unlock_connector))
        else:
            chargers.append(SimulatedCharger(url, cp_id, password, connectors=connectors,
                                             **common))
        store = chargers[-1].profiles
        store.reject = profiles == "reject"
        store.ignore = profiles == "ignore"
        store.stack_level_zero_only = profiles == "level0"
    return chargers


async def run_chargers(url: str, charge_point_ids: Sequence[str], password: str | None, *,
                       stop_event: asyncio.Event | None = None, **options: Any) -> None:
    """Run the chargers :func:`make_chargers` makes (same ``options``) against the CSMS at
    ``url`` (``ws://…/ocpp``).

    Returns once ``stop_event`` is set, after stopping every charger; with no
    ``stop_event`` it runs until cancelled. A charger that fails for good (a malformed URL,
    a bug) stops the fleet and its exception is raised here; refused or dropped
    connections are retried, not raised. Raises ValueError for an empty id list or
    invalid settings.
    """
    chargers = make_chargers(url, charge_point_ids, password, **options)
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
