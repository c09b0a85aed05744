"""Everything one Voltspot process holds: settings, database, the OCPP connections and
the background jobs. Created by :func:`voltspot.app.create_app`."""

from __future__ import annotations

import gc
import itertools
import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from flask import Flask, current_app

from voltspot.cluster.events import Event, station_topic
from voltspot.cluster.throttles import station_throttles
from voltspot.cluster.wiring import Cluster, local_cluster, redis_cluster
from voltspot.config import Settings
from voltspot.db import Database, background_waits
from voltspot.domain.statuses import Direction
from voltspot.group_commit import GroupCommitter
from voltspot.models import OcppFrame, utcnow
from voltspot.ocpp.control import OcppChargerControl
from voltspot.ocpp.registry import ConnectionRegistry
from voltspot.services.driver.notifications import (
    Notice,
    WebPushSender,
    push_loop,
    vapid_keys,
    vapid_subject,
)
from voltspot.services.housekeeping import Housekept, run_housekeeping
from voltspot.services.load.loop import LoadLoop
from voltspot.services.payments.gateways.base import PaymentGateway
from voltspot.services.payments.gateways.demo import DemoGateway
from voltspot.services.payments.gateways.stripe import StripeGateway
from voltspot.services.payments.holds import settle_pending
from voltspot.services.payments.reconcile import reconcile
from voltspot.services.roaming.identity import Identity
from voltspot.services.roaming.jobs import roaming_loop
from voltspot.services.stations.presence import sweep_gone
from voltspot.services.stations.registry import SignInDetails

log = logging.getLogger(__name__)

T = TypeVar("T")

MAX_LOGGED_FRAME = 65536

# A serving worker keeps its sockets' objects for hours, millions of them at a fleet, and
# a full collection walks every one with the event loop stopped: about 1 s at 10 000
# connections, every 20 to 30 s (measured; the steady-state p99 of the fleet benchmark).
# Each housekeeping round moves what is alive out of the collector's sight (``gc.freeze``,
# a constant-time splice); garbage cycles still die young in the frequent young
# collections. Cycles that die after being frozen are reclaimed by a thaw and full
# collection every GC_THAW_SECONDS: one such pause an hour instead of two a minute.
GC_THAW_SECONDS = 3600.0


