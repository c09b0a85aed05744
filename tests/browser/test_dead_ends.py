"""No dead ends on a phone (390x844), in English and German: the scanner from the start
page, and a code typed with spaces that opens its plug with the plug's own address."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from tests.browser.conftest import axe_check, screenshot, touch_targets_ok
from tests.browser.test_driver_journey import another_page, no_map_tiles
from voltspot.models import Station

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
