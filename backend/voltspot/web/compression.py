"""gzip for pages, fragments and our static text files, so a phone on a poor signal gets
the connector page in a few tens of KB (a reverse proxy may do this instead; then the
responses arrive already encoded and are left alone)."""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

COMPRESSIBLE = ("text/", "application/json", "application/javascript",
                "application/manifest+json", "image/svg+xml")
MINIMUM_BYTES = 1024


def compress(response: Response) -> Response:
    """gzip ``response`` when the client accepts it and it is worth it."""
    # Streamed answers (the CSV export) stay streamed; a static file is read whole.
    if (request.path.startswith("/ocpp/") or response.status_code != 200
            or (response.is_streamed and not response.direct_passthrough)
            or "Content-Encoding" in response.headers
            or "gzip" not in request.headers.get("Accept-Encoding", "")
            or not (response.mimetype or "").startswith(COMPRESSIBLE)):
        return response
    response.direct_passthrough = False
    body = response.get_data()  # a static file's handle is closed with the response
    if len(body) < MINIMUM_BYTES:
        return response
    response.set_data(gzip.compress(body, compresslevel=6))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    return response


def init_compression(app: Flask) -> None:
    app.after_request(compress)
