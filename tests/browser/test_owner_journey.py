"""The owner journey in a real browser, against the live server with a simulated charger
playing the new station: sign in with a local owner account, add a site and a station, read
the password the page shows once, connect the charger with it and watch it come online on
the live board (htmx polling, no reload), make a price in the tariff editor while its live
preview follows the typing, put it on the site, print the QR stickers (A4, one code per
plug), ask the station for a status report, charge a car and find the session in the
sessions table and in the CSV export.

The desktop (1280x800) plays the whole journey; the phone (390x844) signs in, reads the
board with the sidebar folded behind a Menu button, opens the menu and adds a station.
Every screen is photographed (artifacts/screenshots/owner-*), checked with axe-core and
for thumb-sized targets.

Page problems already reported and not yet fixed are listed in ``KNOWN_PAGE_PROBLEMS`` (for
screen checks) or marked ``xfail(strict=True)`` (for behaviour): the run stays green, and
each entry fails the run once its problem is gone, so it is removed with the fix."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.factories import OwnerAccount, make_owner
from tests.support.browser import screenshot
from tests.support.owner_pages import (
    BOARD_POLL_MS,
    WAIT_MS,
    add_station,
    check_print,
    check_screen,
    expect_online_by_itself,
    on_loop,
    open_menu,
    open_sign_in,
    owner_card,
    owner_site,
    sidebar,
    sign_in,
    signed_in,
    station_card,
    unique,
)


@pytest.fixture
def owner(db) -> OwnerAccount:
    """A fresh local owner account (services.owners.create_owner, with a password)."""
    return make_owner(db)


# -- desktop: the whole journey ---------------------------------------------------------------

def test_an_owner_adds_a_station_prices_it_prints_stickers_and_exports_its_session(
        desktop, server, db, owner, charger_for, known_problems):
    page = desktop
    site_name = unique("Hotel De Gouden Leeuw")
    charge_point_id = unique("GL").upper()

    def check(name: str) -> None:
        check_screen(page, name, known_problems)

    # 1. Sign in; the board of an owner without stations says what to do.
    open_sign_in(page, server)
    check("owner-login")
    sign_in(page, owner)
    expect(page.get_by_role("heading", name="Live board")).to_be_visible()
    expect(page.get_by_text("No stations yet.")).to_be_visible()
    expect(page.get_by_test_id("stations-online")).to_have_text("0 of 0")
    check("owner-board-empty")

    # 2. Add station without a site: the page sends the owner to add the site first.
    sidebar(page).get_by_role("link", name="Add station").click()
    expect(page.get_by_role("heading", name="Add a station")).to_be_visible()
    check("owner-add-station-no-site")
    page.get_by_role("main").get_by_role("link", name="Add a site").click()
    expect(page.get_by_role("heading", name="Add a site")).to_be_visible()
    page.get_by_label("Name", exact=True).fill(site_name)
    page.get_by_label("Street and number").fill("Damrak 1")
    page.get_by_label("Postal code").fill("1012 LG")
    page.get_by_label("Town or city").fill("Amsterdam")
    page.get_by_label("Help phone").fill("+31 20 123 4567")
    check("owner-site-form")
    page.get_by_role("button", name="Add site").click()
    expect(page.get_by_role("heading", level=1, name=site_name)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("The site is saved.")
    check("owner-site")

    # 3. Add the station; the OCPP URL and the password are shown (once).
    page.get_by_role("link", name="Add a station here").click()
    expect(page.get_by_label("Site", exact=True).locator("option:checked")).to_have_text(
        site_name)
    check("owner-add-station")
    shown = add_station(page, charge_point_id)
    assert shown["ocpp-url"] == f"{server.ws_url}/{charge_point_id}"
    check("owner-station-added")

    # 4. The board shows the new station offline; the charger connects with the shown
    #    password, and the board turns it online by itself.
    page.get_by_role("link", name="Live board").click()
    card = station_card(page, charge_point_id)
    expect(card.locator(".vs-pill")).to_contain_text("Offline")
    expect(page.get_by_test_id("stations-online")).to_have_text("0 of 1")
    page.evaluate("window.__sameDocument = true")
    charger, loop = charger_for(server, charge_point_id, shown["password"])
    expect_online_by_itself(page, charge_point_id)
    expect(page.get_by_test_id("stations-online")).to_have_text("1 of 1")
    expect(card).to_contain_text("Plug 1 · Free")
    expect(card).to_contain_text("Plug 2 · Free")
    check("owner-board-online")

    # 5. A price: the preview beside the form follows the typing, then the site takes it.
    sidebar(page).get_by_role("link", name="Prices").click()
    expect(page.get_by_role("heading", name="Prices")).to_be_visible()
    expect(page.get_by_text("You have no prices yet.")).to_be_visible()
    check("owner-prices-empty")
    page.get_by_role("link", name="New price").click()
    expect(page.get_by_role("heading", name="New price")).to_be_visible()
    preview = page.locator("#tariff-preview")
    page.get_by_label("Name", exact=True).fill("Hotel guests")
    page.get_by_label("Price per kWh").press_sequentially("0.39", delay=20)
    expect(preview.locator(".vs-price-lines li").first).to_have_text("€0.39/kWh",
                                                                     timeout=WAIT_MS)
    total_before = page.get_by_test_id("example-total").inner_text()
    page.get_by_label("Fee per session").press_sequentially("0.35", delay=20)
    expect(preview.locator(".vs-price-lines")).to_contain_text("€0.35 per session",
                                                               timeout=WAIT_MS)
    expect(page.get_by_test_id("example-total")).not_to_have_text(total_before)
    expect(page.get_by_test_id("example-total")).to_have_text("€12.05")  # 30 kWh + fee
    expect(preview).to_contain_text("We hold €50.00 on your card")
    check("owner-price-editor")
    page.get_by_role("button", name="Save price").click()
    expect(page.get_by_role("heading", name="Where “Hotel guests” applies")).to_be_visible()
    check("owner-price-assign")
    page.get_by_role("button", name=f"Use for every plug at {site_name}").click()
    expect(page.get_by_role("status").first).to_contain_text("2 more plugs use this price")
    expect(page.get_by_text("Every plug here uses this price.")).to_be_visible()

    # 6. QR stickers: one code per plug opening its plug page, A4, only the sheets printed.
    sidebar(page).get_by_role("link", name="QR stickers").click()
    expect(page.get_by_role("heading", name="QR stickers")).to_be_visible()
    page.get_by_role("navigation", name="Choose a site or station").get_by_role(
        "link", name=site_name).click()
    expect(page.get_by_role("heading", name=f"QR stickers · {site_name}")).to_be_visible()
    stickers = page.locator(".vs-sticker")
    expect(stickers).to_have_count(2)
    expect(page.locator(".vs-sticker .vs-sticker-qr svg")).to_have_count(2)
    for sticker in stickers.all():
        evse = sticker.get_attribute("data-evse")
        assert evse and sticker.locator(".vs-sticker-evse").inner_text() == evse
        url = f"{server.base_url}/c/{evse.replace('*', '-')}"
        expect(sticker.locator(".vs-sticker-qr")).to_have_attribute("aria-label",
                                                                    f"QR code for {url}")
        assert page.request.get(url).ok, f"the sticker's code opens {url}, which fails"
        expect(sticker).to_contain_text("€0.39/kWh")
        expect(sticker).to_contain_text("Help: +31 20 123 4567")
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    check("owner-stickers")
    page_sizes = page.evaluate("""() => Array.from(document.styleSheets).flatMap((sheet) => {
        try { return Array.from(sheet.cssRules); } catch (e) { return []; } })
      .filter((rule) => rule instanceof CSSPageRule).map((rule) => rule.style.size)""")
    assert "a4" in [size.lower() for size in page_sizes], f"no @page size A4: {page_sizes}"
    page.emulate_media(media="print")
    try:
        expect(page.locator(".vs-sheet")).to_have_count(1)
        expect(page.locator(".vs-sheet")).to_be_visible()
        for hidden in (".vs-sidebar", ".vs-header", ".vs-no-print"):
            expect(page.locator(hidden).first).to_be_hidden()
        screenshot(page, "owner-stickers-print")
        check_print(page)
    finally:
        page.emulate_media(media="screen")

    # 7. A remote action on the station page, answered by the charger.
    sidebar(page).get_by_role("link", name=re.compile(re.escape(charge_point_id))).click()
    expect(page.get_by_role("heading", level=1, name=charge_point_id)).to_be_visible()
    expect(page.locator("#station-live .vs-pill").first).to_contain_text("Online")
    page.locator('form[data-action="trigger-status"]').get_by_role("button", name="Ask").click()
    reply = page.locator("#station-reply [role=status]")
    expect(reply).to_have_text(
        "The station will report the status of its plugs in a moment; this page shows it "
        "as it arrives.", timeout=WAIT_MS)
    expect(reply).to_have_attribute("data-ok", "yes")
    page.get_by_text("The station's own answer").click()
    expect(page.locator("#station-reply pre")).to_contain_text('"Accepted"')
    check("owner-station")

    # 8. A car charges with the owner's card; the board shows it live, then the session is
    #    in the table and in the CSV export.
    id_tag = owner_card(db, owner)
    page.get_by_role("link", name="Live board").click()
    card = station_card(page, charge_point_id)
    on_loop(loop, charger.plug_in(1, id_tag))
    for _ in range(3):
        on_loop(loop, charger.send_meter_values(1, elapsed=120))
    expect(card).to_contain_text("Plug 1 · Charging", timeout=BOARD_POLL_MS + WAIT_MS)
    expect(card).to_contain_text(re.compile(r"\d+\.\d kW · \d+\.\d\d kWh"))
    check("owner-board-charging")
    on_loop(loop, charger.unplug(1))
    assert 1 not in charger.transactions

    sidebar(page).get_by_role("link", name="Sessions").click()
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    row = page.locator("#sessions-table tbody tr", has_text=charge_point_id)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(id_tag)
    expect(row).to_contain_text(site_name)
    expect(row).to_contain_text(re.compile(r"€\d+\.\d\d"))
    energy = float(re.search(r"(\d+\.\d\d) kWh", row.inner_text())[1])
    assert energy > 0, row.inner_text()
    check("owner-sessions")

    with page.expect_download(timeout=WAIT_MS) as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    ours = [r for r in rows if charge_point_id in r.values()]
    assert len(ours) == 1, rows
    assert id_tag in ours[0].values() and site_name in ours[0].values(), ours[0]
    kwh_cells = [v for v in ours[0].values() if re.fullmatch(r"\d+\.\d{3}", v or "")]
    assert any(abs(float(v) - energy) < 0.01 for v in kwh_cells), (ours[0], energy)


# -- phone: sign in, the board, the menu, add a station ---------------------------------------

def test_an_owner_signs_in_reads_the_board_and_adds_a_station_on_a_phone(
        phone, server, db, owner, charger_for, known_problems):
    site_name = unique("Supermarkt Centrum")
    charge_point_id = unique("SM").upper()
    owner_site(db, owner, site_name)

    def check(name: str) -> None:
        check_screen(phone, name, known_problems)

    open_sign_in(phone, server)
    check("owner-login")
    sign_in(phone, owner, password="not-the-password")
    expect(phone.get_by_role("alert")).to_have_text(
        "That email and password do not match an owner account. Check them and try again.")
    expect(phone.get_by_label("Email")).to_have_value(owner.email)
    check("owner-login-refused")
    sign_in(phone, owner)
    heading = phone.get_by_role("heading", name="Live board")
    expect(heading).to_be_visible()
    expect(phone.get_by_text("No stations yet.")).to_be_visible()
    check("owner-board-empty")
    # The sidebar is folded: the page starts right under the top bar, not below it.
    expect(sidebar(phone)).to_be_hidden()
    assert heading.bounding_box()["y"] < 120, heading.bounding_box()

    # The menu opens under the top bar with the focus on its first link; Escape folds it
    # and gives the focus back to the button.
    menu = open_menu(phone)
    expect(menu.get_by_role("link", name="Live board")).to_be_focused()
    expect(phone.get_by_role("button", name="Menu")).to_have_attribute("aria-controls",
                                                                        "owner-menu")
    check("owner-menu")
    phone.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(phone.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")
    expect(phone.get_by_role("button", name="Menu")).to_be_focused()

    open_menu(phone).get_by_role("link", name="Add station").click()
    expect(phone.get_by_label("Site", exact=True).locator("option:checked")).to_have_text(
        site_name)
    expect(sidebar(phone)).to_be_hidden()
    check("owner-add-station")
    shown = add_station(phone, charge_point_id, plugs=1)
    phone.get_by_test_id("password").scroll_into_view_if_needed()
    check("owner-station-added")

    open_menu(phone).get_by_role("link", name="Live board").click()
    card = station_card(phone, charge_point_id)
    expect(card.locator(".vs-pill")).to_contain_text("Offline")
    expect(sidebar(phone)).to_be_hidden()
    phone.evaluate("window.__sameDocument = true")
    charger_for(server, charge_point_id, shown["password"])
    expect_online_by_itself(phone, charge_point_id)
    expect(card).to_contain_text("Plug 1 · Free")
    card.scroll_into_view_if_needed()
    check("owner-board-online")
    # The folded sidebar's dot followed the board meanwhile.
    expect(open_menu(phone).get_by_role("link", name=charge_point_id)).to_contain_text(
        "(online)")


# -- page problems found, kept as failing expectations until fixed ----------------------------

def test_the_once_shown_password_does_not_come_back_with_the_back_button(
        desktop, server, db, owner):
    owner_site(db, owner, unique("Depot Noord"))
    signed_in(desktop, server, owner)
    sidebar(desktop).get_by_role("link", name="Add station").click()
    password = add_station(desktop, unique("DN").upper(), plugs=1)["password"]
    desktop.get_by_role("link", name="Live board").click()
    expect(desktop.get_by_role("heading", name="Live board")).to_be_visible()
    stored = desktop.evaluate("""() => JSON.stringify(Object.assign({}, sessionStorage))
                                       + JSON.stringify(Object.assign({}, localStorage))""")
    desktop.go_back()
    expect(desktop).to_have_url(re.compile(r"/owner/stations/new$"))
    # Restored from htmx's cache the password is there at once; loaded afresh, never.
    expect(desktop.get_by_test_id("password")).not_to_be_attached(timeout=2_000)
    expect(desktop.get_by_role("heading", name="Add a station")).to_be_visible()
    assert password not in stored, "the password is kept in the browser's storage"


def test_the_sidebar_dot_follows_the_station_as_the_board_does(desktop, server, db, owner,
                                                               charger_for):
    owner_site(db, owner, unique("Camping Zee"))
    signed_in(desktop, server, owner)
    sidebar(desktop).get_by_role("link", name="Add station").click()
    charge_point_id = unique("CZ").upper()
    password = add_station(desktop, charge_point_id, plugs=1)["password"]
    desktop.get_by_role("link", name="Live board").click()
    desktop.evaluate("window.__sameDocument = true")
    charger_for(server, charge_point_id, password)
    expect_online_by_itself(desktop, charge_point_id)
    # The board's own answer can carry the sidebar (hx-swap-oob): the same moment, give or
    # take a settle.
    expect(sidebar(desktop).get_by_role("link", name=charge_point_id)).to_contain_text(
        "(online)", timeout=2_000)
