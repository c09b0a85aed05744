"""Presence: which process holds each charger's socket, shared through the real Redis."""

from __future__ import annotations

import time

from tests.support.waiting import eventually
from voltspot.cluster.presence import LocalPresence, RedisPresence


def test_a_station_claimed_by_one_process_is_online_there_for_every_process(make_node):
    a, b = RedisPresence(make_node("a")), RedisPresence(make_node("b"))
    a.claim("CP1", "conn-1")
    assert b.holder("CP1") == "a"
    assert b.holders(["CP1", "CP2"]) == {"CP1": "a", "CP2": None}
    assert a.holds("CP1") and not b.holds("CP1")


def test_a_station_nobody_claimed_is_offline(make_node):
    assert RedisPresence(make_node("a")).holder("CP-NEVER") is None


def test_a_process_that_stops_refreshing_loses_its_stations_within_the_expiry(make_node):
    dead = RedisPresence(make_node("dead"), ttl=0.5)
    dead.claim("CP1", "conn-1")
    observer = RedisPresence(make_node("observer"))
    assert observer.holder("CP1") == "dead"
    eventually(lambda: observer.holder("CP1") is None, seconds=2)


def test_a_refreshing_process_keeps_its_stations_past_the_expiry(make_node):
    alive = RedisPresence(make_node("alive"), ttl=0.5)
    alive.start()
    try:
        alive.claim("CP1", "conn-1")
        time.sleep(1.5)
        assert RedisPresence(make_node("observer")).holder("CP1") == "alive"
    finally:
        alive.stop()


def test_a_reconnect_to_another_process_names_the_previous_holder(make_node):
    a, b = RedisPresence(make_node("a")), RedisPresence(make_node("b"))
    assert a.claim("CP1", "conn-1") is None
    assert b.claim("CP1", "conn-2") == "a"
    assert a.holder("CP1") == "b"


def test_the_old_holder_learns_at_its_next_refresh_that_its_socket_is_stale(make_node):
    a, b = RedisPresence(make_node("a")), RedisPresence(make_node("b"))
    lost: list[str] = []
    a.on_lost = lost.append
    a.claim("CP1", "conn-1")
    a.claim("CP2", "conn-2")
    b.claim("CP1", "conn-3")
    assert a.refresh() == ["CP1"]
    assert lost == ["CP1"]
    assert a.held() == {"CP2"}
    assert b.holder("CP1") == "b"


def test_releasing_a_stale_socket_leaves_the_new_holder_in_place(make_node):
    a, b = RedisPresence(make_node("a")), RedisPresence(make_node("b"))
    a.claim("CP1", "conn-1")
    b.claim("CP1", "conn-2")
    a.release("CP1", "conn-1")
    assert b.holder("CP1") == "b"


def test_closing_a_replaced_socket_in_the_same_process_keeps_the_station_online(make_node):
    a = RedisPresence(make_node("a"))
    a.claim("CP1", "old")
    a.claim("CP1", "new")
    a.release("CP1", "old")
    assert a.holder("CP1") == "a" and a.holds("CP1")
    a.release("CP1", "new")
    assert a.holder("CP1") is None


def test_checking_a_station_taken_over_reports_it_lost_once(make_node):
    a, b = RedisPresence(make_node("a")), RedisPresence(make_node("b"))
    lost: list[str] = []
    a.on_lost = lost.append
    a.claim("CP1", "conn-1")
    assert a.check("CP1")
    b.claim("CP1", "conn-2")
    assert not a.check("CP1")
    assert not a.check("CP1")
    assert lost == ["CP1"]


def test_a_record_that_expired_during_a_stall_is_taken_back_at_the_next_refresh(make_node):
    a = RedisPresence(make_node("a"), ttl=0.2)
    a.claim("CP1", "conn-1")
    eventually(lambda: a.holder("CP1") is None, seconds=2)
    assert a.refresh() == []
    assert a.holder("CP1") == "a"


def test_stopping_forgets_every_station_at_once(make_node):
    a = RedisPresence(make_node("a"))
    a.start()
    a.claim("CP1", "conn-1")
    a.stop()
    assert a.holder("CP1") is None


def test_without_redis_a_station_is_online_while_this_process_holds_it():
    presence = LocalPresence()
    presence.claim("CP1", "conn-1")
    assert presence.holder("CP1") == "local"
    presence.release("CP1", "conn-1")
    assert presence.holder("CP1") is None
