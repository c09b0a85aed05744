"""Database engine and session lifecycle.

The edge (a request, an OCPP message, a CLI command) opens a session with
:func:`Database.session` and the block commits on success; services receive the session
and never commit on their own.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import select
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Executable,
    Insert,
    Row,
    create_engine,
    event,
)
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


# How long a PostgreSQL connection serves before it is replaced. A server process keeps
# the plans it made for its connection's life, among them its foreign-key checks', and
# one made while a table was nearly empty scans the whole table once it is not: after a
# reconnect storm had filled charging_sessions, each meter sample's check read all the
# sessions (0.5 ms a row; a batch's insert held the writer 20-30 ms) until an ANALYZE,
# which autovacuum runs only where it is on and only when it comes round.
PLAN_REFRESH_SECONDS = 60


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 20,
                holding_the_loop: bool = False) -> Engine:
    """An engine for ``url``; SQLite files get WAL mode and their folder is created.
    Under gevent a PostgreSQL connection's waits hold the loop briefly (see
    :func:`wait_holding_briefly`), or throughout with ``holding_the_loop``."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url, pool_size=pool_size, max_overflow=max_overflow,
                           pool_pre_ping=True, pool_recycle=PLAN_REFRESH_SECONDS)
    if holding_the_loop:
        event.listen(engine, "do_connect", _connect_holding_the_loop)
    _wait_for_postgresql_holding_briefly()
    return engine


