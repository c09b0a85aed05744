"""Throttles shared by every process of an installation through Redis, with the rules of
:mod:`voltspot.domain.throttle`: without a shared count, each worker would grant its own
free tries and a guesser spread over N workers would get N times as many.

Each count is one Redis key under the node's prefix (``throttle:<name>:<digest of the
key>``, so an email or an address of any length makes a short key), updated by one Lua
script so concurrent processes never lose a count. The clock is Redis's own (``TIME``):
processes on other machines have other clocks, monotonic ones most of all. Keys expire
when their count no longer matters, so memory is bounded by the live keys alone.

:func:`failure_throttle` and :func:`rate_limit` give the Redis version when the process
is part of a cluster (a :class:`~voltspot.cluster.node.RedisNode`), else the in-process
one; :func:`station_throttles` the chargers' throttles built with them.
"""

from __future__ import annotations

import hashlib
import uuid

from voltspot.cluster.node import RedisNode
from voltspot.domain.throttle import CallLimit, FailureCounter, FailureThrottle, RateLimit
from voltspot.services.stations.registry import (
    NEW_PENDING_RULES,
    STATION_AUTH_RULES,
    StationThrottles,
)

# KEYS[1]: the key's hash {count, until}. ARGV: free, base seconds, max seconds, forget
# after (ms). Returns the whole seconds the key must now wait.
_FAILED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
local beyond = count - tonumber(ARGV[1])
local blocked = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if beyond > 0 then
  local wait = math.min(tonumber(ARGV[3]), tonumber(ARGV[2]) * 2 ^ math.min(beyond - 1, 30))
  blocked = now + wait
  redis.call('HSET', KEYS[1], 'until', string.format('%.6f', blocked))
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return math.max(0, math.ceil(blocked - now))
"""

# KEYS[1]: the key's hash. Returns the whole seconds it must still wait.
_RETRY_AFTER = """
local blocked = redis.call('HGET', KEYS[1], 'until')
if not blocked then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
return math.max(0, math.ceil(tonumber(blocked) - now))
"""

# KEYS[1]: a sorted set of call times (µs). ARGV: calls, window (µs), a unique member.
# Returns 0 when the call is allowed (and counted), else the whole seconds to wait.
_HIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  return math.max(1, math.ceil((oldest + window - now) / 1000000))
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return 0
"""


def _key(node: RedisNode, name: str, key: str) -> str:
    return node.key("throttle", name, hashlib.sha256(key.encode()).hexdigest()[:32])


class RedisFailureThrottle:
    """:class:`~voltspot.domain.throttle.FailureThrottle` counted in Redis. The ``now``
    its methods take (the in-process version's clock) is not used: Redis's is."""

    def __init__(self, node: RedisNode, name: str, *, free: int = 5,
                 base_seconds: float = 1.0, max_seconds: float = 900.0,
                 forget_after: float = 3600.0) -> None:
        self._node, self._name = node, name
        self.free, self.base_seconds, self.max_seconds = free, base_seconds, max_seconds
        self.forget_after = forget_after
        self._failed = node.client.register_script(_FAILED)
        self._retry_after = node.client.register_script(_RETRY_AFTER)

    def retry_after(self, key: str, now: float | None = None) -> int:
        """Whole seconds ``key`` must still wait before its next try (0: it may try now)."""
        return int(self._retry_after(keys=[_key(self._node, self._name, key)]))

    def failed(self, key: str, now: float | None = None) -> int:
        """Record a failure for ``key``; returns the seconds it must now wait."""
        return int(self._failed(keys=[_key(self._node, self._name, key)], args=[
            self.free, self.base_seconds, self.max_seconds,
            int(self.forget_after * 1000)]))

    def succeeded(self, key: str) -> None:
        """Forget ``key``'s failures."""
        self._node.client.delete(_key(self._node, self._name, key))


class RedisRateLimit:
    """:class:`~voltspot.domain.throttle.RateLimit` counted in Redis (a sliding window of
    call times per key). The ``now`` :meth:`hit` takes is not used: Redis's clock is."""

    def __init__(self, node: RedisNode, name: str, calls: int, per_seconds: float) -> None:
        self._node, self._name = node, name
        self.calls, self.per_seconds = calls, per_seconds
        self._hit = node.client.register_script(_HIT)

    def hit(self, key: str, now: float | None = None) -> int:
        """Count one call for ``key``; returns 0 when it is allowed, else the whole seconds
        until it would be (a refused call is not counted)."""
        return int(self._hit(keys=[_key(self._node, self._name, key)], args=[
            self.calls, int(self.per_seconds * 1_000_000), uuid.uuid4().hex]))


def failure_throttle(node: RedisNode | None, name: str, **rules: float) -> FailureCounter:
    """A :class:`FailureThrottle` with ``rules`` (its keyword arguments), shared under
    ``name`` by every process on ``node``'s Redis; in-process when ``node`` is None."""
    if node is None:
        return FailureThrottle(**rules)
    return RedisFailureThrottle(node, name, **rules)


def rate_limit(node: RedisNode | None, name: str, calls: int, per_seconds: float
               ) -> CallLimit:
    """A :class:`RateLimit` shared under ``name`` by every process on ``node``'s Redis;
    in-process when ``node`` is None."""
    if node is None:
        return RateLimit(calls, per_seconds)
    return RedisRateLimit(node, name, calls, per_seconds)


def station_throttles(node: RedisNode | None) -> StationThrottles:
    """The throttles of chargers at the door (failed Basic auth per station id, new
    pending stations), shared through ``node``'s Redis when given."""
    return StationThrottles(
        auth_failures=failure_throttle(node, "station-auth", **STATION_AUTH_RULES),
        new_pending=rate_limit(node, "new-pending", **NEW_PENDING_RULES))
