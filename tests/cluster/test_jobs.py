"""Once-only jobs: one process at a time under a lock with an expiry (real Redis)."""

from __future__ import annotations

import threading

from tests.support.waiting import eventually
from voltspot.cluster.jobs import LocalJobLock, RedisJobLock


def test_a_job_runs_in_the_process_that_holds_its_lock_and_not_in_another(make_node):
    a, b = RedisJobLock(make_node("a")), RedisJobLock(make_node("b"))
    assert a.run("reconcile", lambda: 42) == (True, 42)
    assert b.run("reconcile", lambda: 43) == (False, None)
    assert a.run("reconcile", lambda: 44) == (True, 44)
    assert b.holder("reconcile") == "a"


def test_different_jobs_may_run_in_different_processes(make_node):
    a, b = RedisJobLock(make_node("a")), RedisJobLock(make_node("b"))
    assert a.run("reconcile", lambda: 1) == (True, 1)
    assert b.run("housekeeping", lambda: 2) == (True, 2)


def test_a_job_moves_to_another_process_when_its_holder_dies(make_node):
    dead, alive = RedisJobLock(make_node("dead"), ttl=0.3), RedisJobLock(make_node("alive"))
    assert dead.run("housekeeping", lambda: None)[0]
    assert not alive.run("housekeeping", lambda: None)[0]
    eventually(lambda: alive.run("housekeeping", lambda: None)[0], seconds=2)
    assert alive.holder("housekeeping") == "alive"


def test_a_job_longer_than_the_expiry_keeps_its_lock_while_it_runs(make_node):
    a, b = RedisJobLock(make_node("a"), ttl=0.3), RedisJobLock(make_node("b"))
    during: list[tuple[bool, object]] = []

    def long_job() -> None:
        threading.Event().wait(1.0)
        during.append(b.run("outbox", lambda: None))

    assert a.run("outbox", long_job)[0]
    assert during == [(False, None)]


def test_a_clean_shutdown_hands_its_jobs_over_at_once(make_node):
    a, b = RedisJobLock(make_node("a"), ttl=30), RedisJobLock(make_node("b"))
    a.run("reconcile", lambda: None)
    a.release_all()
    assert b.run("reconcile", lambda: "b") == (True, "b")


def test_two_threads_of_one_process_never_run_the_same_job_together(make_node):
    lock = RedisJobLock(make_node("a"))
    inside, release = threading.Event(), threading.Event()
    first = threading.Thread(target=lock.run, args=("reconcile", lambda: (inside.set(),
                                                                          release.wait(5))))
    first.start()
    inside.wait(5)
    try:
        assert lock.run("reconcile", lambda: None) == (False, None)
    finally:
        release.set()
        first.join()


def test_without_redis_a_job_runs_unless_it_is_already_running():
    lock = LocalJobLock()
    nested: list[tuple[bool, object]] = []
    assert lock.run("housekeeping", lambda: nested.append(lock.run("housekeeping", int)))[0]
    assert nested == [(False, None)]
    assert lock.run("housekeeping", lambda: "again") == (True, "again")
