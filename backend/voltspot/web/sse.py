"""Server-sent events for live pages (htmx's SSE extension on the page).

A stream sends one ``changed`` event whenever something the page shows changed; the page
then fetches its live fragment as it would when polling. Changes that come close together
are merged into one event (a board of a thousand stations must not refresh a thousand
times a minute), a comment keeps proxies from closing a quiet stream, and the stream ends
after a while so the browser reconnects (through whichever process the proxy picks).
Pages keep their polling for browsers, proxies or networks that block the stream.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from flask import Response

from voltspot.cluster.events import EventBus, Subscription

KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 300.0


def event_stream(bus: EventBus, topics: Iterable[str], *, min_gap: float = 1.0,
                 keepalive: float = KEEPALIVE_SECONDS,
                 duration: float = STREAM_SECONDS) -> Response:
    """A ``text/event-stream`` response telling the page when ``topics`` change: at most
    one ``changed`` event per ``min_gap`` seconds, a keepalive comment after
    ``keepalive`` quiet seconds, closed after ``duration`` seconds."""
    subscription = bus.subscribe(topics)
    body = _events(subscription, min_gap, keepalive, duration)
    return Response(body, mimetype="text/event-stream", headers={
        "Cache-Control": "no-cache",
        # nginx would otherwise hold the events back in its buffer.
        "X-Accel-Buffering": "no",
    })


def _events(subscription: Subscription, min_gap: float, keepalive: float,
            duration: float) -> Iterator[str]:
    try:
        # How soon the browser reconnects; also sends the headers at once.
        yield "retry: 2000\n\n"
        ends = time.monotonic() + duration
        last_sent = 0.0
        while (left := ends - time.monotonic()) > 0:
            event = subscription.get(timeout=min(keepalive, left))
            if event is None:
                yield ": keepalive\n\n"
                continue
            wait = last_sent + min_gap - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            kinds = {event.kind} | {later.kind for later in subscription.drain()}
            last_sent = time.monotonic()
            yield f"event: changed\ndata: {' '.join(sorted(kinds))}\n\n"
    finally:
        subscription.close()
