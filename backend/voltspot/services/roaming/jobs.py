"""The roaming job: queue what changed, then send what is due. Runs in the serving
process's periodic housekeeping; it must run in one process at a time per change, which
the outbox's claims ensure for sending (see :mod:`voltspot.services.roaming.outbox`)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from voltspot.db import Database
from voltspot.services.roaming import outbox
from voltspot.services.roaming.identity import Identity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoamingRound:
    queued: outbox.Queued
    drained: outbox.Drained


def run_roaming(db: Database, identity: Identity, *, retry_cap: float = 300.0) -> RoamingRound:
    """One round: :func:`~voltspot.services.roaming.outbox.queue_changes`, then
    :func:`~voltspot.services.roaming.outbox.drain`; each owns its transactions."""
    queued = outbox.queue_changes(db, identity)
    drained = outbox.drain(db, identity, retry_cap=retry_cap)
    return RoamingRound(queued, drained)


def roaming_loop(db: Database, identity: Identity, every_seconds: float) -> None:
    """Run :func:`run_roaming` every ``every_seconds`` for ever (a serving process's
    thread, apart from the other housekeeping so that a slow partner delays nothing
    else); a failed round is logged and the next one tries again."""
    while True:
        time.sleep(every_seconds)
        try:
            run_roaming(db, identity)
        except Exception:
            log.exception("roaming round failed; trying again in %s s", every_seconds)
