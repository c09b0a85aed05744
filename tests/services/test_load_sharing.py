"""Load management against a live server and simulated chargers: a site's connection shared
among the cars charging there, through OCPP charging profiles."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from sqlalchemy import select

from tests.support.http import command
from tests.support.server import LiveServer, fresh_database, start_server, stop_server
from tests.support.waiting import eventually, running
from voltspot.db import Database
from voltspot.models import (
    Connector,
    IdToken,
    PlugLoad,
    Site,
    SiteLoadSettings,
    Station,
    StationLoadSettings,
    utcnow,
)
from voltspot.services.load.settings import set_site_limit_by_name
from voltspot.services.stations.registry import register_station
from voltspot.simulator import SimulatedCharger, SimulatedCharger201

_sites = itertools.count(1)


@pytest.fixture(scope="module")
def load_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    # A database of its own: another server on the shared one would manage these sites too.
    database = Database(fresh_database(tmp_path_factory.mktemp("load"), "load"))
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def load_server(load_db: Database, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[LiveServer]:
    live = start_server(str(load_db.engine.url.render_as_string(hide_password=False)),
                        tmp_path_factory.mktemp("load-logs") / "server.log",
                        load_interval="0.5")
    yield live
    stop_server(live)


def _site(db: Database, amps: float, stations: int, plugs: int = 2
          ) -> tuple[str, list[tuple[str, str]]]:
    name = f"Shared site {next(_sites)}-{uuid.uuid4().hex[:4]}"
    registered = []
    with db.session() as session:
        for _ in range(stations):
            charge_point_id = f"LM-{uuid.uuid4().hex[:8]}"
            _, password = register_station(session, site_name=name,
                                           charge_point_id=charge_point_id, connectors=plugs)
            registered.append((charge_point_id, password))
        if session.scalar(select(IdToken).where(IdToken.id_tag == "LOAD-CARD")) is None:
            session.add(IdToken(id_tag="LOAD-CARD", holder_name="Load tester"))
    set_site_limit_by_name(db, name, amps=amps, phases=3, hold_seconds=1)
    return name, registered


def _plug_loads(db: Database, charge_point_ids: list[str]) -> list[PlugLoad]:
    with db.session() as session:
        return list(session.scalars(
            select(PlugLoad).join(Connector, Connector.id == PlugLoad.connector_pk)
            .join(Station, Station.id == Connector.station_id)
            .where(Station.charge_point_id.in_(charge_point_ids),
                   PlugLoad.session_id.is_not(None))
            .order_by(Station.charge_point_id, Connector.connector_id)))


def _once(read, good, seconds: float = 10):
    """The first value of ``read()`` that ``good`` accepts, within ``seconds``."""
    found = []

    def check() -> bool:
        value = read()
        if good(value):
            found.append(value)
            return True
        return False

    eventually(check, seconds=seconds)
    return found[-1]


def _run(loop: asyncio.AbstractEventLoop, coroutine):
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result(15)


@pytest.mark.parametrize("charger_class", [SimulatedCharger, SimulatedCharger201],
                         ids=["1.6", "2.0.1"])
def test_three_cars_on_a_32_amp_site_share_it_and_get_more_when_one_leaves(
        load_server, load_db, charger_class):
    _, stations = _site(load_db, 32, stations=2)
    chargers = [charger_class(load_server.ws_url, cp, pw, step_delay=0, meter_interval=3600)
                for cp, pw in stations]
    with ExitStack() as stack:
        loops = [stack.enter_context(running(charger)) for charger in chargers]
        cars = [(0, 1), (0, 2), (1, 1)]
        for index, plug in cars:
            _run(loops[index], chargers[index].plug_in(plug, "LOAD-CARD"))

        def allowed() -> list[float]:
            return [chargers[index].allowed_amps(plug) for index, plug in cars]

        # Full power until the first round, the fallback (8 A on each of the four plugs),
        # then each car's own share.
        shared = _once(allowed, lambda amps: all(9 < a < 11 for a in amps))
        assert sum(shared) <= 32
        assert shared == pytest.approx([10.6, 10.6, 10.6])
        # What each charger accepted is recorded once the round has heard every answer.
        eventually(lambda: [row.applied_amps for row in _plug_loads(
            load_db, [cp for cp, _ in stations])] == [10.6, 10.6, 10.6], seconds=5)

        _run(loops[1], chargers[1].unplug(1))
        raised = _once(lambda: allowed()[:2], lambda amps: min(amps) >= 16)
        assert raised == pytest.approx([16.0, 16.0])


@pytest.mark.parametrize(("charger_class", "action", "payload"), [
    (SimulatedCharger, "RemoteStartTransaction", {"idTag": "LOAD-CARD", "connectorId": 2}),
    (SimulatedCharger201, "RequestStartTransaction",
     {"idToken": {"idToken": "LOAD-CARD", "type": "Central"}, "evseId": 2}),
], ids=["1.6", "2.0.1"])
def test_a_remote_start_carries_its_limit_so_the_first_current_keeps_to_the_site(
        load_server, load_db, charger_class, action, payload):
    _, stations = _site(load_db, 32, stations=2)
    charge_point_id = stations[0][0]
    charger = charger_class(load_server.ws_url, *stations[0], step_delay=0,
                            meter_interval=3600)
    with running(charger) as loop:
        _run(loop, charger.plug_in(1, "LOAD-CARD"))
        # Alone on the site, the first car may take all of its 22 kW: 31.8 A of 32 A. (Its
        # charger allows that much before Voltspot has even seen the car: wait for the
        # limit Voltspot applied to the first car's session.)
        eventually(lambda: [load.applied_amps for load in _plug_loads(
            load_db, [charge_point_id])] == [pytest.approx(31.8)], seconds=10)
        assert charger.allowed_amps(1) == pytest.approx(31.8)
        status, answer = command(load_server, charge_point_id, action, payload)
        assert (status, answer.get("status")) == (200, "Accepted"), answer
        first = eventually(lambda: charger.first_amps(2) is not None and [charger.first_amps(2)],
                           seconds=10)[0]
        # The first car holds its 31.8 A until the round the start brings lowers it; the
        # fallback alone (8 A a plug) would have put 39.8 A on the 32 A connection. The
        # limit that came with the start keeps the new car waiting for that round.
        assert first + 31.8 <= 32
        assert _once(lambda: [charger.allowed_amps(1), charger.allowed_amps(2)],
                     lambda amps: min(amps) > 15) == pytest.approx([16.0, 16.0])


def test_a_charger_that_refuses_a_start_carrying_a_limit_is_asked_again_without(
        load_server, load_db):
    _, stations = _site(load_db, 32, stations=2)
    charger = SimulatedCharger(load_server.ws_url, *stations[0], step_delay=0,
                               meter_interval=3600)
    charger.profiles.refuse_in_start = True
    with running(charger):
        eventually(lambda: charger.allowed_amps(1) == pytest.approx(8.0), seconds=10)
        status, answer = command(load_server, stations[0][0], "RemoteStartTransaction",
                                 {"idTag": "LOAD-CARD", "connectorId": 1})
        assert (status, answer["status"]) == (200, "Accepted")
        # Started on the fallback, then given its share by the round the start brought.
        assert eventually(lambda: charger.first_amps(1), seconds=10) == pytest.approx(8.0)
        eventually(lambda: charger.allowed_amps(1) == pytest.approx(31.8), seconds=10)


def test_a_car_started_at_the_charger_draws_at_most_the_fallback_until_its_round(
        load_server, load_db):
    _, stations = _site(load_db, 32, stations=2)
    charger = SimulatedCharger(load_server.ws_url, *stations[0], step_delay=0,
                               meter_interval=3600)
    with running(charger) as loop:
        _run(loop, charger.plug_in(1, "LOAD-CARD"))
        eventually(lambda: charger.allowed_amps(1) == pytest.approx(31.8), seconds=10)
        _run(loop, charger.plug_in(2, "LOAD-CARD"))
        # No start request carried a limit: the fallback (32 A over four plugs) bounds the
        # new car, so the site is at most 7.8 A over until the start's round, ~1 s.
        assert charger.first_amps(2) == pytest.approx(8.0)
        assert _once(lambda: [charger.allowed_amps(1), charger.allowed_amps(2)],
                     lambda amps: min(amps) > 15) == pytest.approx([16.0, 16.0])


def test_a_charger_that_rejects_profiles_is_counted_at_full_power(load_server, load_db):
    _, stations = _site(load_db, 63, stations=2)
    obeying = SimulatedCharger(load_server.ws_url, *stations[0], step_delay=0,
                               meter_interval=3600)
    deaf = SimulatedCharger(load_server.ws_url, *stations[1], step_delay=0,
                            meter_interval=3600)
    deaf.profiles.reject = True
    with ExitStack() as stack:
        obeying_loop = stack.enter_context(running(obeying))
        deaf_loop = stack.enter_context(running(deaf))
        _run(deaf_loop, deaf.plug_in(1, "LOAD-CARD"))
        _run(obeying_loop, obeying.plug_in(1, "LOAD-CARD"))
        _run(obeying_loop, obeying.plug_in(2, "LOAD-CARD"))

        def marked() -> bool:
            with load_db.session() as session:
                extra = session.scalar(select(StationLoadSettings).join(
                    Station, Station.id == StationLoadSettings.station_id).where(
                    Station.charge_point_id == stations[1][0]))
                return extra is not None and extra.rejects_profiles

        eventually(marked, seconds=10)
        # 22 kW on three phases is 31.8 A; the other two share the 31.2 A left.
        eventually(lambda: [row.applied_amps for row in _plug_loads(load_db, [stations[0][0]])
                            if row.applied_amps is not None] == [15.5, 15.5], seconds=10)
        assert [obeying.allowed_amps(1), obeying.allowed_amps(2)] == pytest.approx([15.5, 15.5])
        assert deaf.allowed_amps(1) == pytest.approx(22000 / 690)


def test_every_charger_gets_a_fallback_limit_that_keeps_the_site_safe_without_voltspot(
        load_server, load_db):
    _, stations = _site(load_db, 32, stations=2)
    charger = SimulatedCharger(load_server.ws_url, *stations[0], step_delay=0,
                               meter_interval=3600)
    with running(charger):
        # Four plugs on the site: 8 A each when every car charges on the fallback.
        eventually(lambda: charger.allowed_amps(1) == pytest.approx(8.0), seconds=10)
        assert charger.allowed_amps(2) == pytest.approx(8.0)


def test_after_a_restart_chargers_keep_their_limits_then_get_fresh_ones(
        load_db, tmp_path_factory):
    _, stations = _site(load_db, 32, stations=2)
    url = str(load_db.engine.url.render_as_string(hide_password=False))
    first = start_server(url, tmp_path_factory.mktemp("restart") / "first.log",
                         load_interval="0.5")
    chargers = [SimulatedCharger(first.ws_url, cp, pw, step_delay=0, meter_interval=3600)
                for cp, pw in stations]
    cars = [(0, 1), (0, 2), (1, 1)]

    def allowed() -> list[float]:
        return [chargers[index].allowed_amps(plug) for index, plug in cars]

    try:
        with ExitStack() as stack:
            loops = [stack.enter_context(running(charger)) for charger in chargers]
            for index, plug in cars:
                _run(loops[index], chargers[index].plug_in(plug, "LOAD-CARD"))
            # Three equal cars share 32 A alike (a round may pass through 10.7 A on one of
            # them while the others come down).
            eventually(lambda: allowed() == pytest.approx([10.6] * 3), seconds=10)
            stop_server(first)
            # Voltspot is gone: each charger keeps the last limit it took.
            assert allowed() == pytest.approx([10.6] * 3)
            restarted_at = utcnow()
            restarted = start_server(url, tmp_path_factory.mktemp("restart") / "second.log",
                                     load_interval="0.5")
            try:
                for charger in chargers:
                    charger.url = f"{restarted.ws_url}/{charger.id}"
                eventually(lambda: all(charger.booted.is_set() and charger.boot_count >= 2
                                       # Reconnecting backs off: up to ~30 s.
                                       for charger in chargers), seconds=45)
                # Fresh limits for the new connections, recomputed from the database.
                eventually(lambda: [
                    row.applied_amps for row in _plug_loads(load_db, [cp for cp, _ in stations])
                    if row.applied_at is not None and row.applied_at > restarted_at
                ] == [10.6] * 3, seconds=20)
                assert sum(allowed()) <= 32
            finally:
                stop_server(restarted)
    finally:
        if first.process.poll() is None:
            stop_server(first)


def test_a_charger_that_accepts_limits_but_ignores_them_is_found_out(load_server, load_db):
    _, stations = _site(load_db, 40, stations=2)
    obeying = SimulatedCharger(load_server.ws_url, *stations[0], step_delay=0,
                               meter_interval=3600)
    faulty = SimulatedCharger201(load_server.ws_url, *stations[1], step_delay=0,
                                 meter_interval=3600)
    faulty.profiles.ignore = True
    with ExitStack() as stack:
        obeying_loop = stack.enter_context(running(obeying))
        faulty_loop = stack.enter_context(running(faulty))
        _run(faulty_loop, faulty.plug_in(1, "LOAD-CARD"))
        _run(obeying_loop, obeying.plug_in(1, "LOAD-CARD"))

        def error() -> str | None:
            with load_db.session() as session:
                extra = session.scalar(select(StationLoadSettings).join(
                    Station, Station.id == StationLoadSettings.station_id).where(
                    Station.charge_point_id == stations[1][0]))
                return extra.last_error if extra is not None and extra.rejects_profiles \
                    else None

        assert "ignores limits" in eventually(error, seconds=10)
        # From then on it counts at full power (31.8 A); the other car gets the rest.
        eventually(lambda: obeying.allowed_amps(1) == pytest.approx(8.1), seconds=10)


def test_a_car_that_starts_gets_its_share_without_waiting_for_the_next_round(
        load_db, tmp_path_factory):
    # Rounds of every site only once a minute: the start itself must bring the limits.
    _, stations = _site(load_db, 32, stations=1)
    url = str(load_db.engine.url.render_as_string(hide_password=False))
    slow = start_server(url, tmp_path_factory.mktemp("slow") / "server.log",
                        load_interval="60")
    try:
        charger = SimulatedCharger(slow.ws_url, *stations[0], step_delay=0,
                                   meter_interval=3600)
        with running(charger) as loop:
            _run(loop, charger.plug_in(1, "LOAD-CARD"))
            _run(loop, charger.plug_in(2, "LOAD-CARD"))
            eventually(lambda: [charger.allowed_amps(1), charger.allowed_amps(2)]
                       == pytest.approx([16.0, 16.0]), seconds=8)
    finally:
        stop_server(slow)


def test_turning_load_management_off_gives_the_chargers_their_full_power_back(
        load_server, load_db):
    name, stations = _site(load_db, 32, stations=1)
    charger = SimulatedCharger201(load_server.ws_url, *stations[0], step_delay=0,
                                  meter_interval=3600)
    with running(charger) as loop:
        _run(loop, charger.plug_in(1, "LOAD-CARD"))
        _run(loop, charger.plug_in(2, "LOAD-CARD"))
        eventually(lambda: charger.allowed_amps(1) == pytest.approx(16.0), seconds=10)
        with load_db.session() as session:
            site_id = session.scalar(select(Site.id).where(Site.name == name))
            session.get(SiteLoadSettings, site_id).enabled = False
        eventually(lambda: [charger.allowed_amps(1), charger.allowed_amps(2)]
                   == pytest.approx([22000 / 690] * 2), seconds=10)
        assert not charger.profiles.profiles
