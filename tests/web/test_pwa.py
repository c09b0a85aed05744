"""The installable shell: manifest, service worker at the root, offline page, base layout."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import render_template_string

from voltspot.app import create_app
from voltspot.runtime import runtime
from voltspot.web import templating


@pytest.fixture
def app(database_url):
    app = create_app({"database_url": database_url})
    app.jinja_env.globals["demo_payments"] = False
    yield app
    runtime(app).db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def test_the_manifest_makes_an_installable_standalone_app(client):
    response = client.get("/manifest.webmanifest")
    manifest = json.loads(response.data)
    assert response.mimetype == "application/manifest+json"
    assert (manifest["name"], manifest["start_url"], manifest["display"]) == (
        "Voltspot", "/", "standalone")
    assert manifest["short_name"] and manifest["theme_color"] and manifest["background_color"]


def test_every_manifest_icon_is_served_as_a_png_of_its_stated_size(client):
    icons = json.loads(client.get("/manifest.webmanifest").data)["icons"]
    assert {(i["sizes"], i["purpose"]) for i in icons} >= {
        ("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in icons:
        response = client.get(icon["src"])
        png = response.data
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert png[:8] == b"\x89PNG\r\n\x1a\n", icon["src"]
        assert f"{width}x{height}" == icon["sizes"], icon["src"]
        response.close()


def test_the_service_worker_is_served_from_the_root_uncached_for_the_whole_site(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"


def _shell(client) -> list[str]:
    script = client.get("/sw.js").get_data(as_text=True)
    return json.loads(re.search(r"^const SHELL = (.*);$", script, re.M).group(1))


def test_the_service_worker_caches_only_the_shell_and_the_offline_page(client):
    shell = _shell(client)
    pages = [url for url in shell if not url.startswith("/static/")]
    assert sorted(pages) == ["/manifest.webmanifest", "/offline"]
    for url in shell:
        response = client.get(url)
        assert response.status_code == 200, url
        response.close()


def test_the_cache_name_is_versioned_and_stable_between_requests(client):
    first, second = (re.search(r'const CACHE = "(voltspot-shell-[0-9a-f]+)"',
                               client.get("/sw.js").get_data(as_text=True)).group(1)
                     for _ in range(2))
    assert first == second


def test_the_cache_name_changes_when_the_offline_page_changes(app, client):
    def cache_name() -> str:
        return re.search(r'const CACHE = "([^"]+)"',
                         client.get("/sw.js").get_data(as_text=True)).group(1)

    before = cache_name()
    app.jinja_env.globals["demo_payments"] = True
    assert cache_name() != before


def test_the_offline_page_says_nothing_was_charged_and_shows_no_prices(client):
    response = client.get("/offline")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "You are offline" in page and "nothing was charged" in page
    assert "Try again" in page
    assert not re.search(r"[€$£]|/kWh|\bfree\b|available", page, re.I)


def test_the_layout_links_manifest_icons_and_registers_the_service_worker(client):
    page = client.get("/offline").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert 'rel="manifest" href="/manifest.webmanifest"' in page
    assert 'rel="apple-touch-icon" href="/static/icons/apple-touch-icon.png"' in page
    assert 'content="/sw.js"' in page
    assert '<body hx-boost="true"' in page


def test_the_demo_notice_shows_only_with_demo_payments(app, client):
    assert "no card charged" not in client.get("/offline").get_data(as_text=True)
    app.jinja_env.globals["demo_payments"] = True
    assert "Demo payment — no card charged" in client.get("/offline").get_data(as_text=True)


def test_the_bottom_bar_is_left_out_when_a_page_has_no_primary_action(app):
    with app.test_request_context():
        page = render_template_string(
            '{% extends "base.html" %}{% block content %}<p>Hi</p>{% endblock %}')
    assert "vs-bottom-bar" not in page and "vs-has-bottom-bar" not in page


def test_a_status_pill_says_its_word_and_when_the_station_was_last_heard(app):
    heard = datetime.now(UTC) - timedelta(minutes=5, seconds=3)
    with app.test_request_context():
        html = render_template_string(
            '{% from "_status_pill.html" import status_pill %}'
            '{{ status_pill("Offline", "offline", heard=heard) }}', heard=heard)
    assert "vs-pill-offline" in html and ">Offline<" in html
    assert "last heard 5 min ago" in html
    assert f'data-updated-at="{templating.utc_iso(heard)}"' in html


def test_a_status_pill_with_an_unexpected_tone_reads_as_unknown(app):
    with app.test_request_context():
        html = render_template_string(
            '{% from "_status_pill.html" import status_pill %}{{ status_pill("?", "purple") }}')
    assert "vs-pill-unknown" in html and "last heard" not in html


@pytest.mark.parametrize(("seconds", "words"), [
    (-30, "just now"), (4, "just now"), (12, "12 s ago"), (59, "59 s ago"), (60, "1 min ago"),
    (3599, "59 min ago"), (3600, "1 h ago"), (86399, "23 h ago"), (2 * 86400, "2 d ago"),
])
def test_relative_ages_read_like_the_browser_writes_them(seconds, words):
    now = datetime(2025, 1, 1, 12, tzinfo=UTC)
    assert templating.relative_age(now - timedelta(seconds=seconds), now) == words


def test_a_naive_time_is_taken_as_utc():
    assert templating.utc_iso(datetime(2025, 1, 1, 12)) == "2025-01-01T12:00:00+00:00"
