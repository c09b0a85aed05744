"""The throttles' rules on a clock the test moves."""

from __future__ import annotations

from voltspot.domain.throttle import FailureThrottle, RateLimit


def test_a_key_waits_only_after_its_free_failures_and_twice_as_long_each_time():
    throttle = FailureThrottle(free=3, base_seconds=1, max_seconds=60)
    waits = [throttle.failed("k", 100.0) for _ in range(6)]
    assert waits == [0, 0, 0, 1, 2, 4]
    assert throttle.retry_after("k", 101.0) == 3
    assert throttle.retry_after("k", 104.0) == 0


def test_the_wait_stops_growing_at_the_ceiling():
    throttle = FailureThrottle(free=0, base_seconds=1, max_seconds=10)
    assert [throttle.failed("k", 0.0) for _ in range(6)][-1] == 10


def test_a_success_forgets_the_failures_and_other_keys_never_wait():
    throttle = FailureThrottle(free=1, base_seconds=5)
    throttle.failed("k", 0.0)
    throttle.failed("k", 0.0)
    assert throttle.retry_after("other", 0.0) == 0
    throttle.succeeded("k")
    assert throttle.retry_after("k", 0.0) == 0


def test_old_failures_are_forgotten():
    throttle = FailureThrottle(free=1, base_seconds=5, forget_after=60)
    throttle.failed("k", 0.0)
    assert throttle.failed("k", 1000.0) == 0


def test_the_keys_kept_are_bounded():
    throttle = FailureThrottle(free=0, max_keys=10)
    for n in range(100):
        throttle.failed(f"k{n}", 0.0)
    assert throttle.retry_after("k0", 0.0) == 0 and throttle.retry_after("k99", 0.0) == 1


def test_a_rate_limit_refuses_beyond_its_calls_per_window_and_says_when_to_return():
    limit = RateLimit(calls=3, per_seconds=60)
    assert [limit.hit("k", 0.0) for _ in range(4)] == [0, 0, 0, 60]
    assert limit.hit("k", 30.0) == 30
    assert limit.hit("other", 30.0) == 0
    assert limit.hit("k", 60.0) == 0
