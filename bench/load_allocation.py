"""Load management's cost: one recompute of a 200-plug site, and the CPU it takes to keep
10 000 plugs (50 such sites) managed while each plug reports once a minute.

Three figures, CPU time of this process (``time.process_time``):
- the pure allocator (``domain.load.allocate``) on a 200-plug tree (4 circuits, 100
  stations of 2 plugs, 150 cars charging);
- one full round for that site from the database (read the sessions and the last
  allocation, allocate, store, apply), as the load loop runs it: the site's tree (station
  settings, circuits) kept from the last round while its ``tree_version`` stands. In the
  steady state each charging car reported a new draw since the last round with the chance
  ``interval / 60 s`` (every plug reports once a minute), through an in-process
  ChargerControl that accepts every limit (the bench measures Voltspot, not the sockets);
  the same round without the kept tree (the first round after a change) is printed too;
- the share of one core the load loop needs for 10 000 plugs: the loop recomputes a
  site within a second of news there (a start, a stop: for sessions of two hours on
  average, every plug starts and stops once per two hours) and otherwise when it had no
  round for ``load_interval`` (default 15 s), so its cost does not grow with how often
  plugs report; it asks the database for news every second (timed on all 50 sites).
  With news at rate r per site, a site's rounds come on average every
  E[min(news gap, interval)] = (1 - exp(-r * interval)) / r seconds;
- the limit a remote start carries (``start_limit``: the whole site allocated once more
  with the arriving car), paid by the process that handles the start, once per remote
  start: timed in the process running the load loop (its kept trees) and in another, and
  added to the loop's share as if every start were remote and handled elsewhere (an upper
  bound; a start at the charger costs nothing here).

Goal (issue #13): under 5 % of one core. The last line is JSON.

    PYTHONPATH=backend python bench/load_allocation.py [--rounds 20] [--interval 5]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from voltspot.db import Database
from voltspot.domain import load as allocator
from voltspot.domain.statuses import SessionStatus
from voltspot.migrate import upgrade
from voltspot.models import (
    ChargingSession,
    Connector,
    LoadCircuit,
    Site,
    SiteLoadSettings,
    Station,
    StationLoadSettings,
)
from voltspot.services.charger_control import CommandOutcome
from voltspot.services.load.allocation import (
    SiteTrees,
    recompute_site,
    sites_with_news,
    start_limit,
    trees_of,
)
from voltspot.services.load.intents import (
    ChargingLimit,
    CompositeSchedule,
    RateUnit,
    SchedulePeriod,
    SmartChargingSettings,
)

PLUGS_PER_SITE = 200
CHARGING = 150
SITES_FOR_10K = 10_000 // PLUGS_PER_SITE
GOAL_PERCENT = 5.0


class AcceptingControl:
    """ChargerControl's smart-charging intents answered at once, as an obliging charger
    would: the bench times Voltspot's side of a round."""

    def __init__(self) -> None:
        self.sent = 0
        self._limits: dict[tuple[str, int], float] = {}

    def set_charging_limit(self, charge_point_id: str, limit: ChargingLimit) -> CommandOutcome:
        self.sent += 1
        self._limits[charge_point_id, limit.plug] = limit.amps
        return CommandOutcome(True, "Accepted")

    def composite_schedule(self, charge_point_id: str, plug: int, *, duration_s: int = 300,
                           unit: RateUnit | None = None) -> CompositeSchedule:
        limit = self._limits.get((charge_point_id, plug), 0.0)
        return CompositeSchedule(True, "Accepted", {}, RateUnit.AMPS,
                                 (SchedulePeriod(0, limit),))

    def read_smart_charging_settings(self, charge_point_id: str) -> SmartChargingSettings:
        return SmartChargingSettings(True, "Accepted", max_stack_level=8, max_profiles=16)


