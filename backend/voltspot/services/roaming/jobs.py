"""The roaming job: queue what changed, then send what is due. A serving process runs it
on a thread of its own under the cluster's job lock (one process at a time); the
outbox's claims keep sending once-only even without it (see
:mod:`voltspot.services.roaming.outbox`)."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from voltspot.db import Database
from voltspot.services.roaming import outbox
from voltspot.services.roaming.identity import Identity

log = logging.getLogger(__name__)

# Locations and tariffs (a site's details, its stations and plugs, prices) reach partners
# within this; EVSE statuses and sessions within a round.
FULL_SCAN_SECONDS = 10.0


@dataclass(frozen=True)
class RoamingRound:
    queued: outbox.Queued
    drained: outbox.Drained


def run_roaming(db: Database, identity: Identity, *, full: bool = True,
                retry_cap: float = 300.0) -> RoamingRound:
    """One round: :func:`~voltspot.services.roaming.outbox.queue_changes` (``full``: the
    locations and tariffs too), then :func:`~voltspot.services.roaming.outbox.drain`;
    each owns its transactions."""
    queued = outbox.queue_changes(db, identity, full=full)
    drained = outbox.drain(db, identity, retry_cap=retry_cap)
    return RoamingRound(queued, drained)


def roaming_loop(db: Database, identity: Identity, every_seconds: float,
                 once: Callable[[str, Callable[[], RoamingRound]], object],
                 full_every_seconds: float = FULL_SCAN_SECONDS) -> None:
    """Run :func:`run_roaming` every ``every_seconds`` for ever, in one process of the
    installation at a time (``once(job, work)``: the cluster's job lock), on a thread of
    its own so that a slow partner delays no other job; a full scan at most every
    ``full_every_seconds``. A failed round is logged and the next one tries again."""
    last_full = 0.0
    while True:
        time.sleep(every_seconds)
        full = time.monotonic() - last_full >= full_every_seconds
        try:
            ran, _ = once("ocpi-roaming", functools.partial(run_roaming, db, identity, full=full))
            if ran and full:
                last_full = time.monotonic()
        except Exception:
            log.exception("roaming round failed; trying again in %s s", every_seconds)
