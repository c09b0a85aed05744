"""The load-management job: a site recomputed within about a second of news there (a
session started or ended, a charger (re)connected: watched in the database, so it works
whatever process took the message; a meter reading: a poke), and otherwise once it had no
round for ``load_interval`` seconds (:class:`Schedule`; a round for news counts). The news
of one moment counts once.

Between rounds the job keeps each site's tree and the plugs' rows as it left them
(:class:`~voltspot.services.load.allocation.SiteTrees`), reloaded when the site's
``tree_version`` or ``computed_at`` says someone else changed them, so a round reads only
what changes all the time: which charger is connected, the sessions and what they draw.

Cost (bench/load_allocation.py, SQLite, this machine while others worked on it): a round
of a 200-plug site takes 7.3-8.7 ms of CPU (12-13 ms before the tree and the plugs' rows
were kept, measured alongside); 10 000 plugs in 50 such sites, each plug reporting once
a minute and starting and stopping once per two hours, take 4.9 rounds a second:
3.9-4.6 % of a core with the news watch (7.6-8.2 % before, with fewer cars reporting).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from voltspot.db import Database
from voltspot.models import utcnow
from voltspot.services.charger_control import ChargerControl
from voltspot.services.load.allocation import (
    RecomputeOutcome,
    SiteTrees,
    recompute_site,
    release_site,
    site_ids_managed,
    sites_to_release,
    sites_with_news,
    trees_of,
)

log = logging.getLogger(__name__)

JOB = "load-management"

# Runs ``work`` once across processes when a job lock is given: (ran, result).
Once = Callable[[str, Callable[[], list[RecomputeOutcome]]],
                tuple[bool, list[RecomputeOutcome] | None]]


@dataclass(frozen=True)
class RoundOutcome:
    """One round over every managed site."""

    ran: bool
    sites: int = 0
    sent: int = 0
    refused: int = 0


class Schedule:
    """When each site last had a round in this process, so that every managed site gets
    one at least every ``every_seconds``; a round for news counts, so a busy site is not
    recomputed twice as often. A process that takes the job over starts with every site
    due."""

    def __init__(self, every_seconds: float) -> None:
        self.every = every_seconds
        self._last: dict[int, float] = {}

    def due(self, site_ids: Iterable[int]) -> set[int]:
        now = time.monotonic()
        return {site_id for site_id in site_ids
                if now - self._last.get(site_id, -math.inf) >= self.every}

    def done(self, site_id: int) -> None:
        self._last[site_id] = time.monotonic()


def run_round(db: Database, control: ChargerControl, site_ids: Iterable[int] | None = None,
              news_since: datetime | None = None, trees: SiteTrees | None = None,
              schedule: Schedule | None = None, release: bool | None = None
              ) -> list[RecomputeOutcome]:
    """Recompute and apply, once, ``site_ids``, the sites with news since ``news_since``
    and the sites ``schedule`` says are due (default, with none of them: every managed
    site); a site's failure is logged and the others still run. ``release`` (default:
    when every site runs) first clears the limits of sites whose load management was
    turned off. ``trees``: the sites' trees kept from the last round."""
    outcomes = []
    for site_id in sites_to_release(db) if (site_ids is None if release is None
                                            else release) else ():
        try:
            release_site(db, control, site_id)
        except Exception:
            log.exception("releasing the limits of site %s failed; next round retries",
                          site_id)
    if site_ids is not None:
        site_ids = set(site_ids)
        if news_since is not None:
            site_ids |= sites_with_news(db, news_since)
        if not site_ids and schedule is None:
            return []
    managed = site_ids_managed(db)
    if site_ids is None:
        wanted = managed
    else:
        if schedule is not None:
            site_ids |= schedule.due(managed)
        wanted = [s for s in managed if s in site_ids]
    for site_id in wanted:
        try:
            outcomes.append(recompute_site(db, control, site_id, trees=trees))
        except Exception:
            log.exception("load management of site %s failed; next round retries", site_id)
        if schedule is not None:
            schedule.done(site_id)
    return outcomes


class LoadLoop:
    """Runs :func:`run_round` for each site at least every ``every_seconds``, for a site
    with news within ``watch_seconds``, and ``debounce_seconds`` after a :meth:`poke`.
    ``once`` (a cluster job lock's ``run``) keeps it to one process at a time; without
    it, this process runs every round."""

    def __init__(self, db: Database, control: ChargerControl, every_seconds: float = 15.0,
                 debounce_seconds: float = 0.5, once: Once | None = None,
                 watch_seconds: float = 1.0) -> None:
        self._db = db
        self._control = control
        self._every = every_seconds
        self._debounce = debounce_seconds
        self._watch = min(watch_seconds, every_seconds)
        self._once = once
        self._wake = threading.Event()
        self._dirty: set[int] = set()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._trees = trees_of(db)
        self._schedule = Schedule(every_seconds)

    def poke(self, site_id: int) -> None:
        """Something changed at ``site_id`` (a session started or stopped, a plug's
        status, a meter reading): recompute it soon."""
        with self._guard:
            self._dirty.add(site_id)
        self._wake.set()

    def run_once(self, site_ids: Iterable[int] | None = None,
                 news_since: datetime | None = None, scheduled: bool = False,
                 release: bool | None = None) -> RoundOutcome:
        """One round now (in this thread) of ``site_ids``, the sites with news since
        ``news_since`` and, when ``scheduled``, the sites whose periodic round is due
        (default: every managed site), under the job lock when there is one (the news
        are looked for under it too: only the process running the job asks). ``release``:
        see :func:`run_round`."""
        def work() -> list[RecomputeOutcome]:
            return run_round(self._db, self._control, site_ids, news_since, self._trees,
                             self._schedule if scheduled else None, release)

        if self._once is None:
            outcomes: list[RecomputeOutcome] | None = work()
            ran = True
        else:
            ran, outcomes = self._once(JOB, work)
        outcomes = outcomes or []
        return RoundOutcome(ran, len(outcomes), sum(o.sent for o in outcomes),
                            sum(o.refused for o in outcomes))

    def start(self) -> None:
        """Start the background thread (idempotent)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="load-management", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        deadline = time.monotonic() + self._every
        watched = utcnow()
        while True:
            if self._wake.wait(max(min(deadline - time.monotonic(), self._watch), 0)):
                # Let the events of one moment (a meter reading and what follows it)
                # arrive before counting them once.
                time.sleep(self._debounce)
            self._wake.clear()
            with self._guard:
                sites = self._dirty
                self._dirty = set()
            release = time.monotonic() >= deadline
            if release:
                deadline = time.monotonic() + self._every
            checked = utcnow()
            try:
                self.run_once(sites, news_since=watched, scheduled=True, release=release)
                watched = checked
            except Exception:
                log.exception("load management round failed; trying again in %s s",
                              self._watch)
