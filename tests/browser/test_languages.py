"""The plug page on a phone (390x844) in the browser's language, German and English, and
the language switch remembered from one page to the next."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tests.support.browser import another_page, axe_check, screenshot, touch_targets_ok
from voltspot.models import Station, Tariff

WAIT_MS = 10_000


@pytest.fixture
def plug_path(db, station) -> str:
    """A plug priced €0.39/kWh, €0.35 per session, €0.10/min idle after 30 min, €50 hold."""
    with db.session() as session:
        tariff = Tariff(name=f"T-{station.charge_point_id}", currency="EUR",
                        energy_price_per_kwh=3900, session_fee=35, idle_fee_per_minute=1000,
                        idle_grace_minutes=30, hold_amount=5000, vat_rate_basis_points=2100)
        session.add(tariff)
        session.flush()
        stored = session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id))
        for connector in stored.connectors:
            connector.tariff_id = tariff.id
        first = min(stored.connectors, key=lambda c: c.connector_id)
        return f"/c/{first.evse_id.replace('*', '-')}"


def _checked(page: Page, name: str) -> None:
    screenshot(page, name)
    axe_check(page)
    touch_targets_ok(page)


def test_a_german_phone_gets_the_plug_page_in_german(browser: Browser, server, plug_path):
    with another_page(browser, locale="de-DE") as page:
        page.goto(server.base_url + plug_path)
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            re.compile(r"^Ladepunkt 1 · .+ kW$"))
        prices = page.locator(".vs-price-lines li")
        expect(prices).to_have_text(["0,39\xa0€/kWh", "0,35\xa0€ pro Ladevorgang",
                                     "0,10\xa0€/min Standgebühr nach 30 Min.",
                                     "inkl. 21 % MwSt."])
        expect(page.get_by_text("Wir reservieren 50,00\xa0€ auf Ihrer Karte")).to_be_visible()
        expect(page.locator(".vs-expect li")).to_have_text([
            "Eine Ladung mit 20 kWh kostet etwa 8,15\xa0€.",
            "Die Standgebühr beginnt 30 Min. nach Ladeende.",
            "Das Laden stoppt von selbst, wenn die Kosten die Reservierung von 50,00\xa0€ "
            "erreichen."])
        start = page.get_by_role("button", name="Laden starten")
        expect(start).to_be_visible()
        expect(page.get_by_role("navigation", name="Sprache")).to_contain_text("Deutsch")
        _checked(page, "plug-de")


def test_an_english_phone_gets_the_plug_page_in_english(phone: Page, server, plug_path):
    phone.goto(server.base_url + plug_path)
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Plug 1 · .+ kW$"))
    expect(phone.locator(".vs-price-lines li")).to_have_text(
        ["€0.39/kWh", "€0.35 per session", "€0.10/min idle after 30 min", "incl. 21% VAT"])
    expect(phone.locator(".vs-expect li")).to_have_text([
        "A 20 kWh charge costs about €8.15.", "The idle fee starts 30 min after charging ends.",
        "Charging stops by itself when the cost reaches the €50.00 hold."])
    expect(phone.get_by_role("button", name="Start charging")).to_be_visible()
    _checked(phone, "plug-en")


def test_the_language_a_driver_picks_stays_on_the_next_pages(phone: Page, server, plug_path):
    phone.goto(server.base_url + plug_path)
    phone.get_by_role("link", name="Français").click()
    expect(phone.locator("html")).to_have_attribute("lang", "fr", timeout=WAIT_MS)
    assert phone.url == server.base_url + plug_path
    expect(phone.get_by_role("button", name="Démarrer la charge")).to_be_visible()
    phone.get_by_role("link", name="Mes sessions").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Mes sessions", timeout=WAIT_MS)
    phone.goto(server.base_url + "/scan")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Scannez le code QR")
    _checked(phone, "scan-fr")


def test_the_ages_kept_fresh_in_the_browser_stay_in_the_language(browser: Browser, server):
    with another_page(browser, locale="nl-NL") as page:
        page.goto(server.base_url + "/offline")
        words = page.evaluate("() => [Voltspot.word('min ago', 5), Voltspot.word('just now')]")
        assert words == ["5 min geleden", "zojuist"]
