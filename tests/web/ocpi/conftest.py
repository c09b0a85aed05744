"""OCPI fixtures: a Voltspot server of its own (the roaming job runs every 0.3 s) on a
database of its own, and our small eMSP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.emsp import Emsp
from tests.support.ocpi import SECRET_KEY
from tests.support.server import LiveServer, fresh_database, start_server, stop_server
from voltspot.db import Database


@pytest.fixture(scope="module")
def ocpi_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return fresh_database(tmp_path_factory.mktemp("ocpi-db"), "ocpi")


@pytest.fixture(scope="module")
def odb(ocpi_database_url: str) -> Iterator[Database]:
    database = Database(ocpi_database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def cpo(ocpi_database_url: str, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[LiveServer]:
    live = start_server(ocpi_database_url, tmp_path_factory.mktemp("ocpi-logs") / "cpo.log",
                        housekeeping_interval="0.3", ocpi_party_id="VSP",
                        ocpi_country_code="NL", secret_key=SECRET_KEY)
    yield live
    stop_server(live)


@pytest.fixture
def emsp() -> Iterator[Emsp]:
    peer = Emsp().start()
    yield peer
    peer.stop()
