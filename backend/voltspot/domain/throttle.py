"""Throttles against guessing and flooding: pure bookkeeping on a clock the caller passes,
so the rules are tested without sleeping. One process keeps its own counts (with several
workers each counts separately: the bounds multiply by the worker count, which still ends
guessing at any useful speed).

- :class:`FailureThrottle`: after a few free failures every further failure for the same key
  (an email, a client address, a station id) makes the key wait, twice as long each time,
  up to a ceiling; a success forgets the key.
- :class:`RateLimit`: at most ``calls`` per ``per_seconds`` for one key (a sliding window).

Both keep at most ``max_keys`` keys, dropping the least recently used, so a flood of new
keys cannot grow memory without bound. :class:`FailureCounter` and :class:`CallLimit` are
what their users rely on; :mod:`voltspot.cluster.throttles` has versions shared by every
process through Redis.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Protocol


class FailureCounter(Protocol):
    """Growing waits after repeated failures for one key (see :class:`FailureThrottle`)."""

    def retry_after(self, key: str, now: float) -> int: ...

    def failed(self, key: str, now: float) -> int: ...

    def succeeded(self, key: str) -> None: ...


class CallLimit(Protocol):
    """At most so many calls a while for one key (see :class:`RateLimit`)."""

    def hit(self, key: str, now: float) -> int: ...


@dataclass
class _Failures:
    count: int
    last_at: float
    blocked_until: float


class FailureThrottle:
    """Growing waits after repeated failures for one key."""

    def __init__(self, *, free: int = 5, base_seconds: float = 1.0,
                 max_seconds: float = 900.0, forget_after: float = 3600.0,
                 max_keys: int = 100_000) -> None:
        self.free = free
        self.base_seconds = base_seconds
        self.max_seconds = max_seconds
        self.forget_after = forget_after
        self.max_keys = max_keys
        self._keys: OrderedDict[str, _Failures] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, key: str, now: float) -> int:
        """Whole seconds ``key`` must still wait before its next try (0: it may try now)."""
        with self._lock:
            failures = self._keys.get(key)
            if failures is None:
                return 0
            if now - failures.last_at > self.forget_after:
                del self._keys[key]
                return 0
            return max(0, math.ceil(failures.blocked_until - now))

    def failed(self, key: str, now: float) -> int:
        """Record a failure for ``key``; returns the seconds it must now wait (0 while it
        still has free tries)."""
        with self._lock:
            failures = self._keys.pop(key, None)
            if failures is None or now - failures.last_at > self.forget_after:
                failures = _Failures(0, now, now)
            failures.count += 1
            failures.last_at = now
            beyond = failures.count - self.free
            if beyond > 0:
                wait = min(self.max_seconds, self.base_seconds * 2 ** min(beyond - 1, 30))
                failures.blocked_until = now + wait
            self._keys[key] = failures
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)
            return max(0, math.ceil(failures.blocked_until - now))

    def succeeded(self, key: str) -> None:
        """Forget ``key``'s failures."""
        with self._lock:
            self._keys.pop(key, None)


class RateLimit:
    """At most ``calls`` per ``per_seconds`` for one key."""

    def __init__(self, calls: int, per_seconds: float, *, max_keys: int = 100_000) -> None:
        self.calls = calls
        self.per_seconds = per_seconds
        self.max_keys = max_keys
        self._keys: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, now: float) -> int:
        """Count one call for ``key``; returns 0 when it is allowed, else the whole seconds
        until it would be (a refused call is not counted)."""
        with self._lock:
            times = self._keys.pop(key, None) or deque()
            while times and now - times[0] >= self.per_seconds:
                times.popleft()
            if len(times) >= self.calls:
                self._keys[key] = times
                return max(1, math.ceil(times[0] + self.per_seconds - now))
            times.append(now)
            self._keys[key] = times
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)
            return 0
