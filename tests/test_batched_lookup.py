"""BatchedLookup: keys asked while a fetch runs are fetched together in the next one."""

from __future__ import annotations

import threading

import pytest

from tests.support.waiting import eventually
from voltspot.batched_lookup import BatchedLookup


class Source:
    """A fetch that records the keys of each call; ``hold()`` makes calls wait until
    ``release()``."""

    def __init__(self, values: dict[str, int]) -> None:
        self.values = values
        self.calls: list[list[str]] = []
        self.started = threading.Event()
        self._gate = threading.Event()
        self._gate.set()
        self.failing: set[str] = set()

    def hold(self) -> None:
        self._gate.clear()

    def release(self) -> None:
        self._gate.set()

    def fetch(self, keys: list[str]) -> dict[str, int]:
        self.calls.append(list(keys))
        self.started.set()
        self._gate.wait(10)
        if self.failing & set(keys):
            raise ValueError(f"cannot read {sorted(self.failing & set(keys))}")
        return {key: self.values[key] for key in keys if key in self.values}


def _ask_in_threads(lookup: BatchedLookup, keys: list[str]) -> tuple[dict, list[threading.Thread]]:
    answers: dict[str, object] = {}

    def ask(key: str) -> None:
        try:
            answers[key] = lookup.get(key, timeout=10)
        except Exception as error:  # noqa: BLE001 - the test reads what each caller got
            answers[key] = error
    threads = [threading.Thread(target=ask, args=(key,)) for key in keys]
    for thread in threads:
        thread.start()
    return answers, threads


def test_a_lone_key_is_fetched_at_once_on_its_own():
    source = Source({"A": 1})
    lookup = BatchedLookup(source.fetch)
    assert lookup.get("A") == 1
    assert source.calls == [["A"]]


def test_keys_asked_within_the_linger_join_the_first_fetch():
    source = Source({"A": 1, "B": 2})
    lookup = BatchedLookup(source.fetch, linger=0.5)
    answers, threads = _ask_in_threads(lookup, ["A"])
    assert eventually(lambda: lookup.keys_waiting == 1)
    more, more_threads = _ask_in_threads(lookup, ["B"])
    for thread in threads + more_threads:
        thread.join(5)
    assert source.calls == [["A", "B"]]
    assert {**answers, **more} == {"A": 1, "B": 2}


def test_a_key_nothing_was_found_for_is_answered_none():
    source = Source({"A": 1})
    assert BatchedLookup(source.fetch).get("B") is None


def test_keys_asked_while_a_fetch_runs_are_fetched_together_next():
    source = Source({key: n for n, key in enumerate("ABCDE")})
    lookup = BatchedLookup(source.fetch)
    source.hold()
    first, first_threads = _ask_in_threads(lookup, ["A"])
    assert source.started.wait(5)
    waiting, threads = _ask_in_threads(lookup, ["B", "C", "D", "E"])
    assert eventually(lambda: lookup.keys_waiting == 4)
    source.release()
    for thread in first_threads + threads:
        thread.join(10)
    assert source.calls[0] == ["A"]
    assert sorted(source.calls[1]) == ["B", "C", "D", "E"] and len(source.calls) == 2
    assert {**first, **waiting} == {"A": 0, "B": 1, "C": 2, "D": 3, "E": 4}


def test_a_batch_bigger_than_max_batch_is_fetched_in_parts():
    keys = [f"K{n}" for n in range(7)]
    source = Source({key: n for n, key in enumerate(keys)})
    lookup = BatchedLookup(source.fetch, max_batch=3)
    source.hold()
    _, first_threads = _ask_in_threads(lookup, ["K0"])
    assert source.started.wait(5)
    answers, threads = _ask_in_threads(lookup, keys[1:])
    assert eventually(lambda: lookup.keys_waiting == 6)
    source.release()
    for thread in first_threads + threads:
        thread.join(10)
    assert [len(call) for call in source.calls] == [1, 3, 3]
    assert answers == {key: n for n, key in enumerate(keys) if n}


def test_a_failed_fetch_is_raised_to_each_caller_of_its_batch_and_the_next_batch_is_served():
    source = Source({"A": 1, "B": 2, "C": 3})
    source.failing = {"B"}
    lookup = BatchedLookup(source.fetch)
    source.hold()
    _, first_threads = _ask_in_threads(lookup, ["A"])
    assert source.started.wait(5)
    answers, threads = _ask_in_threads(lookup, ["B", "C"])
    assert eventually(lambda: lookup.keys_waiting == 2)
    source.release()
    for thread in first_threads + threads:
        thread.join(10)
    assert all(isinstance(answers[key], ValueError) for key in ("B", "C"))
    source.failing = set()
    assert lookup.get("C") == 3


def test_the_caller_that_fetched_is_answered_without_waiting_for_the_next_batch():
    source = Source({"A": 1, "B": 2})
    release_second = threading.Event()

    def fetch(keys: list[str]) -> dict[str, int]:
        if keys == ["B"]:
            release_second.wait(10)
        return source.fetch(keys)
    lookup = BatchedLookup(fetch)
    source.hold()
    first, first_threads = _ask_in_threads(lookup, ["A"])
    assert source.started.wait(5)
    second, second_threads = _ask_in_threads(lookup, ["B"])
    assert eventually(lambda: lookup.keys_waiting == 1)
    source.release()
    first_threads[0].join(5)
    assert first == {"A": 1}
    assert second_threads[0].is_alive()  # its batch is still being fetched
    release_second.set()
    second_threads[0].join(5)
    assert second == {"B": 2}


def test_no_answer_within_the_timeout_raises_timeout_error():
    source = Source({"A": 1, "B": 2})
    lookup = BatchedLookup(source.fetch)
    source.hold()
    _, first_threads = _ask_in_threads(lookup, ["A"])
    assert source.started.wait(5)
    with pytest.raises(TimeoutError):
        lookup.get("B", timeout=0.2)
    source.release()
    first_threads[0].join(5)
