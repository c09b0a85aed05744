"""Database engine and session lifecycle.

The edge (a request, an OCPP message, a CLI command) opens a session with
:func:`Database.session` and the block commits on success; services receive the session
and never commit on their own.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, Executable, Insert, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers run beside the writer (other processes included); NORMAL sync is
    # durable across application crashes, which is the failure we guard against here.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode and their folder is created."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    _wait_for_postgresql_cooperatively()
    return engine


def _wait_for_postgresql_cooperatively() -> None:
    """Under gevent, make psycopg wait for the server through gevent's ``select``.

    psycopg picks how it waits when it is first imported: its C wait when ``select`` is not
    patched, and that wait blocks the whole process, every socket and page of a gevent
    worker, for each query's round trip. ``voltspot serve`` checks the database in the
    gunicorn master, before the workers fork and gevent patches them, so each worker
    inherits the blocking choice (measured with bench/driver_pages.py --split: p95 of the
    pages 588 ms, 341 ms once repointed). Repoint it to psycopg's own choice for a patched
    process."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("select"):
        return
    from psycopg import waiting

    if waiting.wait is getattr(waiting, "wait_c", None):
        waiting.wait, waiting._ready = waiting.wait_poll, waiting._ready_poll


class Database:
    """One engine and its session factory for one application."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    @contextlib.contextmanager
    def session(self, autoflush: bool = True) -> Iterator[Session]:
        """A session committed when the block ends normally, rolled back on an exception.

        ``autoflush=False`` suits batches of many small writes, where flushing before each
        query would send every row on its own.
        """
        session = self._factory(autoflush=autoflush)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def insert_unless_present(session: Session, model: Any) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` for ``model`` in the session's dialect: for rows
    that another process or thread may be writing at the same moment (a plain insert
    would then fail the whole transaction on the unique key)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return insert(model).on_conflict_do_nothing()


def run_prepared(connection: Connection, statement: Executable, params: Mapping[str, Any]
                 ) -> CursorResult:
    """Execute ``statement`` (a constant statement of bound parameters, kept at module
    level) with ``params`` as ``connection.execute`` would, each value through its
    column type's bind processing, but from SQL compiled once for the dialect: for the
    UPDATEs every charger's message runs, where SQLAlchemy's cache key of the statement
    cost more than the update. Only for statements whose results need no processing."""
    sql, order, positional = _prepared(statement, connection.dialect)
    values = [params[name] if process is None else process(params[name])
              for name, process in order]
    if positional:
        return connection.exec_driver_sql(sql, tuple(values))
    return connection.exec_driver_sql(sql, dict(zip((name for name, _ in order), values,
                                                    strict=True)))


@functools.lru_cache(maxsize=32)
def _prepared(statement: Executable, dialect: Any
              ) -> tuple[str, tuple[tuple[str, Any], ...], bool]:
    compiled = statement.compile(dialect=dialect)
    positional = compiled.positiontup is not None
    names = list(compiled.positiontup) if positional else list(compiled.binds)
    return compiled.string, tuple(
        (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
        for name in names), positional
