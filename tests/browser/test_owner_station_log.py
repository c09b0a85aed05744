"""The station page's OCPP log in a real browser: folded behind "Show OCPP log" so the page
stays short, it opens to the station's own frames (the boot and the status reports a
simulated charger sent), newest first; in German the same fold reads German. Photographed
and checked with axe-core (check_screen of the owner journey)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_owner_operations import (
    no_sideways_scroll,
    online_station,
    open_station,
    owner,  # noqa: F401 (a fixture)
)
from tests.support.owner_pages import WAIT_MS, check_screen, signed_in
from voltspot.web.i18n import COOKIE


def test_the_station_log_is_folded_and_opens_to_the_stations_frames(
        desktop, server, db, owner, charger_for, known_problems):  # noqa: F811 (fixtures)
    page = desktop
    charge_point_id, _, _ = online_station(db, server, owner, charger_for)
    signed_in(page, server, owner)
    open_station(page, server, charge_point_id)

    log = page.locator("details#ocpp-log")
    frames = log.locator("#station-frames")
    expect(log).not_to_have_attribute("open", "")
    expect(frames).to_be_hidden()
    folded_height = page.evaluate("document.documentElement.scrollHeight")

    log.get_by_text("Show OCPP log").click()
    expect(log).to_have_attribute("open", "")
    expect(frames).to_be_visible()
    rows = frames.locator("tbody tr")
    expect(rows.first).to_be_visible(timeout=WAIT_MS)
    expect(frames).to_contain_text("BootNotification")
    expect(frames).to_contain_text("StatusNotification")
    expect(frames).to_contain_text("from station")
    expect(frames).to_contain_text("to station")
    assert page.evaluate("document.documentElement.scrollHeight") > folded_height
    check_screen(page, "owner-station-log", known_problems)


def test_the_folded_log_speaks_the_owners_language_on_a_phone(
        phone, server, db, owner, charger_for, known_problems):  # noqa: F811 (fixtures)
    page = phone
    charge_point_id, _, _ = online_station(db, server, owner, charger_for)
    signed_in(page, server, owner)
    page.context.add_cookies([{"name": COOKIE, "value": "de", "url": server.base_url}])
    page.goto(f"{server.base_url}/owner/stations/{charge_point_id}")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    log = page.locator("details#ocpp-log")
    log.get_by_text("OCPP-Protokoll anzeigen").click()
    frames = log.locator("#station-frames")
    expect(frames).to_contain_text("BootNotification", timeout=WAIT_MS)
    expect(frames).to_contain_text("von der Station")
    no_sideways_scroll(page)
    check_screen(page, "owner-station-log-phone-de", known_problems)
