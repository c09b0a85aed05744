"""No dead ends for a driver: the scanner is one tap from the app's start page and from a
long press on its icon, and a code typed with spaces still finds its plug."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from voltspot.app import create_app
from voltspot.models import Station
from voltspot.runtime import runtime


@pytest.fixture
def client(database_url):
    app = create_app({"database_url": database_url})
    yield app.test_client()
    runtime(app).db.dispose()


def test_the_start_page_offers_the_scanner_before_anything_else(client):
    html = client.get("/").get_data(as_text=True)
    main = html[html.index('<main'):]
    first_link = main[main.index("<a "):main.index("</a>")]
    assert 'href="/scan"' in first_link and "Scan a charger" in first_link


def test_the_installed_app_has_shortcuts_to_the_scanner_and_my_sessions(client):
    manifest = json.loads(client.get("/manifest.webmanifest").data)
    assert [(s["name"], s["url"]) for s in manifest["shortcuts"]] == [
        ("Scan a charger", "/scan"), ("My sessions", "/my-sessions")]
    assert all(s["icons"] and s["short_name"] for s in manifest["shortcuts"])


def test_the_manifest_speaks_the_browser_language(client):
    response = client.get("/manifest.webmanifest", headers={"Accept-Language": "es-ES,es"})
    manifest = json.loads(response.data)
    assert manifest["lang"] == "es"
    assert manifest["shortcuts"][0]["name"] == "Escanear un cargador"
    assert "Accept-Language" in response.headers["Vary"]


def test_a_code_typed_with_spaces_opens_its_plug(client, db, station):
    with db.session() as session:
        stored = session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id))
        evse_id = min(stored.connectors, key=lambda c: c.connector_id).evse_id
    typed = evse_id.replace("*", " ").lower()
    response = client.get("/scan", query_string={"code": typed})
    assert response.status_code == 302
    assert response.headers["Location"] == "/c/" + evse_id.replace("*", "-")
