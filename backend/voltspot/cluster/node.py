"""This process's name in the cluster and its connection to Redis."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass

import redis

DEFAULT_PREFIX = "voltspot:"


def new_node_id() -> str:
    """A name for this process, unique across machines and restarts (a pid is reused;
    the random part is not)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def connect(url: str) -> redis.Redis:
    """A Redis client for ``url``. Under gevent's monkey-patching its sockets cooperate
    with the event loop, so a blocking read parks only the greenlet that made it.

    Reads have no client-side timeout: blocking reads (a routed command's reply, the
    inbox) carry their own, longer than any fixed one would be; TCP keepalive and the
    periodic health check find a Redis that went away."""
    return redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=None,
                                socket_keepalive=True, health_check_interval=30)


@dataclass(frozen=True)
class RedisNode:
    """One process on a shared Redis: every key it uses starts with ``prefix`` (so
    several Voltspot installations, or tests, can share one Redis)."""

    client: redis.Redis
    node_id: str
    prefix: str = DEFAULT_PREFIX

    def key(self, *parts: str) -> str:
        """The Redis key ``prefix`` + ``parts`` joined by ':'."""
        return self.prefix + ":".join(parts)
