"""Group commit: many small writes from many chargers durable in one transaction.

A charger's MeterValues is answered only after its samples are committed, but committing
once per frame caps throughput at the database's commit rate. :class:`GroupCommitter`
runs one writer that takes every write waiting in its queue, applies them in a single
transaction and then wakes each waiter. A write that fails is retried alone, so one bad
frame never costs another charger its data. Rows nobody waits for (the frame log) are
appended and inserted with one statement per batch.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import insert
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.models import Base

log = logging.getLogger(__name__)

T = TypeVar("T")

# A write to apply in a batch: it gets the batch's session, never commits it, and its
# result goes back to whoever submitted it once the batch is durable.
Write = Callable[[Session], T]


class _Pending:
    __slots__ = ("write", "done", "result", "error")

    def __init__(self, write: Write[Any] | None, wait: bool) -> None:
        self.write = write
        self.done = threading.Event() if wait else None
        self.result: Any = None
        self.error: BaseException | None = None


class GroupCommitter:
    """Apply writes in batches of at most ``max_batch``; under gevent the writer is a
    greenlet (``threading`` is patched), elsewhere a thread."""

    def __init__(self, db: Database, max_batch: int = 500) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._rows: list[tuple[type[Base], dict[str, Any]]] = []
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None

    def submit(self, write: Write[T], timeout: float = 30.0) -> T:
        """Run ``write(session)`` in the next batch; return its result once committed.

        Re-raises the write's own exception; raises ``TimeoutError`` if the batch has not
        committed within ``timeout`` seconds.
        """
        pending = _Pending(write, wait=True)
        self._enqueue(pending)
        if not pending.done.wait(timeout):
            raise TimeoutError("the database did not commit in time")
        if pending.error is not None:
            raise pending.error
        return pending.result

    def append(self, model: type[Base], row: dict[str, Any]) -> None:
        """Insert ``row`` into ``model``'s table in the next batch, without waiting (for rows
        nobody is answered on, like the frame log). A batch whose rows cannot be inserted
        is logged and dropped."""
        self._rows.append((model, row))
        self._enqueue(_Pending(None, wait=False))

    def _enqueue(self, pending: _Pending) -> None:
        self._ensure_writer()
        self._queue.put(pending)

    def _ensure_writer(self) -> None:
        if self._writer is not None and self._writer.is_alive():
            return
        with self._lock:
            if self._writer is None or not self._writer.is_alive():
                self._writer = threading.Thread(target=self._run, name="group-commit",
                                                daemon=True)
                self._writer.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)

    def _commit(self, batch: list[_Pending]) -> None:
        rows, self._rows = self._rows, []
        writes = [pending for pending in batch if pending.write is not None]
        try:
            with self._db.session(autoflush=False) as session:
                for pending in writes:
                    pending.result = pending.write(session)
                self._insert_rows(session, rows)
        except Exception as error:
            # Find the culprit: each write alone, then the appended rows on their own.
            if len(writes) == 1 and not rows:
                self._fail(writes[0], error)
            else:
                for pending in writes:
                    self._commit_alone(pending)
            self._insert_alone(rows)
            return
        for pending in writes:
            pending.done.set()

    @staticmethod
    def _insert_rows(session: Session, rows: list[tuple[type[Base], dict[str, Any]]]) -> None:
        by_model: dict[type[Base], list[dict[str, Any]]] = {}
        for model, row in rows:
            by_model.setdefault(model, []).append(row)
        for model, model_rows in by_model.items():
            session.execute(insert(model.__table__), model_rows)

    def _commit_alone(self, pending: _Pending) -> None:
        try:
            with self._db.session(autoflush=False) as session:
                pending.result = pending.write(session)
        except Exception as error:
            self._fail(pending, error)
            return
        pending.done.set()

    def _insert_alone(self, rows: list[tuple[type[Base], dict[str, Any]]]) -> None:
        if not rows:
            return
        try:
            with self._db.session(autoflush=False) as session:
                self._insert_rows(session, rows)
        except Exception as error:
            log.error("dropped %s appended rows that could not be written: %r", len(rows), error)

    def _fail(self, pending: _Pending, error: Exception) -> None:
        pending.error = error
        pending.done.set()
