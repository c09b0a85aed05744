"""Pages and static text go out gzip-compressed to clients that accept it."""

from __future__ import annotations

import gzip

from voltspot.app import create_app
from voltspot.runtime import runtime


def test_a_page_is_gzipped_for_a_client_that_accepts_it(database_url):
    app = create_app({"database_url": database_url})
    try:
        client = app.test_client()
        with client.get("/static/vendor/bootstrap/bootstrap.min.css",
                        headers={"Accept-Encoding": "gzip, br"}) as response, \
                client.get("/static/vendor/bootstrap/bootstrap.min.css") as plain:
            assert response.headers["Content-Encoding"] == "gzip"
            assert b".btn" in gzip.decompress(response.get_data())
            assert "Content-Encoding" not in plain.headers
            assert len(response.get_data()) < len(plain.get_data()) / 4
    finally:
        runtime(app).db.dispose()

