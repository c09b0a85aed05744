"""Look-ups that many callers ask for at once, answered together: one query for the keys
of a whole reconnect storm's handshakes instead of one each."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Gathering(Generic[K, V]):
    __slots__ = ("keys", "done", "found", "error")

    def __init__(self) -> None:
        self.keys: dict[K, None] = {}  # in the order asked
        self.done = threading.Event()
        self.found: Mapping[K, V] = {}
        self.error: BaseException | None = None


class BatchedLookup(Generic[K, V]):
    """Answer :meth:`get` with ``fetch(keys)``: one fetch at a time, for every key asked
    while the previous fetch ran or within ``linger`` seconds before it (at most
    ``max_batch`` keys a fetch). A lone caller waits for nothing but ``linger`` and its
    own query; under load the batches grow with the wait. ``fetch`` returns what it
    found, by key; a key it did not find is answered None.

    The fetch runs in the caller that found nothing being fetched, and the batches that
    gathered meanwhile in a fetcher of their own (a greenlet under gevent). Why linger:
    under gevent a fetch whose wait holds the loop lets no other caller ask meanwhile;
    those whose requests arrived together run one after the other once it is done, and
    without a pause each would fetch alone."""

    def __init__(self, fetch: Callable[[list[K]], Mapping[K, V]], max_batch: int = 500,
                 linger: float = 0.0) -> None:
        self._fetch = fetch
        self._max_batch = max_batch
        self._linger = linger
        self._lock = threading.Lock()
        self._gathering: _Gathering[K, V] | None = None
        self._fetching = False

    @property
    def keys_waiting(self) -> int:
        """How many keys wait for the next fetch (asked while one runs)."""
        gathering = self._gathering
        return len(gathering.keys) if gathering is not None else 0

    def get(self, key: K, timeout: float = 30.0) -> V | None:
        """What ``fetch`` found for ``key`` (None: nothing). Re-raises the fetch's
        exception; raises ``TimeoutError`` when no answer came within ``timeout`` seconds.
        """
        with self._lock:
            gathering = self._gathering
            if gathering is None:
                gathering = self._gathering = _Gathering()
            gathering.keys[key] = None
            lead = not self._fetching
            self._fetching = True
        if lead:
            self._fetch_gathered(gathering)
            self._hand_on()
        elif not gathering.done.wait(timeout):
            raise TimeoutError("the look-up was not answered in time")
        if gathering.error is not None:
            raise gathering.error
        return gathering.found.get(key)

    def _fetch_gathered(self, gathering: _Gathering[K, V]) -> None:
        if self._linger:
            time.sleep(self._linger)  # the keys asked meanwhile join this fetch
        with self._lock:
            self._gathering = None
        keys = list(gathering.keys)
        found: dict[K, V] = {}
        try:
            for start in range(0, len(keys), self._max_batch):
                found.update(self._fetch(keys[start:start + self._max_batch]))
        except Exception as error:  # every caller of the batch is told
            gathering.error = error
        gathering.found = found
        gathering.done.set()

    def _hand_on(self) -> None:
        """After a fetch: the keys asked meanwhile are fetched next, in a fetcher of their
        own (the caller that fetched goes on with its answer), or nothing is fetching."""
        with self._lock:
            gathering = self._gathering
            if gathering is None:
                self._fetching = False
                return
        try:
            threading.Thread(target=self._fetch_on, args=(gathering,), daemon=True,
                             name="batched look-up").start()
        except RuntimeError:  # no thread to be had: fetch here rather than strand them
            self._fetch_on(gathering)

    def _fetch_on(self, gathering: _Gathering[K, V]) -> None:
        self._fetch_gathered(gathering)
        self._hand_on()
