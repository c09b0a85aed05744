"""The event bus: in-process, and across processes through the real Redis pub/sub."""

from __future__ import annotations

import pytest

from voltspot.cluster.events import (
    QUEUE_LIMIT,
    Event,
    LocalEventBus,
    RedisEventBus,
    session_topic,
    station_topic,
)


@pytest.fixture
def two_processes(make_node):
    buses = [RedisEventBus(make_node("a")), RedisEventBus(make_node("b"))]
    for bus in buses:
        bus.start()
    yield buses
    for bus in buses:
        bus.stop()


def test_an_event_published_in_one_process_reaches_subscribers_in_another(two_processes):
    a, b = two_processes
    with b.subscribe([station_topic("CP1")]) as subscription:
        a.publish(Event(station_topic("CP1"), "meter", {"energy_wh": 1200}))
        assert subscription.get(timeout=3) == Event("station:CP1", "meter",
                                                    {"energy_wh": 1200})


def test_a_subscriber_in_the_publishing_process_gets_each_event_once(two_processes):
    a, _ = two_processes
    with a.subscribe([session_topic(5)]) as subscription:
        a.publish(Event(session_topic(5), "session", {"state": "charging"}))
        assert subscription.get(timeout=3) is not None
        assert subscription.get(timeout=0.3) is None


def test_a_subscriber_gets_only_the_topics_it_chose(two_processes):
    a, b = two_processes
    with b.subscribe([station_topic("CP1"), session_topic(1)]) as subscription:
        a.publish(Event(station_topic("CP2"), "status"))
        a.publish(Event(session_topic(1), "session"))
        assert subscription.get(timeout=3).topic == "session:1"
        assert subscription.get(timeout=0.3) is None


def test_a_closed_subscription_receives_nothing_more(two_processes):
    a, b = two_processes
    subscription = b.subscribe([station_topic("CP1")])
    subscription.close()
    a.publish(Event(station_topic("CP1"), "status"))
    assert subscription.get(timeout=0.3) is None


def test_without_redis_events_reach_subscribers_in_the_same_process():
    bus = LocalEventBus()
    with bus.subscribe([station_topic("CP1")]) as subscription:
        bus.publish(Event(station_topic("CP1"), "status", {"status": "Charging"}))
        bus.publish(Event(station_topic("CP2"), "status"))
        assert subscription.drain() == [Event("station:CP1", "status", {"status": "Charging"})]


def test_a_slow_reader_keeps_the_latest_events_and_never_blocks_the_publisher():
    bus = LocalEventBus()
    with bus.subscribe(["t"]) as subscription:
        for number in range(QUEUE_LIMIT + 10):
            bus.publish(Event("t", "meter", {"n": number}))
        events = subscription.drain()
    assert len(events) == QUEUE_LIMIT
    assert events[-1].data == {"n": QUEUE_LIMIT + 9}


def test_a_burst_of_the_same_change_reaches_a_subscriber_at_least_once_and_in_order(
        two_processes):
    a, b = two_processes
    with b.subscribe([station_topic("CP1"), station_topic("CP2")]) as subscription:
        for _ in range(50):
            a.publish(Event(station_topic("CP1"), "meter"))
        a.publish(Event(station_topic("CP2"), "status"))
        received = []
        while (event := subscription.get(timeout=3)) is not None:
            received.append(event)
            if event.topic == "station:CP2":
                break
    assert 1 <= len(received) <= 51
    assert received[-1] == Event("station:CP2", "status")


def test_before_it_is_started_a_bus_publishes_at_once(make_node, two_processes):
    _, listener = two_processes
    sender = RedisEventBus(make_node("cli"))
    with listener.subscribe([session_topic(9)]) as subscription:
        sender.publish(Event(session_topic(9), "session"))
        assert subscription.get(timeout=3) == Event("session:9", "session")