def tree(rng: random.Random) -> allocator.Site:
    circuits = []
    for c in range(4):
        stations = []
        for s in range(25):
            plugs = tuple(allocator.Plug(
                id=f"{c}-{s}-{p}", max_amps=32.0, priority=rng.choice((0, 0, 0, 1)),
                charging=rng.random() < CHARGING / PLUGS_PER_SITE,
                session_started_at=datetime(2026, 12, 7, tzinfo=UTC)
                + timedelta(seconds=rng.randint(0, 36_000)),
                drawn_amps=rng.uniform(4, 32)) for p in range(2))
            stations.append(allocator.Node(f"s-{c}-{s}", allocator.phase_limits(32), plugs=plugs))
        circuits.append(allocator.Node(f"c-{c}", allocator.phase_limits(160),
                                       children=tuple(stations)))
    return allocator.Site(allocator.Node("site", allocator.phase_limits(400),
                                         children=tuple(circuits)))


def time_allocator(rounds: int) -> float:
    site = tree(random.Random(1))
    times = []
    for _ in range(rounds):
        started = time.process_time()
        allocator.allocate(site)
        times.append(time.process_time() - started)
    return statistics.median(times) * 1000


def seed_site(db: Database, rng: random.Random) -> tuple[int, list[int]]:
    """A 200-plug site in the database with 150 cars charging; returns it and the
    charging sessions."""
    now = datetime.now(UTC)
    with db.session() as session:
        site = Site(name=f"Bench site {rng.random():.8f}")
        session.add(site)
        session.flush()
        session.add(SiteLoadSettings(site_id=site.id, limit_amps=400, phases=3, margin_amps=0,
                                     min_amps=6, hold_seconds=30, enabled=True))
        circuits = []
        for c in range(4):
            circuit = LoadCircuit(site_id=site.id, name=f"Row {c}", limit_amps=160, phases=3)
            session.add(circuit)
            circuits.append(circuit)
        session.flush()
        sessions = []
        for n in range(PLUGS_PER_SITE // 2):
            station = Station(charge_point_id=f"B{site.id}-{n}", site_id=site.id,
                              connected=True, connected_at=now - timedelta(hours=1))
            station.connectors = [Connector(connector_id=p) for p in (1, 2)]
            session.add(station)
            session.flush()
            session.add(StationLoadSettings(station_id=station.id, circuit_id=circuits[n % 4].id,
                                            max_amps=32, settings_read_at=now))
            for connector in station.connectors:
                if len(sessions) < CHARGING:
                    started = now - timedelta(seconds=rng.randint(60, 36_000))
                    charging = ChargingSession(
                        token=f"bench-{site.id}-{connector.id}", station_id=station.id,
                        connector_pk=connector.id, connector_id=connector.connector_id,
                        status=SessionStatus.CHARGING, started_at=started, created_at=started,
                        charger_transaction_id=str(connector.id),
                        power_w=rng.uniform(4, 32) * 690)
                    session.add(charging)
                    session.flush()
                    sessions.append(charging.id)
        return site.id, sessions


def time_rounds(db: Database, site_id: int, sessions: list[int], rounds: int,
                rng: random.Random, reported: float, trees: SiteTrees | None
                ) -> tuple[float, int]:
    """The median CPU of a round after ``reported`` of the cars reported a new draw."""
    control = AcceptingControl()
    recompute_site(db, control, site_id, trees=trees)  # the first round sends every limit
    times = []
    sent = 0
    for _ in range(rounds):
        with db.session() as session:
            for session_id in rng.sample(sessions, round(len(sessions) * reported)):
                session.get(ChargingSession, session_id).power_w = rng.uniform(4, 32) * 690
        control.sent = 0
        started = time.process_time()
        recompute_site(db, control, site_id, trees=trees)
        times.append(time.process_time() - started)
        sent = max(sent, control.sent)
    return statistics.median(times) * 1000, sent


def time_start_limits(db: Database, site_id: int, rounds: int) -> float:
    """The median CPU of working out a remote start's limit on one of the site's free
    plugs."""
    with db.session() as session:
        busy = set(session.scalars(select(ChargingSession.connector_pk)))
        free = [pk for pk in session.scalars(
            select(Connector.id).join(Station).where(Station.site_id == site_id))
            if pk not in busy]
    times = []
    for connector_pk in free[:rounds]:
        started = time.process_time()
        start_limit(db, connector_pk)
        times.append(time.process_time() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--interval", type=float, default=15.0,
                        help="seconds between load rounds (VOLTSPOT_LOAD_INTERVAL)")
    parser.add_argument("--session-hours", type=float, default=2.0)
    args = parser.parse_args()

    allocate_ms = time_allocator(args.rounds)
    print(f"allocate(): {PLUGS_PER_SITE} plugs, {CHARGING} charging: {allocate_ms:.1f} ms CPU")

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'load.db'}"
        upgrade(url)
        db = Database(url)
        rng = random.Random(2)
        site_id, sessions = seed_site(db, rng)
        reported = min(args.interval / 60, 1.0)
        uncached_ms, _ = time_rounds(db, site_id, sessions, args.rounds, rng, reported, None)
        round_ms, sent = time_rounds(db, site_id, sessions, args.rounds, rng, reported,
                                     trees_of(db))
        # In the process running the load loop (its kept trees), and in another one.
        start_ms = time_start_limits(db, site_id, args.rounds)
        elsewhere = Database(url)
        start_elsewhere_ms = time_start_limits(elsewhere, site_id, args.rounds)
        elsewhere.dispose()
        for _ in range(SITES_FOR_10K - 1):
            seed_site(db, rng)
        since = datetime.now(UTC)
        watch_times = []
        for _ in range(args.rounds):
            started = time.process_time()
            sites_with_news(db, since)
            watch_times.append(time.process_time() - started)
        watch_ms = statistics.median(watch_times) * 1000
        db.dispose()
    print(f"one round of a {PLUGS_PER_SITE}-plug site from SQLite: {round_ms:.1f} ms CPU, "
          f"{uncached_ms:.1f} ms reading its tree too (at most {sent} limits sent a round, "
          f"{reported:.0%} of the cars reporting a new draw since the last)")

    print(f"watching {SITES_FOR_10K} sites for news: {watch_ms:.1f} ms CPU a second")
    periodic = SITES_FOR_10K * round_ms / 1000 / args.interval * 100
    events_per_s = 10_000 * 2 / (args.session_hours * 3600)
    per_site = events_per_s / SITES_FOR_10K
    rounds_per_s = SITES_FOR_10K * per_site / (1 - math.exp(-per_site * args.interval))
    with_events = rounds_per_s * round_ms / 1000 * 100 + watch_ms / 10
    print(f"10 000 plugs ({SITES_FOR_10K} sites), a round every {args.interval:g} s: "
          f"{periodic:.1f} % of one core; with a round for each start and stop "
          f"({events_per_s:.1f}/s, {rounds_per_s:.1f} rounds/s in all) and the watch: "
          f"{with_events:.1f} % (goal < {GOAL_PERCENT:g} %)")
    starts_per_s = events_per_s / 2
    starts = starts_per_s * start_elsewhere_ms / 1000 * 100
    print(f"a remote start's limit: {start_ms:.1f} ms CPU in the process running the load "
          f"loop, {start_elsewhere_ms:.1f} ms in another; if all {starts_per_s:.1f} starts a "
          f"second were remote, handled elsewhere: +{starts:.1f} % "
          f"({with_events + starts:.1f} % in all)")
    print(json.dumps({
        "allocate_ms_200_plugs": round(allocate_ms, 2),
        "round_ms_200_plugs_sqlite": round(round_ms, 2),
        "round_ms_200_plugs_sqlite_tree_reread": round(uncached_ms, 2),
        "cars_reporting_per_round": reported,
        "limits_sent_per_round": sent,
        "watch_ms_per_second_10k_plugs": round(watch_ms, 2),
        "core_percent_10k_plugs_periodic": round(periodic, 2),
        "rounds_per_s_10k_plugs": round(rounds_per_s, 2),
        "core_percent_10k_plugs_with_events": round(with_events, 2),
        "start_limit_ms_200_plugs": round(start_ms, 2),
        "start_limit_ms_200_plugs_other_process": round(start_elsewhere_ms, 2),
        "core_percent_start_limits_all_remote": round(starts, 2),
        "core_percent_with_all_remote_starts": round(with_events + starts, 2),
        "interval_s": args.interval,
        "goal_percent": GOAL_PERCENT,
        "meets_goal": with_events < GOAL_PERCENT,
    }))


if __name__ == "__main__":
    main()
