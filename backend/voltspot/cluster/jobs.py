"""Jobs that must run in one process at a time (payment reconcile, housekeeping, load
management, the OCPI outbox).

A process runs such a job only while it holds the job's lock. With Redis the lock is a
key naming the process, with an expiry renewed while the holder lives: the process that
holds it keeps it from round to round, and when it dies the lock expires and the next
process to try takes the job over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

from voltspot.cluster.node import RedisNode

log = logging.getLogger("voltspot.cluster")

T = TypeVar("T")

# Take the lock when it is free, renew it when this process holds it.
_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if not holder or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class JobLock(Protocol):
    """Runs once-only jobs."""

    def run(self, job: str, work: Callable[[], T]) -> tuple[bool, T | None]:
        """Run ``work`` if this process may run ``job`` now: returns ``(True, its
        result)``, or ``(False, None)`` when another process (or another thread of this
        one) is running the job. Exceptions of ``work`` propagate."""
        ...

    def release_all(self) -> None:
        """Give up every job this process holds (on a clean shutdown, so another process
        takes them over without waiting for the expiry)."""
        ...


class LocalJobLock:
    """Job locks within one process: a job never runs twice at the same time."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, job: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(job, threading.Lock())

    def run(self, job: str, work: Callable[[], T]) -> tuple[bool, T | None]:
        lock = self._lock(job)
        if not lock.acquire(blocking=False):
            return False, None
        try:
            return True, work()
        finally:
            lock.release()

    def release_all(self) -> None:
        return None


class RedisJobLock:
    """Job locks shared through Redis (see the module docstring). ``ttl`` is how long a
    dead process keeps a job; while ``work`` runs the lock is renewed every ``ttl / 3``
    seconds, so a job may take longer than ``ttl``."""

    def __init__(self, node: RedisNode, ttl: float = 15.0) -> None:
        self.node_id = node.node_id
        self._node = node
        self._redis = node.client
        self._ttl_ms = max(1, int(ttl * 1000))
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._release = self._redis.register_script(_RELEASE)
        self._local = LocalJobLock()
        self._held: set[str] = set()
        self._guard = threading.Lock()

    def _key(self, job: str) -> str:
        return self._node.key("job", job)

    def holder(self, job: str) -> str | None:
        """The process holding ``job``'s lock, if any."""
        value = self._redis.get(self._key(job))
        return value.decode() if value is not None else None

    def try_hold(self, job: str) -> bool:
        """Take or renew ``job``'s lock; False when another process holds it."""
        held = bool(self._acquire(keys=[self._key(job)], args=[self.node_id, self._ttl_ms]))
        with self._guard:
            if held:
                if job not in self._held:
                    log.info("this process now runs %s", job)
                self._held.add(job)
            else:
                self._held.discard(job)
        return held

    def run(self, job: str, work: Callable[[], T]) -> tuple[bool, T | None]:
        # The local lock keeps two threads of this process from both seeing the lock as
        # theirs (it names the process, not the thread).
        ran, outcome = self._local.run(job, lambda: self._run_held(job, work))
        return outcome if ran and outcome is not None else (False, None)

    def _run_held(self, job: str, work: Callable[[], T]) -> tuple[bool, T | None]:
        if not self.try_hold(job):
            return False, None
        done = threading.Event()
        renewer = threading.Thread(target=self._renew_until, args=(job, done),
                                   name=f"job-lock-{job}", daemon=True)
        renewer.start()
        try:
            return True, work()
        finally:
            done.set()

    def _renew_until(self, job: str, done: threading.Event) -> None:
        while not done.wait(self._ttl_ms / 3000):
            try:
                if not self.try_hold(job):
                    log.warning("lost the lock of %s while running it", job)
                    return
            except Exception:
                log.exception("could not renew the lock of %s", job)

    def release_all(self) -> None:
        with self._guard:
            jobs, self._held = set(self._held), set()
        for job in jobs:
            self._release(keys=[self._key(job)], args=[self.node_id])