class Runtime:
    """The process-wide parts of the application."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.committer = GroupCommitter(self.db)
        self.registry = ConnectionRegistry()
        local_control = OcppChargerControl(self.registry, settings.ocpp_response_timeout)
        self.cluster: Cluster = (
            redis_cluster(settings.redis_url, local_control, settings.ocpp_response_timeout,
                          prefix=settings.redis_prefix, presence_ttl=settings.presence_ttl,
                          job_ttl=settings.presence_ttl)
            if settings.redis_url else local_cluster(local_control))
        self.cluster.close_stale_with(self._close_stale)
        # Chargers at the door, counted across the installation's processes.
        self.station_throttles = station_throttles(self.cluster.node)
        self.sign_in_details = SignInDetails(self.db)
        # Every command goes through the cluster: to this process's socket, or over Redis
        # to the process holding it.
        self.control = self.cluster.control
        self.payments: PaymentGateway = (
            StripeGateway(settings.stripe_secret_key, settings.stripe_publishable_key,
                          api_base=settings.stripe_api_base or None,
                          webhook_secret=settings.stripe_webhook_secret)
            if settings.stripe_enabled else DemoGateway())
        self._housekeeper: threading.Thread | None = None
        self._frames_trimmed_up_to = 0
        # One process of the installation runs load management at a time.
        self.load = LoadLoop(self.db, self.control, settings.load_interval,
                             once=self.run_job)
        # The words of drivers' push notices (set by voltspot.web.push.init_push); the push
        # job runs only when they are there.
        self.push_words: Callable[[Notice], str] | None = None
        # Further once-only jobs of each housekeeping round, by name (features add theirs
        # when the app is made: emailed receipts).
        self.round_jobs: dict[str, Callable[[], object]] = {}

    def _close_stale(self, charge_point_id: str) -> None:
        connection = self.registry.get(charge_point_id)
        if connection is not None:
            connection.close(1000, "the charger is connected to another server")

    def station_changed(self, charge_point_id: str, kind: str) -> None:
        """Tell live pages that the station reported something (``kind``: what)."""
        try:
            self.cluster.events.publish(Event(station_topic(charge_point_id), kind))
        except Exception:
            # A live page refreshing late is no reason to fail a charger's message.
            log.exception("%s: could not publish a %s event", charge_point_id, kind)

    def log_frame(self, charge_point_id: str, direction: Direction, frame: str) -> None:
        """Append a frame to the station's bounded log (written in the next group commit)."""
        self.committer.append(OcppFrame, {
            "charge_point_id": charge_point_id, "direction": str(direction), "at": utcnow(),
            "frame": frame[:MAX_LOGGED_FRAME]})

    def start_housekeeping(self, every_seconds: float = 2.0, slow_every: int = 8) -> None:
        """Start the periodic jobs of a serving process (idempotent): payments every
        ``every_seconds``, the rest every ``slow_every`` rounds."""
        if self._housekeeper is not None:
            return
        self.load.start()
        self._gc_thawed_at = time.monotonic()
        self._housekeeper = threading.Thread(target=self._housekeeping,
                                             args=(every_seconds, slow_every),
                                             name="housekeeping", daemon=True)
        self._housekeeper.start()
        threading.Thread(target=self.registry.keep_alive,
                         args=(self.settings.ocpp_ping_interval,), name="keep-alive",
                         daemon=True).start()
        threading.Thread(target=roaming_loop, args=(self.db, Identity.from_settings(
            self.settings), every_seconds, self.run_job), name="roaming",
            daemon=True).start()
        if self.push_words is not None:
            self.start_push(every_seconds)

    def start_push(self, every_seconds: float) -> None:
        """Start the job that tells drivers (Web Push), with the installation's VAPID keys
        (made now on the first start, kept for good)."""
        keys = vapid_keys(self.db)
        sender = WebPushSender(keys, vapid_subject(self.settings.push_contact,
                                                   self.settings.public_url))
        threading.Thread(target=push_loop, args=(self.db, sender, self.push_words,
                                                 every_seconds, self.run_job),
                         name="web-push", daemon=True).start()

    def run_job(self, job: str, work: Callable[[], T]) -> tuple[bool, T | None]:
        """Run ``work`` as the periodic job ``job``: in one process of the installation
        at a time, under the job's lock (see :class:`~voltspot.cluster.jobs.JobLock`),
        its database waits not holding the loop (nobody waits on a job: see
        :func:`~voltspot.db.background_waits`)."""
        with background_waits():
            return self.cluster.jobs.run(job, work)

    def _housekeeping(self, every_seconds: float, slow_every: int) -> None:
        for round_number in itertools.count(1):
            time.sleep(every_seconds)
            self._freeze_survivors()
            try:
                self.run_job("payments", lambda: settle_pending(self.db, self.payments))
                for name, job in list(self.round_jobs.items()):
                    self.run_job(name, job)
                if self.cluster.shared:
                    self.run_job("presence", self._sweep_presence)
                if round_number % slow_every == 0:
                    self.run_job("housekeeping", self.run_housekeeping)
                    self.run_job("reconcile", lambda: reconcile(
                        self.db, self.payments, self.control,
                        self.settings.hold_margin_percent))
            except Exception:
                log.exception("housekeeping failed; trying again in %s s", every_seconds)

    def _freeze_survivors(self) -> None:
        """See :data:`GC_THAW_SECONDS`."""
        now = time.monotonic()
        if now - self._gc_thawed_at >= GC_THAW_SECONDS:
            self._gc_thawed_at = now
            gc.unfreeze()
            gc.collect()
        gc.freeze()

    def _sweep_presence(self) -> None:
        # Stations a dead process left "connected" in the database.
        for charge_point_id in sweep_gone(self.db, self.cluster.presence.holders):
            log.info("%s: no process holds its socket any more; marked offline",
                     charge_point_id)
            self.station_changed(charge_point_id, "disconnected")

    def run_housekeeping(self) -> Housekept:
        """One round of :func:`~voltspot.services.housekeeping.run_housekeeping`; each
        round trims only the frame logs of stations that logged since the previous one."""
        done = run_housekeeping(
            self.db, remote_start_timeout=self.settings.remote_start_timeout,
            frames_per_station=self.settings.ocpp_log_frames_per_station,
            frames_since=self._frames_trimmed_up_to,
            owner_idle=timedelta(minutes=self.settings.owner_idle_minutes),
            owner_lifetime=timedelta(hours=self.settings.owner_session_hours))
        self._frames_trimmed_up_to = done.frames_seen_up_to
        return done


def runtime(app: Flask | None = None) -> Runtime:
    """The :class:`Runtime` of ``app`` (default: the current app)."""
    return (app or current_app).extensions["voltspot"]
