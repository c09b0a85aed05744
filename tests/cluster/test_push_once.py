"""Two ``voltspot serve`` processes sharing one database and the real Redis both run the
push job's loop: the installation has one VAPID key pair, and each notice reaches each
phone once (the job runs under the cluster's lock)."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from sqlalchemy import select

from tests.factories import add_session
from tests.support.push_endpoint import PushEndpoint
from tests.support.redis import REDIS_URL
from tests.support.server import LiveServer, fresh_database, start_server, stop_server
from voltspot.db import Database
from voltspot.domain.statuses import SessionStatus
from voltspot.models import Station, utcnow
from voltspot.services.driver import notifications
from voltspot.services.stations.registry import register_station

PHONES = 6


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Iterator[tuple[str, str]]:
    prefix = f"test-push-{uuid.uuid4().hex}:"
    yield fresh_database(tmp_path_factory.mktemp("push-cluster-db"), "push_cluster"), prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="module")
def processes(shared, tmp_path_factory) -> Iterator[list[LiveServer]]:
    database_url, prefix = shared
    log_dir = tmp_path_factory.mktemp("push-cluster-logs")
    started = [start_server(database_url, log_dir / f"{name}.log", redis_url=REDIS_URL,
                            redis_prefix=prefix, presence_ttl="2",
                            housekeeping_interval="0.2") for name in ("a", "b")]
    yield started
    for process in started:
        stop_server(process)


def _public_key(server: LiveServer) -> str:
    with urllib.request.urlopen(server.base_url + "/push/key", timeout=10) as response:
        return json.loads(response.read())["publicKey"]


def _full_car(db: Database) -> str:
    """A session whose car stopped drawing power two minutes ago; its token."""
    charge_point_id = f"PC-{uuid.uuid4().hex[:8]}"
    with db.session() as session:
        register_station(session, site_name="Cluster site", charge_point_id=charge_point_id,
                         connectors=1)
    with db.session() as session:
        station_id = session.scalar(select(Station.id).where(
            Station.charge_point_id == charge_point_id))
        return add_session(session, station_id, utcnow() - timedelta(minutes=30),
                           minutes=None, status=SessionStatus.SUSPENDED, energy_wh=8_000,
                           charging_minutes=28).token


def test_both_processes_serve_the_one_key_pair_and_each_phone_is_told_once(shared,
                                                                           processes):
    a, b = processes
    assert _public_key(a) == _public_key(b)
    db = Database(shared[0])
    try:
        with PushEndpoint(server_key=_public_key(a)) as push:
            phones = []
            for _ in range(PHONES):
                phone = push.subscribe()
                notifications.subscribe(db, _full_car(db), endpoint=phone.endpoint,
                                        p256dh=phone.p256dh, auth=phone.auth, language="en",
                                        allow_http=True)
                phones.append(phone)
            for phone in phones:
                assert phone.next_message(timeout=20).json()["title"] == "Charging finished"
            # Several rounds of both processes later, still one notice each.
            assert all(phone.nothing_within(0.5) for phone in phones)
            assert push.rejected == []
    finally:
        db.dispose()
