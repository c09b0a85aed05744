"""One process's cluster parts, with Redis and without."""

from __future__ import annotations

from tests.support.waiting import eventually
from voltspot.cluster.events import LocalEventBus
from voltspot.cluster.jobs import LocalJobLock
from voltspot.cluster.routing import RoutedChargerControl
from voltspot.cluster.wiring import local_cluster, redis_cluster


def test_without_redis_the_process_uses_its_own_control_and_in_process_parts(local_sockets):
    control = local_sockets().control
    cluster = local_cluster(control)
    assert cluster.control is control and not cluster.shared
    assert isinstance(cluster.jobs, LocalJobLock) and isinstance(cluster.events, LocalEventBus)


def test_a_charger_reconnecting_to_another_process_is_closed_in_the_old_one(
        redis_url, prefix, local_sockets):
    sockets = local_sockets()
    a = redis_cluster(redis_url, sockets.control, 1.0, prefix=prefix)
    b = redis_cluster(redis_url, local_sockets().control, 1.0, prefix=prefix)
    closed: list[str] = []
    a.close_stale_with(closed.append)
    for cluster in (a, b):
        cluster.start()
    try:
        assert isinstance(b.control, RoutedChargerControl) and b.shared
        a.claim("CP1", "conn-a")
        assert b.presence.holder("CP1") == a.node_id
        b.evict(b.claim("CP1", "conn-b"), "CP1")
        eventually(lambda: closed == ["CP1"], seconds=3)
        assert a.presence.holder("CP1") == b.node_id
    finally:
        a.stop()
        b.stop()


def test_a_process_that_leaves_cleanly_hands_over_stations_and_jobs_at_once(
        redis_url, prefix, local_sockets):
    a = redis_cluster(redis_url, local_sockets().control, 1.0, prefix=prefix, job_ttl=60)
    b = redis_cluster(redis_url, local_sockets().control, 1.0, prefix=prefix, job_ttl=60)
    a.start()
    a.claim("CP1", "conn-a")
    a.jobs.run("reconcile", lambda: None)
    a.stop()
    assert b.presence.holder("CP1") is None
    assert b.jobs.run("reconcile", lambda: "b") == (True, "b")
    b.stop()
