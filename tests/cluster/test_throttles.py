"""Throttles shared by the processes of an installation through the real Redis: a guesser
spreading tries over several workers is slowed as if all went to one.

Two applications on one Redis key prefix stand for two processes; each test alternates its
tries between them, so neither alone would see enough failures to throttle."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask

from tests.factories import make_owner, make_station
from tests.support.owner import csrf_of
from tests.support.redis import REDIS_URL
from voltspot.app import create_app
from voltspot.cluster.node import RedisNode, connect
from voltspot.cluster.throttles import RedisFailureThrottle, RedisRateLimit
from voltspot.runtime import runtime
from voltspot.services.stations import registry


def _app(database_url: str, prefix: str, **settings) -> Flask:
    return create_app({"database_url": database_url, "secret_key": "test-secret",
                       "redis_url": REDIS_URL, "redis_prefix": prefix, **settings})


@pytest.fixture
def two_apps(database_url, prefix) -> Iterator[tuple[Flask, Flask]]:
    apps = (_app(database_url, prefix), _app(database_url, prefix))
    yield apps
    for app in apps:
        runtime(app).cluster.stop()
        runtime(app).db.dispose()


def _alternating(apps: tuple[Flask, Flask], tries: int, attempt) -> list[int]:
    """``attempt(app, n)`` for n in range(tries), on each app in turn: its status codes."""
    return [attempt(apps[n % 2], n) for n in range(tries)]


def test_failed_sign_ins_for_one_account_are_counted_across_processes(two_apps, db):
    owner = make_owner(db)

    def wrong_password(app: Flask, _n: int) -> int:
        client = app.test_client()
        return client.post("/owner/login", data={
            "email": owner.email, "password": "wrong-password-123",
            "csrf_token": csrf_of(client)}).status_code

    # Five free failures each in-process would let 10 through; shared, the 7th waits.
    answers = _alternating(two_apps, 8, wrong_password)
    assert answers[:6] == [401] * 6
    assert 429 in answers[6:]


def test_failed_sign_ins_from_one_address_are_counted_across_processes(two_apps):
    def unknown_email(app: Flask, n: int) -> int:
        client = app.test_client()
        return client.post("/owner/login", data={
            "email": f"nobody-{n}-{uuid.uuid4().hex[:6]}@example.org",
            "password": "wrong-password-123", "csrf_token": csrf_of(client)}).status_code

    answers = _alternating(two_apps, 23, unknown_email)
    assert answers[:21] == [401] * 21
    assert 429 in answers[21:]


def test_driver_starts_from_one_client_are_counted_across_processes(two_apps):
    def start(app: Flask, _n: int) -> int:
        return app.test_client().post("/c/NL-VSP-E99999999-1/start",
                                      data={"start_key": "k" * 16}).status_code

    answers = _alternating(two_apps, 7, start)
    assert 429 not in answers[:6]
    assert answers[6] == 429


def test_failed_station_sign_ins_are_counted_across_processes(two_apps, db):
    station = make_station(db)

    def wrong_password(app: Flask, n: int) -> registry.Access:
        return registry.admit(db, station.charge_point_id, f"wrong-password-{n:04d}",
                              accept_unknown=False, throttles=runtime(app).station_throttles).access

    answers = _alternating(two_apps, 8, wrong_password)
    assert answers[:6] == [registry.Access.BAD_PASSWORD] * 6
    assert registry.Access.THROTTLED in answers[6:]
    # The right password waits too, whichever process it reaches.
    assert registry.admit(db, station.charge_point_id, station.password, accept_unknown=False,
                          throttles=runtime(two_apps[1]).station_throttles).access == \
        registry.Access.THROTTLED


def test_without_redis_each_process_counts_its_own(database_url, db):
    apps = tuple(create_app({"database_url": database_url, "secret_key": "test-secret"})
                 for _ in range(2))
    try:
        station = make_station(db)
        answers = _alternating(apps, 8, lambda app, n: registry.admit(
            db, station.charge_point_id, f"wrong-password-{n:04d}", accept_unknown=False,
            throttles=runtime(app).station_throttles).access)
        assert answers == [registry.Access.BAD_PASSWORD] * 8
    finally:
        for app in apps:
            runtime(app).db.dispose()


@pytest.fixture
def node(prefix) -> Iterator[RedisNode]:
    client = connect(REDIS_URL)
    yield RedisNode(client, "throttle-test", prefix)
    client.close()


def test_the_shared_failure_throttle_doubles_its_wait_past_the_free_failures(node):
    throttle = RedisFailureThrottle(node, "doubling", free=2, base_seconds=60,
                                    max_seconds=200)
    waits = [throttle.failed("key") for _ in range(6)]
    assert waits[:2] == [0, 0]
    assert [59 <= waits[2] <= 60, 119 <= waits[3] <= 120, 199 <= waits[4] <= 200,
            199 <= waits[5] <= 200] == [True] * 4
    assert 1 <= throttle.retry_after("key") <= 200
    assert throttle.retry_after("other key") == 0
    throttle.succeeded("key")
    assert throttle.retry_after("key") == 0


def test_the_shared_rate_limit_refuses_calls_past_its_limit_for_that_key_only(node):
    limit = RedisRateLimit(node, "calls", calls=3, per_seconds=60)
    answers = [limit.hit("key") for _ in range(5)]
    assert answers[:3] == [0, 0, 0]
    assert all(1 <= wait <= 60 for wait in answers[3:])
    assert limit.hit("another key") == 0
