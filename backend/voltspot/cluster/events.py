""""Something changed" events (meter values, plug status, session state) for live pages
and background jobs.

Publishers name a topic (see the ``*_topic`` helpers) and say what kind of change it
was; subscribers read the events of the topics they chose. Events say *that* something
changed, not the whole new state: a page that receives one reads the state again, so an
event dropped for a slow reader costs nothing but a late refresh. Without Redis the events
stay inside the process (:class:`LocalEventBus`); with it every process's subscribers get
every process's events (:class:`RedisEventBus`, Redis pub/sub).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from voltspot.cluster.node import RedisNode

log = logging.getLogger("voltspot.cluster")

# Events a subscriber has not read yet, beyond which the oldest are dropped.
QUEUE_LIMIT = 256
# How often the listener looks up from Redis to notice it was stopped.
_POLL_SECONDS = 0.25
# Events waiting to be sent to Redis, beyond which new ones are dropped.
OUTBOX_LIMIT = 10000


def station_topic(charge_point_id: str) -> str:
    """Changes at one station: plug status, connection, meter values."""
    return f"station:{charge_point_id}"


def session_topic(session_id: int | str) -> str:
    """Changes of one charging session: state, energy, cost."""
    return f"session:{session_id}"


def owner_topic(owner_id: int | str) -> str:
    """Any change at any station of one owner (their live board)."""
    return f"owner:{owner_id}"


@dataclass(frozen=True)
class Event:
    """``kind`` of change (e.g. "meter", "status", "session") on ``topic``; ``data``
    holds plain JSON values."""

    topic: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"topic": self.topic, "kind": self.kind, "data": self.data},
                          separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Event:
        raw = json.loads(text)
        return cls(raw["topic"], raw["kind"], raw.get("data") or {})


class Subscription:
    """Events of some topics, in the order they were delivered. Close it when done
    (or use it as a context manager)."""

    def __init__(self, bus: LocalEventBus, topics: frozenset[str]) -> None:
        self.topics = topics
        self._bus = bus
        self._queue: queue.Queue[Event] = queue.Queue(QUEUE_LIMIT)
        self.closed = False

    def _deliver(self, event: Event) -> None:
        while True:
            try:
                self._queue.put_nowait(event)
                return
            except queue.Full:
                # Drop the oldest: a slow reader gets the latest changes.
                with contextlib.suppress(queue.Empty):
                    self._queue.get_nowait()

    def get(self, timeout: float | None = None) -> Event | None:
        """The next event, waiting up to ``timeout`` seconds; None when none came."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self) -> list[Event]:
        """Every event already delivered, without waiting."""
        events = []
        while True:
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                return events

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._bus._unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class EventBus(Protocol):
    def publish(self, event: Event) -> None:
        """Tell every subscriber of ``event.topic``; never blocks on slow readers."""
        ...

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        """Start receiving events of ``topics`` (events published before are not
        replayed)."""
        ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class LocalEventBus:
    """Events within this process."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}
        self._lock = threading.Lock()

    def publish(self, event: Event) -> None:
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        """Hand ``event`` to this process's subscribers of its topic."""
        with self._lock:
            subscribers = list(self._subscribers.get(event.topic, ()))
        for subscription in subscribers:
            subscription._deliver(event)

    def has_subscribers(self, topic: str) -> bool:
        return topic in self._subscribers

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        subscription = Subscription(self, frozenset(topics))
        with self._lock:
            for topic in subscription.topics:
                self._subscribers.setdefault(topic, set()).add(subscription)
        return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            for topic in subscription.topics:
                subscribers = self._subscribers.get(topic)
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._subscribers[topic]

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None


class RedisEventBus:
    """Events of every process through Redis pub/sub: a publisher sends each event to
    Redis only, and one listener per process hands what Redis sends back to the local
    subscribers (its own events included, so each subscriber sees each event once).

    Once started, publishing only queues the event: a sender sends what has queued up in
    one round trip, the same event once (a charger's message never waits on Redis, and a
    burst of meter values costs a few trips, not one each). Before :meth:`start` (a CLI
    command) events are sent at once.
    """

    def __init__(self, node: RedisNode) -> None:
        self._node = node
        self._redis = node.client
        self._local = LocalEventBus()
        self._prefix = node.key("events", "")
        self._pubsub: Any = None
        self._stopped = threading.Event()
        self._listener: threading.Thread | None = None
        self._outbox: queue.Queue[Event] = queue.Queue(OUTBOX_LIMIT)
        self._sender: threading.Thread | None = None

    def publish(self, event: Event) -> None:
        if self._sender is None:
            self._redis.publish(self._prefix + event.topic, event.to_json())
            return
        try:
            self._outbox.put_nowait(event)
        except queue.Full:
            log.warning("Redis is not keeping up; a %s event on %s is dropped",
                        event.kind, event.topic)

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        return self._local.subscribe(topics)

    def start(self) -> None:
        """Listen (idempotent); returns once Redis is sending this process the events."""
        if self._listener is not None:
            return
        self._pubsub = self._listen()
        self._listener = threading.Thread(target=self._listen_forever, name="event-bus",
                                          daemon=True)
        self._listener.start()
        self._sender = threading.Thread(target=self._send_forever, name="event-sender",
                                        daemon=True)
        self._sender.start()

    def _send_forever(self) -> None:
        while not self._stopped.is_set():
            try:
                first = self._outbox.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
            messages = dict.fromkeys((self._prefix + event.topic, event.to_json())
                                     for event in [first, *self._drain_outbox()])
            try:
                pipe = self._redis.pipeline(transaction=False)
                for channel, text in messages:
                    pipe.publish(channel, text)
                pipe.execute()
            except Exception:
                log.exception("could not publish %s events; they are dropped", len(messages))

    def _drain_outbox(self) -> list[Event]:
        events = []
        while len(events) < OUTBOX_LIMIT:
            try:
                events.append(self._outbox.get_nowait())
            except queue.Empty:
                break
        return events

    def _listen(self) -> Any:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        pubsub.psubscribe(self._prefix + "*")
        # Wait for Redis to confirm, so an event published after start() is received.
        pubsub.get_message(timeout=5)
        return pubsub

    def _listen_forever(self) -> None:
        while not self._stopped.is_set():
            try:
                if self._pubsub is None:
                    self._pubsub = self._listen()
                message = self._pubsub.get_message(timeout=_POLL_SECONDS)
            except Exception:
                log.exception("lost the event stream from Redis; listening again in 1 s")
                self._close_pubsub()
                self._stopped.wait(1)
                continue
            if message is None or message.get("type") != "pmessage":
                continue
            topic = message["channel"].decode().removeprefix(self._prefix)
            if not self._local.has_subscribers(topic):
                continue
            try:
                event = Event.from_json(message["data"])
            except (ValueError, KeyError):
                log.warning("unreadable event on %s: %.200r", topic, message["data"])
                continue
            self._local.deliver(event)

    def _close_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception:  # noqa: BLE001 - the connection is already broken
                log.debug("closing a broken pub/sub connection")

    def stop(self) -> None:
        self._stopped.set()
        for thread in (self._sender, self._listener):
            if thread is not None:
                thread.join(timeout=3)
        self._close_pubsub()
