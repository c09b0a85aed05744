"""Group commit: many small writes from many chargers durable in one transaction.

A charger's MeterValues is answered only after its samples are committed, but committing
once per frame caps throughput at the database's commit rate. :class:`GroupCommitter`
runs one writer that takes every write waiting in its queue, applies them in a single
transaction and then wakes each waiter. A write that fails is retried alone, so one bad
frame never costs another charger its data. Rows nobody waits for (the frame log) are
appended and inserted with one statement per batch: the next batch of writes, or, when
no write comes within ``rows_delay`` seconds, a batch of their own (two frames a message
must not cost two more commits).

Writes may name a *prepare* step and a key: once per batch, before any write runs, each
prepare step gets the batch's session and the keys of the writes naming it, so that what
every write would look up on its own (a station by its id, say) is read for the whole
batch in one query.
"""

from __future__ import annotations

import functools
import logging
import operator
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.models import Base

log = logging.getLogger(__name__)

T = TypeVar("T")

# A write to apply in a batch: it gets the batch's session, never commits it, and its
# result goes back to whoever submitted it once the batch is durable.
Write = Callable[[Session], T]

# Where a batch's session collects the rows its writes insert with :func:`insert_rows`.
_BATCH_ROWS = "voltspot.group_commit.rows"


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table`` in ``session``'s transaction. In a group-commit
    batch they are inserted with every other write's rows for that table, in one
    statement just before the batch commits (a round trip per write is what a batch is
    for saving); elsewhere at once. Nothing in the same write may read them back."""
    collected = session.info.get(_BATCH_ROWS)
    if collected is None:
        insert_many(session, table, rows)
    else:
        collected.setdefault(table, []).extend(rows)


def insert_many(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """``INSERT`` ``rows`` (dicts of column values) into ``table`` in one statement per
    set of columns, each value through its column type's own bind processing, as
    ``session.execute(insert(table), rows)`` does, without SQLAlchemy's assembly of each
    row's parameters (most of the cost of a batch of meter samples and frame-log rows).
    Rows that need more (a column default computed in Python) take the ordinary path."""
    if not rows:
        return
    connection = session.connection()
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(tuple(row), []).append(row)
    for columns, group in by_columns.items():
        prepared = _prepared_insert(table, columns, connection.dialect)
        if prepared is None:
            session.execute(insert(table), group)
            continue
        sql, order, by_column = prepared
        if by_column:
            # A driver whose executemany costs a round of its own machinery per row
            # (psycopg's pipeline): one statement taking each column as an array.
            connection.exec_driver_sql(sql, tuple(
                [row[key] for row in group] if process is None
                else [process(row[key]) for row in group] for key, process in order))
        else:
            connection.exec_driver_sql(sql, _row_tuples(group, order))


def _row_tuples(rows: list[dict[str, Any]], order: tuple[tuple[str, Any], ...]
                ) -> list[tuple[Any, ...]]:
    """Each row's values in ``order``, through the bind processors given there: read
    with one ``itemgetter`` per row, and only the columns that have a processor (a
    timestamp or two among ten) go through Python one by one."""
    keys = [key for key, _ in order]
    processed = [(index, process) for index, (_, process) in enumerate(order)
                 if process is not None]
    if len(keys) == 1:
        (key,), process = keys, order[0][1]
        return [(row[key] if process is None else process(row[key]),) for row in rows]
    values_of = operator.itemgetter(*keys)
    if not processed:
        return [values_of(row) for row in rows]
    tuples = []
    for row in rows:
        values = list(values_of(row))
        for index, process in processed:
            values[index] = process(values[index])
        tuples.append(tuple(values))
    return tuples


@functools.lru_cache(maxsize=64)
def _prepared_insert(table: Table, columns: tuple[str, ...], dialect: Any
                     ) -> tuple[str, tuple[tuple[str, Any], ...], bool] | None:
    """The INSERT of ``columns`` into ``table`` for ``dialect``: its SQL, its parameters
    in order with each one's bind processor, and whether each parameter is a column's
    values for all rows (PostgreSQL: ``INSERT ... SELECT * FROM unnest(...)``, one short
    statement however many rows) rather than one row's values (executemany). None when
    the statement needs parameters the rows do not carry."""
    compiled = insert(table).compile(dialect=dialect, column_keys=list(columns),
                                     for_executemany=True)
    by_column = compiled.positiontup is None
    names = list(compiled.binds) if by_column else list(compiled.positiontup)
    if sorted(names) != sorted(columns):
        return None
    order = tuple((name, compiled.binds[name].type.dialect_impl(dialect)
                   .bind_processor(dialect)) for name in names)
    if not by_column:
        return compiled.string, order, False
    if dialect.name != "postgresql" or dialect.paramstyle != "pyformat":
        return None
    quote = dialect.identifier_preparer
    targets = ", ".join(quote.format_column(table.c[name]) for name in names)
    # %b: arrays in the binary format, several times cheaper to build than the text one.
    arrays = ", ".join(f"%b::{table.c[name].type.compile(dialect=dialect)}[]"
                       for name in names)
    return (f"INSERT INTO {quote.format_table(table)} ({targets}) "
            f"SELECT * FROM unnest({arrays})", order, True)


# Reads ahead for a batch: gets the batch's session and the keys of the writes that named
# it. Only an optimisation: every write must give the same result without it (a write
# retried alone runs without it).
Prepare = Callable[[Session, list[Any]], None]


class _Pending:
    __slots__ = ("write", "prepare", "key", "linger", "done", "result", "error")

    def __init__(self, write: Write[Any] | None, wait: bool, prepare: Prepare | None = None,
                 key: Hashable = None, linger: bool = True) -> None:
        self.write = write
        self.prepare = prepare
        self.key = key
        self.linger = linger
        self.done = threading.Event() if wait else None
        self.result: Any = None
        self.error: BaseException | None = None


class _WriteRaised(Exception):
    """A write of a batch raised ``error``."""

    def __init__(self, pending: _Pending, error: Exception) -> None:
        super().__init__("a write of the batch raised")
        self.pending = pending
        self.error = error


class GroupCommitter:
    """Apply writes in batches of at most ``max_batch``; under gevent the writer is a
    greenlet (``threading`` is patched), elsewhere a thread.

    Under gevent, when the writer has database connections of its own (PostgreSQL), each
    batch runs in a native thread of its own while the greenlet waits: the batch's waits
    for the server then let the loop answer chargers (a storm batch's round trips held
    every socket of the process, and a steady one's 20-30 ms delayed every answer behind
    it), and the writer is never a greenlet waiting its turn behind thousands of others.
    Everything a batch touches is then its own: its session and connection, the writes'
    results; the queue and the waiters are served by the greenlet.

    Once a write arrives the writer waits up to ``linger`` seconds for others before it
    commits: a fleet's messages trickle in a few milliseconds apart, and a transaction
    per message would cost each the whole commit and read-ahead, where a batch of several
    shares them (it adds at most ``linger`` to an answer). It does not wait while one
    writer alone keeps it busy (the last batch, committed within ``LONE_SECONDS``, held
    one write): nobody's write would join, and that writer would wait each time."""

    # How long after a batch of a single write the next write is taken to be the same
    # lone writer's.
    LONE_SECONDS = 1.0

    def __init__(self, db: Database, max_batch: int = 500, linger: float = 0.03,
                 rows_delay: float = 0.5) -> None:
        self._db = db
        self._max_batch = max_batch
        self._linger = linger
        self._rows_delay = rows_delay
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._rows: list[tuple[type[Base], dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._rows_lock = threading.Lock()
        self._writer: threading.Thread | None = None
        # Where the writer runs its batches (None: in itself); made with the writer.
        self._batch_thread: Any = None
        # The process whose writer runs (None: none does): read on every write, cheaper
        # than asking the thread, and a forked child starts a writer of its own.
        self._writing: int | None = None
        # When the last batch with writes committed, and whether it held only one.
        self._last_batch_at = float("-inf")
        self._last_batch_lone = False

    def submit(self, write: Write[T], timeout: float = 30.0, *, prepare: Prepare | None = None,
               key: Hashable = None, linger: bool = True) -> T:
        """Run ``write(session)`` in the next batch; return its result once committed.

        ``prepare``, when given, is run once for the batch with the ``key`` of every write
        naming it (see :data:`Prepare`). ``linger=False``: the batch this write is in
        commits without waiting for more (for a write something else races, like a new
        connection's registration). Re-raises the write's own exception; raises
        ``TimeoutError`` if the batch has not committed within ``timeout`` seconds.
        """
        pending = _Pending(write, wait=True, prepare=prepare, key=key, linger=linger)
        self._enqueue(pending)
        if not pending.done.wait(timeout):
            raise TimeoutError("the database did not commit in time")
        if pending.error is not None:
            raise pending.error
        return pending.result

    def append(self, model: type[Base], row: dict[str, Any]) -> None:
        """Insert ``row`` into ``model``'s table in the next batch, without waiting (for rows
        nobody is answered on, like the frame log), at the latest ``rows_delay`` seconds
        later. A batch whose rows cannot be inserted is logged and dropped."""
        with self._rows_lock:
            first = not self._rows
            self._rows.append((model, row))
        if first:  # the writer may be asleep with nothing to do: tell it rows wait
            self._enqueue(_Pending(None, wait=False))

    def _enqueue(self, pending: _Pending) -> None:
        self._ensure_writer()
        self._queue.put(pending)

    def _ensure_writer(self) -> None:
        if self._writing == os.getpid():
            return
        with self._lock:
            if self._writing != os.getpid():
                self._batch_thread = self._native_thread()
                self._writer = threading.Thread(target=self._run, name="group-commit",
                                                daemon=True)
                self._writing = os.getpid()
                try:
                    self._writer.start()
                except BaseException:
                    self._writing = None
                    raise

    def _native_thread(self) -> Any:
        """A native thread for the batches when they should leave the gevent loop (see
        the class), else None."""
        monkey = sys.modules.get("gevent.monkey")
        if monkey is None or not monkey.is_module_patched("threading") \
                or self._db.batch_engine is self._db.engine:
            return None
        from gevent.threadpool import ThreadPool

        return ThreadPool(1)

    def _run(self) -> None:
        try:
            self._serve()
        finally:
            self._writing = None

    def _serve(self) -> None:
        while True:
            batch = [self._queue.get()]
            if batch[0].write is None:
                # Rows only: they ride with the next write's batch, if one comes soon.
                try:
                    batch.append(self._queue.get(timeout=self._rows_delay))
                except queue.Empty:
                    self._apply(batch)
                    continue
            started = time.monotonic()
            until = started + self._linger
            lone = self._last_batch_lone and started - self._last_batch_at < self.LONE_SECONDS
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    if lone or not all(pending.linger for pending in batch):
                        break
                    left = until - time.monotonic()
                    if left <= 0:
                        break
                    try:
                        batch.append(self._queue.get(timeout=left))
                    except queue.Empty:
                        break
            self._apply(batch)
            writes = sum(pending.write is not None for pending in batch)
            if writes:
                self._last_batch_at = time.monotonic()
                self._last_batch_lone = writes == 1

    def _apply(self, batch: list[_Pending]) -> None:
        """Commit ``batch`` with the rows appended so far, then wake its writers."""
        with self._rows_lock:
            rows, self._rows = self._rows, []
        writes = [pending for pending in batch if pending.write is not None]
        if self._batch_thread is None:
            self._commit(writes, rows)
        else:
            self._batch_thread.apply(self._commit, (writes, rows))
        for pending in writes:
            pending.done.set()

    def _commit(self, writes: list[_Pending],
                rows: list[tuple[type[Base], dict[str, Any]]]) -> None:
        """Commit ``writes`` and ``rows``, each write getting its result or its error."""
        try:
            self._commit_together(writes, rows)
        except _WriteRaised as raised:
            # The others commit together without it, then it runs alone: its error may
            # have come from what an earlier write left in the session. A transaction
            # per write would cost a storm's whole batch for one charger's bad frame.
            others = [pending for pending in writes if pending is not raised.pending]
            if not others and not rows:
                raised.pending.error = raised.error
                return
            try:
                self._commit_together(others, rows)
            except Exception:
                self._commit_each_alone(others, rows)
            self._commit_alone(raised.pending)
        except Exception as error:
            if len(writes) == 1 and not rows:
                writes[0].error = error
                return
            self._commit_each_alone(writes, rows)

    def _commit_together(self, writes: list[_Pending], rows: list[tuple[type[Base],
                                                                       dict[str, Any]]]
                         ) -> None:
        """Commit ``writes`` and ``rows`` in one transaction; raises
        :class:`_WriteRaised` when a write raised, else what the commit raised."""
        with self._db.batch_session() as session:
            self._prepare(session, writes)
            session.info[_BATCH_ROWS] = {}
            for pending in writes:
                try:
                    pending.result = pending.write(session)
                except Exception as error:
                    raise _WriteRaised(pending, error) from error
            self._insert_collected(session)
            self._insert_rows(session, rows)

    def _commit_each_alone(self, writes: list[_Pending],
                           rows: list[tuple[type[Base], dict[str, Any]]]) -> None:
        """Find the culprit of a failed commit: each write alone, then the appended rows
        on their own."""
        for pending in writes:
            self._commit_alone(pending)
        self._insert_alone(rows)

    @staticmethod
    def _prepare(session: Session, writes: list[_Pending]) -> None:
        keys: dict[Prepare, list[Any]] = {}
        for pending in writes:
            if pending.prepare is not None:
                keys.setdefault(pending.prepare, []).append(pending.key)
        for prepare, prepared_keys in keys.items():
            prepare(session, prepared_keys)

    @staticmethod
    def _insert_collected(session: Session) -> None:
        session.flush()  # the rows may refer to what the writes added
        for table, table_rows in session.info.pop(_BATCH_ROWS).items():
            insert_many(session, table, table_rows)

    @staticmethod
    def _insert_rows(session: Session, rows: list[tuple[type[Base], dict[str, Any]]]) -> None:
        by_model: dict[type[Base], list[dict[str, Any]]] = {}
        for model, row in rows:
            by_model.setdefault(model, []).append(row)
        for model, model_rows in by_model.items():
            insert_many(session, model.__table__, model_rows)

    def _commit_alone(self, pending: _Pending) -> None:
        try:
            with self._db.batch_session() as session:
                session.info[_BATCH_ROWS] = {}
                pending.result = pending.write(session)
                self._insert_collected(session)
        except Exception as error:
            pending.error = error

    def _insert_alone(self, rows: list[tuple[type[Base], dict[str, Any]]]) -> None:
        if not rows:
            return
        try:
            with self._db.batch_session() as session:
                self._insert_rows(session, rows)
        except Exception as error:
            log.error("dropped %s appended rows that could not be written: %r", len(rows), error)

