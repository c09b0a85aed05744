"""Load management across processes: smart-charging intents (set and clear a limit, read
the composite schedule and the charger's abilities) carried over Redis to the process that
holds the charger's socket, and the load job, in whichever process runs it, limiting
chargers held by both."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import redis
from sqlalchemy import select

from tests.support.redis import REDIS_URL
from tests.support.server import LiveServer, fresh_database, start_server, stop_server
from tests.support.waiting import eventually, running
from voltspot.cluster.node import RedisNode, connect
from voltspot.cluster.presence import RedisPresence
from voltspot.cluster.routing import CommandRouter, RoutedChargerControl
from voltspot.db import Database
from voltspot.models import IdToken
from voltspot.ocpp.control import OcppChargerControl
from voltspot.ocpp.registry import ConnectionRegistry
from voltspot.services.load.intents import ChargingLimit, LimitPurpose, RateUnit
from voltspot.services.load.settings import set_site_limit_by_name
from voltspot.services.stations.registry import register_station
from voltspot.simulator import SimulatedCharger, SimulatedCharger201

PRESENCE_TTL = 2
_sites = itertools.count(1)


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(database url, Redis key prefix) shared by the processes of this module."""
    prefix = f"test-load-two-{uuid.uuid4().hex}:"
    yield fresh_database(tmp_path_factory.mktemp("load-cluster-db"), "load-cluster"), prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="module")
def processes(shared, tmp_path_factory) -> Iterator[dict[str, LiveServer]]:
    database_url, prefix = shared
    log_dir = tmp_path_factory.mktemp("load-cluster-logs")
    started = {name: start_server(database_url, log_dir / f"{name}.log", redis_url=REDIS_URL,
                                  redis_prefix=prefix, presence_ttl=str(PRESENCE_TTL),
                                  load_interval="0.5")
               for name in ("a", "b")}
    yield started
    for process in started.values():
        if process.process.poll() is None:
            stop_server(process)


@pytest.fixture
def db(shared) -> Iterator[Database]:
    database = Database(shared[0])
    yield database
    database.dispose()


@pytest.fixture
def elsewhere(shared) -> Iterator[tuple[RoutedChargerControl, RedisPresence]]:
    """This test process as one more process of the installation: it holds no socket, so
    every command it gives is routed to the process that holds the charger's."""
    client = connect(REDIS_URL)
    node = RedisNode(client, f"test-{uuid.uuid4().hex[:8]}", shared[1])
    presence = RedisPresence(node)
    no_sockets = OcppChargerControl(ConnectionRegistry(), 3.0)
    router = CommandRouter(node, no_sockets, timeout=3.0)
    yield RoutedChargerControl(no_sockets, presence, router), presence
    client.close()


def _site(db: Database, stations: int, amps: float | None = None) -> list[tuple[str, str]]:
    name = f"Cluster load site {next(_sites)}-{uuid.uuid4().hex[:4]}"
    registered = []
    with db.session() as session:
        for _ in range(stations):
            charge_point_id = f"LC-{uuid.uuid4().hex[:8]}"
            _, password = register_station(session, site_name=name,
                                           charge_point_id=charge_point_id, connectors=2)
            registered.append((charge_point_id, password))
        if session.scalar(select(IdToken).where(IdToken.id_tag == "LOAD-CARD")) is None:
            session.add(IdToken(id_tag="LOAD-CARD", holder_name="Load tester"))
    if amps is not None:
        set_site_limit_by_name(db, name, amps=amps, phases=3, hold_seconds=1)
    return registered


@pytest.mark.parametrize("charger_class", [SimulatedCharger, SimulatedCharger201],
                         ids=["1.6", "2.0.1"])
def test_smart_charging_intents_reach_a_charger_held_by_another_process(
        processes, db, elsewhere, charger_class):
    control, presence = elsewhere
    [(charge_point_id, password)] = _site(db, stations=1)
    charger = charger_class(processes["a"].ws_url, charge_point_id, password, step_delay=0,
                            meter_interval=3600)
    with running(charger):
        eventually(lambda: presence.holder(charge_point_id) is not None, seconds=10)
        assert not presence.holds(charge_point_id)
        abilities = control.read_smart_charging_settings(charge_point_id)
        assert abilities.accepted and abilities.supported
        assert abilities.max_stack_level is not None
        cap = ChargingLimit(purpose=LimitPurpose.STATION_MAX, amps=10.0, plug=0, phases=3)
        assert control.set_charging_limit(charge_point_id, cap).accepted
        assert charger.allowed_amps(1) == pytest.approx(10.0)
        schedule = control.composite_schedule(charge_point_id, 1, duration_s=60,
                                              unit=RateUnit.AMPS)
        assert schedule.accepted and schedule.limit_now_amps() == pytest.approx(10.0)
        assert control.clear_charging_limit(charge_point_id, LimitPurpose.STATION_MAX).accepted
        assert charger.allowed_amps(1) == pytest.approx(22000 / 690)


def test_the_load_job_limits_chargers_held_by_either_process(processes, db, elsewhere):
    _, presence = elsewhere
    stations = _site(db, stations=2, amps=32)
    # One charger on each process: whichever runs the load job, one is held by the other.
    chargers = [SimulatedCharger(server.ws_url, cp, pw, step_delay=0, meter_interval=3600)
                for server, (cp, pw) in zip((processes["a"], processes["b"]), stations,
                                            strict=True)]
    with ExitStack() as stack:
        loops = [stack.enter_context(running(charger)) for charger in chargers]
        holders = eventually(lambda: [presence.holder(cp) for cp, _ in stations]
                             if all(presence.holder(cp) for cp, _ in stations) else None,
                             seconds=10)
        assert holders[0] != holders[1]
        for charger, loop in zip(chargers, loops, strict=True):
            eventually(charger.booted.is_set, seconds=10)
            asyncio.run_coroutine_threadsafe(charger.plug_in(1, "LOAD-CARD"), loop).result(15)
        eventually(lambda: [charger.allowed_amps(1) for charger in chargers]
                   == pytest.approx([16.0, 16.0]), seconds=20)


