"""Waiting and threads: polling until an effect shows, running a call or a simulated
charger in the background, and asyncio scenarios off the test thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any


def run_async(main: Callable[[], Coroutine[Any, Any, Any]], timeout: float = 60) -> Any:
    """Run ``main()`` to completion on a fresh event loop in its own thread and return its
    result (re-raising its error). Not ``asyncio.run`` here: Playwright's sync API keeps an
    event loop running in the test thread once a browser test has run."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = asyncio.run(main())
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"the scenario did not finish in {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


@contextmanager
def running(charger) -> Iterator[asyncio.AbstractEventLoop]:
    """Run a simulated ``charger`` on its own loop in a thread until the block ends;
    yields the loop, for ``asyncio.run_coroutine_threadsafe`` on the charger's helpers."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    stop = asyncio.Event()

    async def main() -> None:
        task = asyncio.create_task(charger.run())
        await stop.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    finished = asyncio.run_coroutine_threadsafe(main(), loop)
    try:
        asyncio.run_coroutine_threadsafe(asyncio.wait_for(charger.booted.wait(), 10),
                                         loop).result(15)
        yield loop
    finally:
        loop.call_soon_threadsafe(stop.set)
        finished.result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def eventually(predicate: Callable[[], Any], seconds: float = 5, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy and return that; fail after
    ``seconds``. For effects the server applies beside the frame that caused them."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds} s (last: {value!r})")
        time.sleep(interval)


def in_background(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
    """Run ``function`` in a thread and return its future: an API command whose charger
    answer a raw test charger plays meanwhile."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(function(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the test through the future
            future.set_exception(error)
    threading.Thread(target=run, daemon=True).start()
    return future
