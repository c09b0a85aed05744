"""Which process holds each charger's socket.

Each process records the stations whose sockets it holds: in Redis a key per station
naming the process, with an expiry the process keeps refreshing. Any process can ask
whether a station is online and where; a process that dies stops refreshing and loses its
stations when their keys expire (``ttl`` seconds at most).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Protocol

from voltspot.cluster.node import RedisNode

log = logging.getLogger("voltspot.cluster")

Lost = Callable[[str], None]

# One round trip refreshes every station a process holds. A key that names another
# process was taken over (the charger reconnected there): reported as lost. A key that
# expired while this process still holds the socket (a stall longer than the expiry) is
# taken back.
_REFRESH = """
local lost = {}
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder == ARGV[1] or not holder then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
  else
    lost[#lost + 1] = key
  end
end
return lost
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_REFRESH_BATCH = 1000


class Presence(Protocol):
    """Where chargers are connected.

    ``on_lost`` (settable) is called with a charge point id whose socket this process
    still holds but whose charger has connected to another process since: the socket is
    stale and should be closed.
    """

    node_id: str
    on_lost: Lost | None

    def claim(self, charge_point_id: str, connection_id: str) -> str | None:
        """Record that this process now holds the station's socket ``connection_id``.
        Returns the process that held it until now, if another one did (it must close
        its stale socket)."""
        ...

    def release(self, charge_point_id: str, connection_id: str) -> None:
        """Socket ``connection_id`` closed: forget the station, unless a newer socket of
        it (here or in another process) holds it now."""
        ...

    def holder(self, charge_point_id: str) -> str | None:
        """The process holding the station's socket; None when it is offline."""
        ...

    def holders(self, charge_point_ids: Iterable[str]) -> dict[str, str | None]:
        """:meth:`holder` of many stations at once."""
        ...

    def held(self) -> frozenset[str]:
        """The stations this process holds."""
        ...

    def holds(self, charge_point_id: str) -> bool:
        """Whether this process holds the station's socket (no trip to Redis)."""
        ...

    def check(self, charge_point_id: str) -> bool:
        """Read the station's record again now: when this process no longer holds it,
        forget it, tell ``on_lost`` and return False."""
        ...

    def start(self) -> None:
        """Start keeping the records fresh (idempotent)."""
        ...

    def stop(self) -> None:
        """Stop refreshing and forget every station this process holds."""
        ...


class LocalPresence:
    """Presence for a process that is the whole installation: online means held here."""

    def __init__(self, node_id: str = "local") -> None:
        self.node_id = node_id
        self.on_lost: Lost | None = None
        self._held: dict[str, str] = {}
        self._lock = threading.Lock()

    def claim(self, charge_point_id: str, connection_id: str) -> str | None:
        with self._lock:
            self._held[charge_point_id] = connection_id
        return None

    def release(self, charge_point_id: str, connection_id: str) -> None:
        with self._lock:
            if self._held.get(charge_point_id) == connection_id:
                del self._held[charge_point_id]

    def holder(self, charge_point_id: str) -> str | None:
        return self.node_id if charge_point_id in self._held else None

    def holders(self, charge_point_ids: Iterable[str]) -> dict[str, str | None]:
        return {charge_point_id: self.holder(charge_point_id)
                for charge_point_id in charge_point_ids}

    def held(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._held)

    def holds(self, charge_point_id: str) -> bool:
        return charge_point_id in self._held

    def check(self, charge_point_id: str) -> bool:
        return True

    def start(self) -> None:
        return None

    def stop(self) -> None:
        with self._lock:
            self._held.clear()


class RedisPresence:
    """Presence shared through Redis (see the module docstring). Records are refreshed
    every ``ttl / 3`` seconds, so one missed round does not drop a station."""

    def __init__(self, node: RedisNode, ttl: float = 10.0) -> None:
        self.node_id = node.node_id
        self.on_lost: Lost | None = None
        self._node = node
        self._redis = node.client
        self._ttl_ms = max(1, int(ttl * 1000))
        self._held: dict[str, str] = {}
        self._lock = threading.Lock()
        self._refresh_script = self._redis.register_script(_REFRESH)
        self._release_script = self._redis.register_script(_RELEASE)
        self._stopped = threading.Event()
        self._refresher: threading.Thread | None = None

    def _key(self, charge_point_id: str) -> str:
        return self._node.key("station", charge_point_id)

    def claim(self, charge_point_id: str, connection_id: str) -> str | None:
        with self._lock:
            self._held[charge_point_id] = connection_id
        previous = self._redis.set(self._key(charge_point_id), self.node_id,
                                   px=self._ttl_ms, get=True)
        previous_node = previous.decode() if previous is not None else None
        return previous_node if previous_node != self.node_id else None

    def release(self, charge_point_id: str, connection_id: str) -> None:
        with self._lock:
            if self._held.get(charge_point_id) != connection_id:
                return
            del self._held[charge_point_id]
        self._release_script(keys=[self._key(charge_point_id)], args=[self.node_id])

    def holder(self, charge_point_id: str) -> str | None:
        value = self._redis.get(self._key(charge_point_id))
        return value.decode() if value is not None else None

    def holders(self, charge_point_ids: Iterable[str]) -> dict[str, str | None]:
        ids = list(charge_point_ids)
        if not ids:
            return {}
        values = self._redis.mget([self._key(charge_point_id) for charge_point_id in ids])
        return {charge_point_id: value.decode() if value is not None else None
                for charge_point_id, value in zip(ids, values, strict=True)}

    def held(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._held)

    def holds(self, charge_point_id: str) -> bool:
        return charge_point_id in self._held

    def refresh(self) -> list[str]:
        """Renew this process's records now; returns (and reports to ``on_lost``) the
        stations another process has taken over."""
        held = sorted(self.held())
        lost: list[str] = []
        for start in range(0, len(held), _REFRESH_BATCH):
            batch = held[start:start + _REFRESH_BATCH]
            keys = [self._key(charge_point_id) for charge_point_id in batch]
            lost_keys = {key.decode() for key in
                         self._refresh_script(keys=keys, args=[self.node_id, self._ttl_ms])}
            lost.extend(charge_point_id for charge_point_id, key in zip(batch, keys, strict=True)
                        if key in lost_keys)
        for charge_point_id in lost:
            self._lose(charge_point_id)
        return lost

    def check(self, charge_point_id: str) -> bool:
        if self.holder(charge_point_id) == self.node_id:
            return True
        self._lose(charge_point_id)
        return False

    def _lose(self, charge_point_id: str) -> None:
        with self._lock:
            if self._held.pop(charge_point_id, None) is None:
                return
        log.info("%s: now connected to another process; closing the stale socket",
                 charge_point_id)
        if self.on_lost is not None:
            self.on_lost(charge_point_id)

    def start(self) -> None:
        if self._refresher is not None:
            return
        self._refresher = threading.Thread(target=self._refresh_forever,
                                           name="presence", daemon=True)
        self._refresher.start()

    def _refresh_forever(self) -> None:
        interval = self._ttl_ms / 3000
        while not self._stopped.wait(interval):
            try:
                self.refresh()
            except Exception:
                log.exception("could not refresh station presence; trying again in %.1f s",
                              interval)

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            held, self._held = dict(self._held), {}
        for charge_point_id in held:
            self._release_script(keys=[self._key(charge_point_id)], args=[self.node_id])
