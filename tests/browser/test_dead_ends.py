"""No dead ends on a phone (390x844), in English and German: the scanner from the start
page, a code typed with spaces that opens its plug with the plug's own address, a plug in
use that cannot be started and leads to a free one, the price in force now before the price
list, and the camera released whenever the scanner is left."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    another_page,
    axe_check,
    no_map_tiles,
    screenshot,
    touch_targets_ok,
)
from tests.support.waiting import running
from voltspot.models import Site, Station, Tariff
from voltspot.simulator import SimulatedCharger

WAIT_MS = 10_000
WORDS = {
    "en-GB": {"scan": "Scan a charger", "heading": "Scan the QR code",
              "field": "Or type the code printed under the QR code", "open": "Open charger",
              "plug": "Plug 1"},
    "de-DE": {"scan": "Ladestation scannen", "heading": "QR-Code scannen",
              "field": "Oder geben Sie den Code unter dem QR-Code ein",
              "open": "Ladestation öffnen", "plug": "Ladepunkt 1"},
}


@pytest.fixture
def evse_id(db, station) -> str:
    with db.session() as session:
        stored = session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id))
        return min(stored.connectors, key=lambda c: c.connector_id).evse_id


@pytest.mark.parametrize("locale", list(WORDS))
def test_the_scanner_is_the_first_thing_on_the_start_page(browser: Browser, server, locale):
    words = WORDS[locale]
    with another_page(browser, locale=locale) as page:
        no_map_tiles(page)
        page.goto(server.base_url + "/")
        scan = page.get_by_role("main").get_by_role("link").first
        expect(scan).to_have_text(words["scan"])
        expect(scan).to_be_in_viewport()
        screenshot(page, f"home-{locale}")
        axe_check(page)
        touch_targets_ok(page)
        scan.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(words["heading"],
                                                                  timeout=WAIT_MS)
        assert page.url == server.base_url + "/scan"


@pytest.mark.parametrize("locale", list(WORDS))
def test_a_code_typed_with_spaces_opens_the_plug_at_its_own_address(browser: Browser, server,
                                                                     evse_id, locale):
    words = WORDS[locale]
    with another_page(browser, locale=locale) as page:
        page.goto(server.base_url + "/scan")
        page.get_by_label(words["field"]).fill(evse_id.replace("*", " ").lower())
        page.get_by_role("button", name=words["open"]).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(words["plug"],
                                                                     timeout=WAIT_MS)
        expect(page).to_have_url(re.compile(re.escape("/c/" + evse_id.replace("*", "-")) + "$"))
        page.reload()
        expect(page.get_by_role("heading", level=1)).to_contain_text(words["plug"])
        screenshot(page, f"typed-code-{locale}")


@pytest.fixture
def window_now(db, station) -> tuple[str, str]:
    """Plug 1 priced €0.39/kWh, but €0.29/kWh in a window from an hour ago to two hours from
    now (site time); returns the plug's path and the window's end as HH:MM."""
    with db.session() as session:
        stored = session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id))
        local = datetime.now(ZoneInfo(session.get(Site, stored.site_id).timezone))
        start, end = ((local + timedelta(hours=hours)).strftime("%H:%M") for hours in (-1, 2))
        tariff = Tariff(name=f"T-{station.charge_point_id}", currency="EUR",
                        energy_price_per_kwh=3900, hold_amount=5000, vat_rate_basis_points=2100,
                        windows=[{"label": "", "days": list(range(7)), "start": start,
                                  "end": end, "energy_price_per_kwh": 2900}])
        session.add(tariff)
        session.flush()
        for connector in stored.connectors:
            connector.tariff_id = tariff.id
        first = min(stored.connectors, key=lambda c: c.connector_id)
        return f"/c/{first.evse_id.replace('*', '-')}", end


@pytest.mark.parametrize(("locale", "expected"), [
    ("en-GB", "Now €0.29/kWh until {end}, then €0.39/kWh"),
    ("de-DE", "Jetzt 0,29\xa0€/kWh bis {end}, danach 0,39\xa0€/kWh"),
])
def test_the_plug_page_leads_with_the_price_in_force_now(browser: Browser, server, window_now,
                                                         locale, expected):
    path, end = window_now
    with another_page(browser, locale=locale) as page:
        page.goto(server.base_url + path)
        price = page.get_by_role("region", name=re.compile("^(Price|Preis)$"))
        now_line = page.get_by_test_id("price-now")
        expect(now_line).to_have_text(expected.format(end=end))
        box, block = now_line.bounding_box(), price.bounding_box()
        assert box and block and box["y"] < block["y"], "the price now comes first"
        screenshot(page, f"price-now-{locale}")
        axe_check(page)


# Counts the camera tracks the page opened and how many are still live.
_RECORD_STREAMS = """
window.__tracks = [];
const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
navigator.mediaDevices.getUserMedia = async (constraints) => {
  const stream = await original(constraints);
  window.__tracks.push(...stream.getTracks());
  return stream;
};
"""
_LIVE = "() => window.__tracks.filter((t) => t.readyState === 'live').length"
_OPENED = "() => window.__tracks.length"


@pytest.mark.parametrize(("locale", "looking", "sessions", "scan"), [
    ("en-GB", "Looking for a QR code…", "My sessions", "Scan a charger"),
    ("de-DE", "Suche nach einem QR-Code …", "Meine Ladevorgänge", "Ladestation scannen"),
])
def test_the_camera_is_released_when_the_scanner_is_left_and_opened_once_on_return(
        browser: Browser, server, locale, looking, sessions, scan):
    camera = browser.browser_type.launch(
        executable_path=str(CHROMIUM), headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream",
              "--use-fake-ui-for-media-stream"])
    try:
        with another_page(camera, permissions=["camera"], locale=locale) as page:
            page.add_init_script(_RECORD_STREAMS)
            page.goto(server.base_url + "/scan")
            expect(page.locator("#scan-status")).to_have_text(looking, timeout=WAIT_MS)
            assert page.evaluate(_LIVE) == 1
            page.evaluate("window.__sameDocument = true")
            page.get_by_role("link", name=sessions).click()
            expect(page.get_by_role("heading", level=1)).to_have_text(sessions)
            assert page.evaluate("window.__sameDocument") is True, "left by a boosted link"
            page.wait_for_function(f"({_LIVE})() === 0", timeout=WAIT_MS)
            page.get_by_role("link", name=scan).click()
            expect(page.locator("#scan-status")).to_have_text(looking, timeout=WAIT_MS)
            assert (page.evaluate(_OPENED), page.evaluate(_LIVE)) == (2, 1)
            screenshot(page, f"scan-again-{locale}")
    finally:
        camera.close()


@pytest.fixture
def two_plugs(db, station) -> list[str]:
    """Both plugs priced; returns their paths."""
    with db.session() as session:
        stored = session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id))
        tariff = Tariff(name=f"T-{station.charge_point_id}", currency="EUR",
                        energy_price_per_kwh=3900, hold_amount=5000, vat_rate_basis_points=2100)
        session.add(tariff)
        session.flush()
        for connector in stored.connectors:
            connector.tariff_id = tariff.id
        return [f"/c/{c.evse_id.replace('*', '-')}"
                for c in sorted(stored.connectors, key=lambda c: c.connector_id)]


@pytest.mark.parametrize(("locale", "words"), [
    ("en-GB", {"start": "Start charging", "why": "Someone is using this plug right now.",
               "free": "Free plugs at this site", "other": "Plug 2 "}),
    ("de-DE", {"start": "Laden starten", "why": "Dieser Ladepunkt wird gerade benutzt.",
               "free": "Freie Ladepunkte an diesem Standort", "other": "Ladepunkt 2 "}),
])
def test_a_plug_in_use_cannot_be_started_and_leads_to_a_free_one(browser: Browser, server, db,
                                                                 station, two_plugs, locale,
                                                                 words):
    with (running(SimulatedCharger(server.ws_url, station.charge_point_id, station.password,
                                   step_delay=30, seed=7)),
          another_page(browser, locale=locale) as page):
        page.goto(server.base_url + two_plugs[0])
        expect(page.get_by_role("button", name=words["start"])).to_be_enabled(timeout=WAIT_MS)
        with another_page(browser) as first:
            first.goto(server.base_url + two_plugs[0])
            first.get_by_role("button", name="Start charging").click()
            first.wait_for_url(re.compile(r"/sessions/[^/]+$"), timeout=WAIT_MS)
        page.reload()
        expect(page.get_by_role("button", name=words["start"])).to_be_disabled()
        expect(page.locator("#why-not")).to_have_text(words["why"])
        screenshot(page, f"plug-in-use-{locale}")
        axe_check(page)
        touch_targets_ok(page)
        page.get_by_role("region", name=words["free"]).get_by_role(
            "link", name=re.compile("^" + words["other"])).click()
        expect(page).to_have_url(re.compile(re.escape(two_plugs[1]) + "$"))
        expect(page.get_by_role("button", name=words["start"])).to_be_enabled()
