"""No dead ends for a driver: the scanner is one tap from the app's start page and from a
long press on its icon, and a code typed with spaces still finds its plug."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, time

import pytest
from sqlalchemy import select

from voltspot.app import create_app
from voltspot.domain.pricing import PriceWindow, TariffTerms
from voltspot.models import Site, Station, Tariff
from voltspot.runtime import runtime
from voltspot.web.driver_text import price_now


@pytest.fixture
def app(database_url):
    app = create_app({"database_url": database_url})
    yield app
    runtime(app).db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


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


def test_the_install_dialog_gets_phone_screenshots_of_their_stated_size(client):
    screenshots = json.loads(client.get("/manifest.webmanifest").data)["screenshots"]
    assert len(screenshots) >= 2
    for shot in screenshots:
        response = client.get(shot["src"])
        png = response.data
        response.close()
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and f"{width}x{height}" == shot["sizes"]
        assert shot["form_factor"] == "narrow" and shot["label"]


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


def test_a_plug_that_cannot_start_says_why_and_gives_the_help_number_as_a_link(client, db,
                                                                               station):
    with db.session() as session:
        stored = session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id))
        tariff = Tariff(name=f"T-{station.charge_point_id}", currency="EUR",
                        energy_price_per_kwh=3900, hold_amount=5000, vat_rate_basis_points=2100)
        session.add(tariff)
        session.flush()
        for connector in stored.connectors:
            connector.tariff_id = tariff.id
        session.get(Site, stored.site_id).help_phone = "+31 20 123 4567"
        evse = min(stored.connectors, key=lambda c: c.connector_id).evse_id.replace("*", "-")
    html = client.get(f"/c/{evse}").get_data(as_text=True)
    start = html[html.index("<button"):html.index("</button>")]
    assert "disabled" in start and "Start charging" in start
    assert "This charger is offline right now." in html
    assert '<a href="tel:+31201234567">+31 20 123 4567</a>' in html
    assert "No other plug here is free right now." in html


DAY_AND_NIGHT = TariffTerms(
    currency="EUR", vat_rate_basis_points=2100, energy_price_per_kwh=3900,
    timezone="Europe/Amsterdam",
    windows=(PriceWindow(start=time(8), end=time(18), energy_price_per_kwh=2900),))


@pytest.mark.parametrize(("language", "utc_hour", "expected"), [
    ("en", 11, "Now €0.29/kWh until 18:00, then €0.39/kWh"),
    ("en", 19, "Now €0.39/kWh until 08:00, then €0.29/kWh"),
    ("de", 11, "Jetzt 0,29\xa0€/kWh bis 18:00, danach 0,39\xa0€/kWh"),
    ("fr", 19, "Maintenant 0,39\xa0€/kWh jusqu'à 08:00, puis 0,29\xa0€/kWh"),
])
def test_the_price_in_force_now_comes_with_when_it_changes(app, language, utc_hour, expected):
    now = datetime(2026, 12, 7, utc_hour, tzinfo=UTC)  # Amsterdam is UTC+1 in December
    with app.test_request_context(headers={"Accept-Language": language}):
        assert price_now(DAY_AND_NIGHT, now) == expected


def test_a_price_without_windows_has_no_now_line(app):
    with app.test_request_context():
        assert price_now(replace(DAY_AND_NIGHT, windows=()), datetime.now(UTC)) == ""


@pytest.mark.parametrize(("language", "facts"), [
    ("en", ["A 20 kWh charge costs about €8.15.",
            "The idle fee starts 30 min after charging ends.",
            "Charging stops by itself when the cost reaches the €50.00 hold."]),
    ("de", ["Eine Ladung mit 20 kWh kostet etwa 8,15\xa0€.",
            "Die Standgebühr beginnt 30 Min. nach Ladeende.",
            "Das Laden stoppt von selbst, wenn die Kosten die Reservierung von 50,00\xa0€ "
            "erreichen."]),
])
def test_the_plug_page_says_what_a_charge_costs_and_when_fees_and_the_hold_apply(
        client, db, station, language, facts):
    with db.session() as session:
        stored = session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id))
        tariff = Tariff(name=f"T-{station.charge_point_id}", currency="EUR",
                        energy_price_per_kwh=3900, session_fee=35, idle_fee_per_minute=1000,
                        idle_grace_minutes=30, hold_amount=5000, vat_rate_basis_points=2100)
        session.add(tariff)
        session.flush()
        for connector in stored.connectors:
            connector.tariff_id = tariff.id
        evse = min(stored.connectors, key=lambda c: c.connector_id).evse_id.replace("*", "-")
    html = client.get(f"/c/{evse}", headers={"Accept-Language": language}).get_data(
        as_text=True)
    expect = html[html.index('class="small vs-expect"'):]
    found = re.findall(r"<li>(.*?)</li>", expect[:expect.index("</ul>")])
    assert found == facts
