"""The cluster parts of one process, on Redis or (without it) inside the process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from voltspot.cluster.events import EventBus, LocalEventBus, RedisEventBus
from voltspot.cluster.jobs import JobLock, LocalJobLock, RedisJobLock
from voltspot.cluster.node import DEFAULT_PREFIX, RedisNode, connect, new_node_id
from voltspot.cluster.presence import LocalPresence, Presence, RedisPresence
from voltspot.cluster.routing import CommandRouter, RoutedChargerControl
from voltspot.services.charger_control import ChargerControl


@dataclass
class Cluster:
    """Presence, commands, job locks and events of this process.

    ``control`` is the ChargerControl every part of the process uses: the local one
    without Redis, a :class:`RoutedChargerControl` with it. ``on_stale`` (see
    :meth:`close_stale_with`) is how the process closes a socket whose charger has
    reconnected elsewhere.
    """

    node_id: str
    presence: Presence
    jobs: JobLock
    events: EventBus
    control: ChargerControl
    router: CommandRouter | None = None
    node: RedisNode | None = None

    @property
    def shared(self) -> bool:
        """Whether other processes share this installation's chargers (Redis)."""
        return self.router is not None

    def close_stale_with(self, close: Callable[[str], None]) -> None:
        """Call ``close(charge_point_id)`` when a charger this process holds has
        reconnected to another process."""
        self.presence.on_lost = close

    def claim(self, charge_point_id: str, connection_id: str) -> str | None:
        """A charger connected here: record it. Returns the process that held it until
        now, to be told with :meth:`evict` (once this connection is recorded)."""
        return self.presence.claim(charge_point_id, connection_id)

    def evict(self, previous: str | None, charge_point_id: str) -> None:
        """Tell ``previous`` (if any) that the charger is connected here now: it closes
        its stale socket."""
        if previous is not None and self.router is not None:
            self.router.evict(previous, charge_point_id)

    def release(self, charge_point_id: str, connection_id: str) -> None:
        """The charger's socket ``connection_id`` closed."""
        self.presence.release(charge_point_id, connection_id)

    def start(self) -> None:
        self.presence.start()
        self.events.start()
        if self.router is not None:
            self.router.start()

    def stop(self) -> None:
        """Leave the cluster cleanly: stations, jobs and the inbox go at once instead
        of when their records expire."""
        if self.router is not None:
            self.router.stop()
        self.jobs.release_all()
        self.presence.stop()
        self.events.stop()
        if self.node is not None:
            self.node.client.close()


def local_cluster(control: ChargerControl) -> Cluster:
    """A process that is the whole installation."""
    return Cluster(node_id="local", presence=LocalPresence(), jobs=LocalJobLock(),
                   events=LocalEventBus(), control=control)


def redis_cluster(url: str, local_control: ChargerControl, command_timeout: float, *,
                  prefix: str = DEFAULT_PREFIX, presence_ttl: float = 10.0,
                  job_ttl: float = 15.0, node_id: str | None = None) -> Cluster:
    """A process of an installation shared through the Redis at ``url``.
    ``local_control`` commands the sockets this process holds; ``presence_ttl`` is how
    long a dead process still appears to hold its stations, ``job_ttl`` its jobs."""
    node = RedisNode(connect(url), node_id or new_node_id(), prefix)
    presence = RedisPresence(node, ttl=presence_ttl)
    router = CommandRouter(node, local_control, command_timeout,
                           on_evicted=presence.check, alive_ttl=presence_ttl)
    return Cluster(node_id=node.node_id, presence=presence,
                   jobs=RedisJobLock(node, ttl=job_ttl), events=RedisEventBus(node),
                   control=RoutedChargerControl(local_control, presence, router),
                   router=router, node=node)
