"""The benchmark's database: a fresh one per run (a temporary SQLite file, or a new schema
in a PostgreSQL database on this machine), migrated and filled with stations quickly."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from voltspot.db import Database
from voltspot.domain.evse_ids import make_evse_id
from voltspot.domain.statuses import Registration
from voltspot.migrate import upgrade
from voltspot.models import Connector, IdToken, MeterSample, Site, Station
from voltspot.services.stations.registry import EVSE_COUNTRY, EVSE_OPERATOR

LOCAL_HOSTS = {None, "", "127.0.0.1", "localhost", "::1"}


@dataclass
class BenchDatabase:
    """A fresh, migrated database; :meth:`drop` removes what the bench created."""

    url: str
    description: str
    work_dir: Path
    keep: bool = False
    _schema: str | None = None
    _admin_url: str | None = field(default=None, repr=False)

    def drop(self) -> None:
        """Remove the temporary folder and the PostgreSQL schema (unless ``keep``)."""
        if self.keep:
            return
        if self._schema and self._admin_url:
            engine = create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
            try:
                with engine.connect() as connection:
                    connection.execute(text(f'DROP SCHEMA IF EXISTS "{self._schema}" CASCADE'))
            finally:
                engine.dispose()
        shutil.rmtree(self.work_dir, ignore_errors=True)


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def create_database(url: str | None, keep: bool = False) -> BenchDatabase:
    """A fresh database for one run, migrated to the newest schema.

    No ``url``: a new SQLite file in a temporary folder. An SQLite URL must name a file
    that does not exist yet. A PostgreSQL URL must point at this machine; its database is
    created if missing and the run gets a schema of its own (``search_path`` in the URL),
    so the tables already there are never touched.
    """
    work_dir = Path(tempfile.mkdtemp(prefix="voltspot-bench-"))
    try:
        if url is None:
            path = work_dir / "voltspot-bench.db"
            bench = BenchDatabase(f"sqlite:///{path}", f"SQLite {path} (temporary)", work_dir,
                                  keep)
        elif url.startswith("sqlite"):
            path = Path(url.split("///", 1)[-1])
            if path.exists():
                raise SystemExit(f"{path} exists; the bench needs a fresh SQLite file")
            bench = BenchDatabase(url, f"SQLite {path}", work_dir, keep)
        elif url.startswith("postgresql"):
            bench = _postgres_schema(url, work_dir, keep)
        else:
            raise SystemExit("--database-url must be sqlite:///FILE or postgresql://…")
        upgrade(bench.url)
        return bench
    except BaseException:
        if not keep:
            shutil.rmtree(work_dir, ignore_errors=True)
        raise


def _postgres_schema(url: str, work_dir: Path, keep: bool) -> BenchDatabase:
    parsed = make_url(url)
    if parsed.host not in LOCAL_HOSTS:
        raise SystemExit("the bench only talks to a PostgreSQL server on 127.0.0.1")
    if parsed.query:
        raise SystemExit("give the PostgreSQL URL without query parameters")
    name = parsed.database or "postgres"
    maintenance = create_engine(_psycopg(parsed.set(database="postgres")
                                         .render_as_string(hide_password=False)),
                                isolation_level="AUTOCOMMIT")
    try:
        with maintenance.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": name})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        maintenance.dispose()
    schema = f"voltspot_bench_{os.getpid()}_{int(time.time())}"
    admin_url = _psycopg(url)
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()
    # Not URL-encoded on purpose: Alembic's config would read a '%' as interpolation.
    return BenchDatabase(f"{url}?options=-csearch_path={schema}",
                         f"PostgreSQL database {name!r}, schema {schema}", work_dir, keep,
                         schema, admin_url)


def register_stations(url: str, charge_point_ids: list[str], password: str) -> None:
    """Insert one accepted station with one declared connector per id (as an owner
    registers them), all with the same password (hashed once: hashing is deliberately
    slow), and the id tag the chargers use."""
    database = Database(url)
    password_hash = generate_password_hash(password)
    try:
        with database.session() as session:
            site = Site(name="Bench site")
            session.add(site)
            session.flush()
            stations = [Station(charge_point_id=cp_id, site_id=site.id,
                                password_hash=password_hash,
                                registration=Registration.ACCEPTED, max_power_w=22000,
                                plug_count=1)
                        for cp_id in charge_point_ids]
            session.add_all(stations)
            session.flush()
            session.add_all(Connector(station_id=station.id, connector_id=1, max_power_w=22000,
                                      evse_id=make_evse_id(EVSE_COUNTRY, EVSE_OPERATOR,
                                                           station.id, 1))
                            for station in stations)
            session.add(IdToken(id_tag="BENCHTAG", holder_name="load benchmark"))
        if url.startswith("postgresql"):
            # The statistics an installation's autovacuum keeps (a test server may run
            # without it): the planner then knows the stations table is not empty.
            with database.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE"))
    finally:
        database.dispose()


def count_meter_samples(url: str, prefix: str) -> dict[str | None, int]:
    """Rows in ``meter_samples`` from stations whose charge point id starts with
    ``prefix``, by the sampled value's context (``Sample.Periodic``, ``Transaction.Begin``
    …)."""
    database = Database(url)
    try:
        with database.session() as session:
            rows = session.execute(
                select(MeterSample.context, func.count(MeterSample.id))
                .join(Station, Station.id == MeterSample.station_id)
                .where(Station.charge_point_id.startswith(prefix))
                .group_by(MeterSample.context))
            return {context: count for context, count in rows}
    finally:
        database.dispose()