def _wait_for_postgresql_holding_briefly() -> None:
    """Under gevent, make psycopg wait for the server as :func:`wait_holding_briefly` does.

    psycopg picks how it waits when it is first imported: its C wait when ``select`` is not
    patched, and that wait blocks the whole process, every socket and page of a gevent
    worker, for each query's round trip however long. ``voltspot serve`` checks the
    database in the gunicorn master, before the workers fork and gevent patches them, so
    each worker inherited the blocking choice (measured with bench/driver_pages.py
    --split: p95 of the pages 588 ms, 341 ms once their waits let others run)."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is None or not monkey.is_module_patched("select"):
        return
    from psycopg import waiting

    waiting.wait = wait_holding_briefly


# How long a query's wait for PostgreSQL holds the gevent loop before it lets others run:
# longer than a busy server takes for the short queries of chargers and pages (with 10 ms,
# a reconnect storm's queries let others run, and the pool ran dry again), shorter than
# a report.
HOLD_SECONDS = 0.1


# Set in work nobody waits on (the periodic jobs): see background_waits.
_WAITING_IN_BACKGROUND: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "voltspot_waiting_in_background", default=False)


@contextlib.contextmanager
def background_waits() -> Iterator[None]:
    """In this block (work nobody waits on: a periodic job), each wait for PostgreSQL
    lets other greenlets run at once instead of holding the loop for
    :data:`HOLD_SECONDS`: the frame-log trim of a 10,000-charger fleet held it 100 ms
    every 16 s, and every charger answer due meanwhile waited with it."""
    token = _WAITING_IN_BACKGROUND.set(True)
    try:
        yield
    finally:
        _WAITING_IN_BACKGROUND.reset(token)


def wait_holding_briefly(gen, fileno: int, interval: float | None = 0.1,
                         timeout: float | None = None):
    """psycopg's wait for a query (``gen`` yields what it waits for, a ``Wait``, and is
    sent what is ready, a ``Ready``), holding the gevent loop for the first
    :data:`HOLD_SECONDS` (none in :func:`background_waits`), then letting other
    greenlets run until the server answers.

    Why both: a query that lets others run keeps its pooled connection until the loop
    comes round again, and under a reconnect storm that is thousands of greenlets later,
    so the pool runs dry (measured: 7,224 of 10,000 chargers refused after waiting 30 s
    for a connection, when every wait let others run); while a slow query (a report)
    that holds the loop stalls every charger and page of the process."""
    from gevent.monkey import get_original
    from psycopg import errors
    from psycopg.waiting import Ready, Wait

    if interval is None:
        raise ValueError("psycopg waits with an interval")
    masks = {Wait.R: select.POLLIN, Wait.W: select.POLLOUT,
             Wait.RW: select.POLLIN | select.POLLOUT}
    started = time.monotonic()
    held_until = started + (0.0 if _WAITING_IN_BACKGROUND.get() else HOLD_SECONDS)
    deadline = None if timeout is None else started + timeout
    holding = get_original("select", "poll")()
    yielding = None
    try:
        state = next(gen)
        holding.register(fileno, masks[state])
        while True:
            now = time.monotonic()
            if now < held_until:
                poller, seconds = holding, held_until - now
            else:
                if yielding is None:
                    yielding = select.poll()
                    yielding.register(fileno, masks[state])
                poller, seconds = yielding, interval
            if deadline is not None:
                seconds = max(0.0, min(seconds, deadline - now))
            events = poller.poll(seconds * 1000)
            if events:
                flags = events[0][1]
                ready = (Ready.R if flags & select.POLLIN else Ready.NONE) | (
                    Ready.W if flags & select.POLLOUT else Ready.NONE)
                # An error or hang-up: reading lets libpq say what broke.
                state = gen.send(ready or Ready.R)
                holding.modify(fileno, masks[state])
                if yielding is not None:
                    yielding.modify(fileno, masks[state])
            else:
                gen.send(Ready.NONE)
            if deadline is not None and time.monotonic() >= deadline:
                raise errors._WaitTimeout("wait timeout expired")
    except StopIteration as finished:
        return finished.value


def _connect_holding_the_loop(_dialect, _record, cargs, cparams):
    return _loop_holding_connection().connect(*cargs, **cparams)


@functools.cache
def _loop_holding_connection() -> type:
    """psycopg's connection, waiting with psycopg's C wait, which no greenlet interrupts
    (psycopg's own connection when it has no C part)."""
    import psycopg
    from psycopg import waiting

    wait_c = getattr(waiting, "wait_c", None)
    if wait_c is None:
        return psycopg.Connection

    class LoopHoldingConnection(psycopg.Connection):
        def wait(self, gen, interval=0.1, timeout=None):
            return wait_c(gen, self.pgconn.socket, interval=interval, timeout=timeout)

    return LoopHoldingConnection


class Database:
    """The application's engines and session factories: ``engine`` for every unit of work
    but the group-commit writer's, which runs on ``batch_engine`` (the same engine on
    SQLite; see :meth:`batch_session`)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        # Two connections: the writer uses one at a time, and never waits for the pool.
        self.batch_engine = make_engine(url, pool_size=2, max_overflow=0,
                                        holding_the_loop=True) \
            if url.startswith("postgresql") else self.engine
        self._batch_factory = sessionmaker(self.batch_engine, expire_on_commit=False)

    def session(self, autoflush: bool = True) -> contextlib.AbstractContextManager[Session]:
        """A session committed when the block ends normally, rolled back on an exception.

        ``autoflush=False`` suits batches of many small writes, where flushing before each
        query would send every row on its own.
        """
        return _unit_of_work(self._factory(autoflush=autoflush))

    def batch_session(self) -> contextlib.AbstractContextManager[Session]:
        """A session for the group-commit writer's batches, as ``session(autoflush=False)``.

        Every charger's answer waits on the writer's commits, so on PostgreSQL it has
        connections of its own (no page or handler takes its place in the pool), whose
        waits hold the gevent loop throughout: a slow commit must not queue behind the
        very work that waits on it (measured: a 10,000-charger reconnect storm timed out
        8,000 commits when the writer's waits let others run)."""
        return _unit_of_work(self._batch_factory(autoflush=False))

    def read(self, statement: Executable, params: Mapping[str, Any]) -> list[Row]:
        """The rows of one query, run outside a transaction: for a hot look-up, where
        BEGIN and COMMIT would cost PostgreSQL two round trips more than the query."""
        with self.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT") as connection:
            return list(connection.execute(statement, params))

    def dispose(self) -> None:
        self.engine.dispose()
        self.batch_engine.dispose()


@contextlib.contextmanager
def _unit_of_work(session: Session) -> Iterator[Session]:
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


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
