"""Group commit: many small writes from many chargers durable in one transaction.

A charger's MeterValues is answered only after its samples are committed, but committing
once per frame caps throughput at the database's commit rate. :class:`GroupCommitter`
runs one writer that takes every write waiting in its queue, applies them in a single
transaction and then wakes each waiter. A write that fails is retried alone, so one bad
frame never costs another charger its data.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from voltspot.db import Database

log = logging.getLogger(__name__)

Write = Callable[[Session], Any]


class _Pending:
    __slots__ = ("write", "done", "result", "error")

    def __init__(self, write: Write, wait: bool) -> None:
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
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None

    def submit(self, write: Write, timeout: float = 30.0) -> Any:
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

    def post(self, write: Write) -> None:
        """Queue ``write`` without waiting (for writes nobody is answered on, like logs)."""
        self._enqueue(_Pending(write, wait=False))

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
        try:
            with self._db.session() as session:
                for pending in batch:
                    pending.result = pending.write(session)
        except Exception as error:
            if len(batch) == 1:
                self._fail(batch[0], error)
            else:
                for pending in batch:
                    self._commit_alone(pending)
            return
        for pending in batch:
            if pending.done is not None:
                pending.done.set()

    def _commit_alone(self, pending: _Pending) -> None:
        pending.error = None
        try:
            with self._db.session() as session:
                pending.result = pending.write(session)
        except Exception as error:
            self._fail(pending, error)
            return
        if pending.done is not None:
            pending.done.set()

    def _fail(self, pending: _Pending, error: Exception) -> None:
        pending.error = error
        if pending.done is None:
            log.error("a queued write failed and was dropped: %r", error)
        else:
            pending.done.set()
