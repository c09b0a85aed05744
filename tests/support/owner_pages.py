"""The owner's pages in a real browser: signing in, the board, adding a station, the
screen checks every owner screen passes, and starting simulated chargers for a test.

Page problems already reported and not yet fixed are listed in ``KNOWN_PAGE_PROBLEMS``
(for screen checks): the run stays green, and each entry fails the run once its problem is
gone (the ``known_problems`` fixture in tests/browser/conftest.py), so it is removed with
the fix."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.factories import OwnerAccount
from tests.support.browser import axe_check, screenshot, touch_targets_ok
from tests.support.owner import PASSWORD
from voltspot.services.owner import sites
from voltspot.services.owner.accounts import Viewer
from voltspot.services.owner.cards import Billing, CardDetails, register_card

WAIT_MS = 10_000  # the longest any single step may take before the test fails
BOARD_POLL_MS = 5_000  # _board.html: hx-trigger="every 5s"
A4_POINTS = (595.28, 841.89)  # 210 x 297 mm in PDF points

# Screen-check findings (an item line of axe_check's or touch_targets_ok's report, matched
# by regular expression) known per screen, each with the fix it waits for.
KNOWN_PAGE_PROBLEMS: dict[str, dict[str, str]] = {}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


_ANIMATIONS_DONE = """() => document.getAnimations()
  .every((animation) => animation.playState !== "running")"""


def check_screen(page: Page, name: str, known=None) -> None:
    """A screenshot to look at, axe-core with no serious or critical finding, thumb-sized
    targets; findings listed in KNOWN_PAGE_PROBLEMS for this screen are tolerated.

    It waits for the screen to be still first: a button the pointer rests on after a click
    is mid-way through Bootstrap's 0.15 s colour transition, and axe would measure the
    contrast of that passing blend."""
    page.wait_for_function(_ANIMATIONS_DONE, timeout=2_000)
    screenshot(page, name)
    patterns = KNOWN_PAGE_PROBLEMS.get(name, {})
    if known is not None:
        known[1].add(name)
    for check in (axe_check, touch_targets_ok):
        try:
            check(page)
        except pytest.fail.Exception as failure:
            report = str(failure)
            items = [line for line in report.splitlines() if line.startswith("- ")]
            unknown = []
            for item in items:
                matched = [p for p in patterns if re.search(p, item)]
                if not matched or known is None:
                    unknown.append(item)
                for pattern in matched:
                    if known is not None:
                        known[0].add((name, pattern))
            if unknown or not items:
                raise


def owner_site(db, owner: OwnerAccount, name: str) -> int:
    """A site of ``owner``'s, made as the site form makes it (the desktop journey covers
    the form itself)."""
    form = {**sites.site_form_values(), "name": name, "address": "Damrak 1",
            "city": "Amsterdam", "help_phone": "+31 20 123 4567"}
    return sites.create_site(db, Viewer(owner.id, False), form).id


def owner_card(db, owner: OwnerAccount) -> str:
    """An RFID card of ``owner``'s, invoiced later (so its sessions are priced); its idTag."""
    id_tag = unique("CARD").upper()
    register_card(db, Viewer(owner.id, False), id_tag,
                  CardDetails(holder_name="Depot van", billing=Billing.INVOICE))
    return id_tag


def open_sign_in(page: Page, server) -> None:
    """Open the owner page signed out and land on the sign-in form."""
    page.goto(server.base_url + "/owner/")
    expect(page).to_have_url(re.compile(r"/owner/login$"))
    expect(page.get_by_role("heading", name="Sign in to your charging sites")).to_be_visible()


def sign_in(page: Page, owner: OwnerAccount, password: str = PASSWORD) -> None:
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def signed_in(page: Page, server, owner: OwnerAccount) -> None:
    open_sign_in(page, server)
    sign_in(page, owner)
    expect(page.get_by_role("heading", name="Live board")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/owner/$"))


def sidebar(page: Page):
    return page.get_by_role("navigation", name="Sites and stations")


def open_menu(page: Page):
    """Open the sidebar folded behind the top bar's Menu button (a phone) and return it."""
    button = page.get_by_role("button", name="Menu")
    expect(button).to_have_attribute("aria-expanded", "false")
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    menu = sidebar(page)
    expect(menu).to_be_visible()
    return menu


def add_station(page: Page, charge_point_id: str, plugs: int = 2) -> dict[str, str]:
    """Fill and send the add-station form on screen; return what the credentials page
    shows: the OCPP URL, the charge point id and the password."""
    expect(page.get_by_role("heading", name="Add a station")).to_be_visible()
    page.get_by_label("Charge point id").fill(charge_point_id)
    page.get_by_label("Number of plugs").fill(str(plugs))
    page.get_by_label("Most power per plug (kW)").fill("22")
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith("/owner/stations/new")) as answer:
        page.get_by_role("button", name="Add station").click()
    # The password is shown this once: no cache, no back-button copy.
    assert "no-store" in (answer.value.headers.get("cache-control") or "")
    expect(page.get_by_role("heading", name=f"{charge_point_id} is added")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Copy the password now.")
    shown = {key: page.get_by_test_id(key).inner_text().strip()
             for key in ("ocpp-url", "charge-point-id", "password")}
    assert shown["charge-point-id"] == charge_point_id
    assert 16 <= len(shown["password"]) <= 40, shown
    return shown


def station_card(page: Page, charge_point_id: str):
    return page.locator(f'#board article[data-station="{charge_point_id}"]')


def expect_online_by_itself(page: Page, charge_point_id: str) -> None:
    """The board's tile of the station turns Online within a poll or two, without a
    reload of the page."""
    card = station_card(page, charge_point_id)
    expect(card.locator(".vs-pill")).to_have_text(re.compile(r"^\s*Online\s*$"),
                                                  timeout=BOARD_POLL_MS + WAIT_MS)
    assert page.evaluate("window.__sameDocument") is True, "the board reloaded"


def on_loop(loop: asyncio.AbstractEventLoop, coroutine, timeout: float = 10):
    """Run ``coroutine`` on the simulator's loop and wait (bounded) for its result."""
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout)


def check_print(page: Page) -> None:
    """The sticker sheet as Chromium prints it: a PDF of A4 pages, one per sheet."""
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes, "the PDF has no pages"
    for width, height in boxes:
        assert abs(float(width) - A4_POINTS[0]) < 1 and abs(float(height) - A4_POINTS[1]) < 1, (
            f"a printed page is {width!r} x {height!r} pt, not A4")
    assert len(boxes) == 1, f"two stickers fit one A4 sheet, but {len(boxes)} pages print"
