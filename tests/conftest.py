"""Fixtures: a real database (SQLite by default, PostgreSQL when VOLTSPOT_DATABASE_URL says
so) and a live server (``voltspot serve``: gunicorn + gevent) on 127.0.0.1. The helpers
behind them live in ``tests.support.server``; model rows come from ``tests.factories``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.factories import RegisteredStation, make_station, priced_plugs
from tests.support.server import LiveServer, fresh_database_url, start_server, stop_server
from voltspot.db import Database
from voltspot.migrate import upgrade


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = fresh_database_url(tmp_path_factory.mktemp("db"))
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(database_url, tmp_path_factory.mktemp("logs") / "server.log")
    yield live
    stop_server(live)


@pytest.fixture
def station(db: Database) -> RegisteredStation:
    """A freshly registered station with two connectors (unique id per test)."""
    return make_station(db)


@pytest.fixture
def priced(db: Database, station: RegisteredStation) -> list[str]:
    """The station's plugs carry a tariff: €0.39/kWh, €0.35 per session, €50 hold; returns
    the plugs' EVSE ids as they appear in URLs."""
    return priced_plugs(db, station.charge_point_id)
