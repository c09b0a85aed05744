"""Running the network from the owner page in a real browser, against the live server with
a simulated charger: start a session on a plug from the station page, watch its page
follow it live (state, energy, the plug's own OCPP messages) and stop it there; on a
phone, start and stop from the station page, which does not scroll sideways.

Every screen is photographed (artifacts/screenshots/owner-*), checked with axe-core and
for thumb-sized targets (check_screen of the owner journey)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.factories import (
    OwnerAccount,
    add_event,
    add_session,
    make_owner,
    make_place,
    make_site,
    make_tariff,
    utc,
)
from tests.support.owner_pages import (
    WAIT_MS,
    check_screen,
    owner_card,
    owner_site,
    signed_in,
    unique,
)
from voltspot.domain.statuses import ConnectorStatus
from voltspot.models import Connector, Station, StationEventKind, Tariff
from voltspot.services.owner import station_admin
from voltspot.services.owner.accounts import Viewer

SESSION_POLL_MS = 5_000  # _session_live.html: hx-trigger="every 5s"


@pytest.fixture
def owner(db) -> OwnerAccount:
    return make_owner(db)


def online_station(db, server, owner: OwnerAccount, start_charger, plugs: int = 2
                   ) -> tuple[str, object, object]:
    """A station of ``owner``'s on a new site with a simulated charger connected
    (``start_charger``: the ``charger_for`` fixture)."""
    site_id = owner_site(db, owner, unique("Depot"))
    credentials = station_admin.add_station(db, Viewer(owner.id, False), {
        "site_id": str(site_id), "charge_point_id": unique("OP").upper(),
        "connectors": str(plugs), "max_power_kw": "22"})
    charger, loop = start_charger(server, credentials.charge_point_id, credentials.password)
    return credentials.charge_point_id, charger, loop


def open_station(page: Page, server, charge_point_id: str) -> None:
    page.goto(f"{server.base_url}/owner/stations/{charge_point_id}")
    expect(page.get_by_role("heading", level=1, name=charge_point_id)).to_be_visible()
    expect(page.locator("#station-live .vs-pill").first).to_contain_text("Online",
                                                                          timeout=WAIT_MS)


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page is {width} px wide"


def test_an_owner_starts_a_session_on_a_plug_follows_it_live_and_stops_it(
        desktop, server, db, owner, charger_for, known_problems):  # noqa: F811 (fixtures)
    page = desktop
    charge_point_id, charger, _ = online_station(db, server, owner, charger_for)
    id_tag = owner_card(db, owner)
    signed_in(page, server, owner)
    open_station(page, server, charge_point_id)

    page.get_by_role("link", name="Start plug 1").click()
    expect(page.get_by_role("heading", name="Start charging on plug 1")).to_be_visible()
    page.get_by_label("Charge on").select_option(id_tag)
    check_screen(page, "owner-session-start", known_problems)
    page.get_by_role("button", name="Start charging").click()

    # The session's page follows it by itself: starting, then charging with energy.
    expect(page.get_by_role("heading", level=1, name=re.compile(r"^Session \d+"))
           ).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("Plug 1 is starting.")
    page.evaluate("window.__sameDocument = true")
    live = page.locator("#session-live")
    expect(live).to_have_attribute("data-status", "charging",
                                   timeout=SESSION_POLL_MS + WAIT_MS)
    expect(live.locator("h1 .vs-pill")).to_have_text("Charging")
    expect(live).to_contain_text("Depot van")
    expect(live.get_by_test_id("energy")).not_to_have_text("0.000 kWh",
                                                           timeout=SESSION_POLL_MS + WAIT_MS)
    assert page.evaluate("window.__sameDocument") is True, "the session page reloaded"

    # The board links the charging plug to this session, with who charges.
    session_url = page.url
    menu = page.get_by_role("navigation", name="Sites and stations")
    menu.get_by_role("link", name="Live board").click()
    expect(menu.get_by_role("link", name="Live board")).to_have_attribute("aria-current",
                                                                          "page")
    tile = page.locator(f'#board article[data-station="{charge_point_id}"]')
    expect(tile.locator('[data-plug="1"]')).to_contain_text("Depot van")
    check_screen(page, "owner-board-session", known_problems)
    tile.get_by_role("link", name=re.compile(r"^Plug 1 · Charging")).click()
    expect(page).to_have_url(session_url)
    tile_link = page.get_by_role("navigation", name="Sites and stations").get_by_role(
        "link", name="Sessions")
    expect(tile_link).to_have_attribute("aria-current", "true")

    # Its OCPP log is plug 1's conversation from the start: the remote start, the
    # transaction; not the boot, not the heartbeats, not plug 2.
    log = page.get_by_test_id("frames")
    expect(log).to_contain_text("RemoteStartTransaction")
    expect(log).to_contain_text("StartTransaction")
    for other in ("BootNotification", "Heartbeat", '"connectorId": 2', '"connectorId":2'):
        expect(log).not_to_contain_text(other)
    check_screen(page, "owner-session-live", known_problems)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Stop charging").click()
    expect(page.get_by_role("status").first).to_contain_text("The station was asked to stop")
    expect(page.locator("#session-live")).to_have_attribute(
        "data-status", "completed", timeout=SESSION_POLL_MS + WAIT_MS)
    expect(page.locator("#session-live h1 .vs-pill")).to_have_text("Done")
    expect(page.get_by_test_id("frames")).to_contain_text("StopTransaction")
    assert 1 not in charger.transactions
    check_screen(page, "owner-session-done", known_problems)


def test_on_a_phone_an_owner_starts_and_stops_a_plug_from_the_station_page(
        phone, server, db, owner, charger_for, known_problems):  # noqa: F811 (fixtures)
    page = phone
    charge_point_id, charger, _ = online_station(db, server, owner, charger_for)
    signed_in(page, server, owner)
    open_station(page, server, charge_point_id)
    no_sideways_scroll(page)
    check_screen(page, "owner-station", known_problems)

    page.get_by_role("link", name="Start plug 2").click()
    expect(page.get_by_label("Charge on")).to_have_value("")
    page.get_by_role("button", name="Start charging").click()
    live = page.locator("#session-live")
    expect(live).to_have_attribute("data-status", "charging",
                                   timeout=SESSION_POLL_MS + WAIT_MS)
    expect(live).to_contain_text("App driver")
    no_sideways_scroll(page)
    check_screen(page, "owner-session-live", known_problems)

    open_station(page, server, charge_point_id)
    row = page.locator('#station-live tr[data-plug="2"]')
    expect(row.get_by_role("link", name="Session on plug 2")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Stop plug 2").click()
    expect(page.get_by_role("status").first).to_contain_text("The station was asked to stop")
    expect(page.locator("#session-live")).to_have_attribute(
        "data-status", "completed", timeout=SESSION_POLL_MS + WAIT_MS)
    assert 2 not in charger.transactions


def test_on_a_phone_the_sessions_are_a_list_of_cards(phone, server, db, owner,
                                                     known_problems):  # noqa: F811 (fixture)
    place = make_place(db, owner_id=owner.id)
    station_id = next(iter(place.stations.values()))
    id_tag = owner_card(db, owner)
    with db.session() as session:
        for hour in range(9, 14):
            add_session(session, station_id, utc(2024, 5, 1, hour), minutes=40, id_tag=id_tag)
    signed_in(phone, server, owner)
    phone.goto(server.base_url + "/owner/sessions")
    rows = phone.locator("#sessions-table tbody tr")
    expect(rows).to_have_count(5)
    first = rows.first
    assert first.evaluate("(row) => getComputedStyle(row).display") == "block"
    for label, value in (("Driver", "Depot van"), ("Status", "Done"), ("Duration", "40 min")):
        cell = first.locator(f'td[data-label="{label}"]')
        expect(cell).to_contain_text(value)
        before = cell.evaluate("(cell) => getComputedStyle(cell, '::before').content")
        assert label in before, before
    box = first.bounding_box()
    assert box and box["width"] <= 390, box
    no_sideways_scroll(phone)
    check_screen(phone, "owner-sessions", known_problems)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_owner_reads_the_reliability_report_and_excludes_an_outage(
        request, device, server, db, owner, known_problems):  # noqa: F811 (fixture)
    page = request.getfixturevalue(device)
    place = make_place(db, owner_id=owner.id, timezone="UTC")
    charge_point_id, station_id = next(iter(place.stations.items()))
    with db.session() as session:
        add_event(session, station_id, utc(2024, 3, 1, 0), StationEventKind.CONNECTED)
        add_event(session, station_id, utc(2024, 3, 1, 6), StationEventKind.STATUS, 1,
                  ConnectorStatus.FAULTED)
        add_event(session, station_id, utc(2024, 3, 1, 12), StationEventKind.STATUS, 1,
                  ConnectorStatus.AVAILABLE)
    signed_in(page, server, owner)
    page.goto(f"{server.base_url}/owner/reports/reliability"
              "?period=custom&from=2024-03-01&to=2024-03-01")
    expect(page.get_by_role("link", name="Reliability")).to_have_attribute("aria-current",
                                                                           "page")
    row = page.locator(f'tr[data-plug="{charge_point_id}-1"]')
    expect(row.get_by_test_id("nevi-uptime")).to_have_text("75.00 %")
    no_sideways_scroll(page)
    check_screen(page, "owner-reliability", known_problems)

    outages = page.locator(f'details[data-outages="{charge_point_id}-1"]')
    outages.locator("summary").first.click()
    outage = outages.locator('[data-outage="1"]')
    expect(outage).to_contain_text("6 h 00 min")
    expect(outage).to_contain_text("Fault reported")
    outage.get_by_text("Exclude this outage").click()
    outage.get_by_label("Why").select_option("grid")
    outage.get_by_label("What happened").fill("Grid operator cut the supply")
    outage.get_by_role("button", name="Exclude").click()
    expect(page.get_by_role("status").first).to_contain_text("The outage is excluded")
    expect(page.locator(f'tr[data-plug="{charge_point_id}-1"]').get_by_test_id(
        "nevi-uptime")).to_have_text("100.00 %")
    no_sideways_scroll(page)


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_after_a_price_change_the_owner_is_told_which_printed_stickers_are_stale(
        request, device, server, db, owner, known_problems):  # noqa: F811 (fixture)
    page = request.getfixturevalue(device)
    site = make_site(db, owner.id, stations=1, plugs=2)
    tariff_id = make_tariff(db, owner.id)
    with db.session() as session:
        for pk in site.connector_ids:
            session.get(Connector, pk).tariff_id = tariff_id
    signed_in(page, server, owner)
    page.goto(f"{server.base_url}/owner/stickers?site={site.id}")
    expect(page.locator(".vs-sticker")).to_have_count(2)
    page.evaluate("window.print = () => { window.__printed = true; }")
    with page.expect_response(lambda r: r.url.endswith("/owner/stickers/printed")):
        page.get_by_role("button", name="Print").click()
    page.wait_for_function("window.__printed === true", timeout=WAIT_MS)

    with db.session() as session:
        session.get(Tariff, tariff_id).energy_price_per_kwh = 4500
    page.goto(f"{server.base_url}/owner/tariffs")
    notice = page.get_by_test_id("stale-stickers")
    expect(notice).to_contain_text(f"2 printed stickers at {site.name} now show an old price")
    for evse_id in site.evse_ids:
        expect(notice).to_contain_text(evse_id)
    no_sideways_scroll(page)
    check_screen(page, "owner-prices-stale-stickers", known_problems)
    notice.get_by_role("link", name="Print the new sheet").click()
    expect(page.get_by_role("heading", name=f"QR stickers · {site.name}")).to_be_visible()
    expect(page.locator(".vs-sticker").first).to_contain_text("€0.45/kWh")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_top_bar_search_finds_a_station_a_plug_and_a_receipt(
        request, device, server, db, owner, known_problems):  # noqa: F811 (fixture)
    page = request.getfixturevalue(device)
    site = make_site(db, owner.id, stations=2, plugs=2)
    with db.session() as session:
        station_id = session.scalar(select(Station.id).where(
            Station.charge_point_id == site.charge_point_ids[0]))
        session_id = add_session(session, station_id, utc(2024, 5, 1, 9)).id
    signed_in(page, server, owner)

    def search_for(text: str) -> None:
        """The top bar's search box; on a phone its button opens the search page."""
        if device == "phone":
            page.get_by_role("link", name="Search", exact=True).click()
            box = page.get_by_role("searchbox", name="Search for")
        else:
            box = page.get_by_role("searchbox",
                                   name="Search stations, plugs, cards and sessions")
        expect(box).to_be_visible()
        box.fill(text)
        box.press("Enter")

    no_sideways_scroll(page)
    search_for(site.evse_ids[3].replace("*", "-"))
    expect(page.get_by_role("heading", level=1, name=site.charge_point_ids[1])).to_be_visible()
    search_for(str(session_id))
    expect(page.get_by_role("heading", level=1, name=re.compile(f"^Session {session_id}"))
           ).to_be_visible()
    search_for("CP-")
    hits = page.get_by_test_id("hits")
    for cp in site.charge_point_ids:
        expect(hits.get_by_role("link", name=cp, exact=True)).to_be_visible()
    no_sideways_scroll(page)
    check_screen(page, "owner-search", known_problems)
