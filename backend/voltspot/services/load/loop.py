"""The load-management job: every managed site recomputed every few seconds, and sooner
after a start, stop, status change or meter reading (a poke), pokes close together counted
once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from voltspot.db import Database
from voltspot.services.charger_control import ChargerControl
from voltspot.services.load.allocation import RecomputeOutcome, recompute_site, site_ids_managed

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


def run_round(db: Database, control: ChargerControl) -> list[RecomputeOutcome]:
    """Recompute and apply every managed site once; a site's failure is logged and the
    others still run."""
    outcomes = []
    for site_id in site_ids_managed(db):
        try:
            outcomes.append(recompute_site(db, control, site_id))
        except Exception:
            log.exception("load management of site %s failed; next round retries", site_id)
    return outcomes


class LoadLoop:
    """Runs :func:`run_round` every ``every_seconds`` and ``debounce_seconds`` after a
    :meth:`poke`. ``once`` (a cluster job lock's ``run``) keeps it to one process at a
    time; without it, this process runs every round."""

    def __init__(self, db: Database, control: ChargerControl, every_seconds: float = 5.0,
                 debounce_seconds: float = 0.5, once: Once | None = None) -> None:
        self._db = db
        self._control = control
        self._every = every_seconds
        self._debounce = debounce_seconds
        self._once = once
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def poke(self) -> None:
        """Something changed at a site (a session started or stopped, a plug's status, a
        meter reading): recompute soon."""
        self._wake.set()

    def run_once(self) -> RoundOutcome:
        """One round now (in this thread), under the job lock when there is one."""
        if self._once is None:
            outcomes: list[RecomputeOutcome] | None = run_round(self._db, self._control)
            ran = True
        else:
            ran, outcomes = self._once(JOB, lambda: run_round(self._db, self._control))
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
        while True:
            if self._wake.wait(self._every):
                # Let the events of one moment (a start is a status change, a transaction
                # and a meter value) arrive before counting them once.
                time.sleep(self._debounce)
            self._wake.clear()
            try:
                self.run_once()
            except Exception:
                log.exception("load management round failed; trying again in %s s",
                              self._every)
