"""The Content-Security-Policy in a real browser: every page of the driver app and the owner
page loads, and boosted navigations run, without one violation (the page fixtures fail
their test on any violation Chromium reports on the console); and that check does catch
one."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page

from tests.factories import make_owner
from tests.support.browser import csp_violations
from tests.support.owner import PASSWORD
from voltspot.models import Site, Station

WAIT_MS = 10_000


@pytest.fixture
def owned_station(db, station):
    """An owner whose site holds ``station``."""
    owner = make_owner(db)
    with db.session() as session:
        stored = session.query(Station).filter_by(
            charge_point_id=station.charge_point_id).one()
        site = Site(name=f"CSP site {uuid.uuid4().hex[:6]}", owner_id=owner.id)
        session.add(site)
        session.flush()
        stored.site_id = site.id
        evse = stored.connectors[0].evse_id.replace("*", "-")
        return owner, station.charge_point_id, site.id, evse


def visit(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle", timeout=WAIT_MS)


def test_the_driver_pages_break_no_policy(phone, server, owned_station):
    _, _, site_id, evse = owned_station
    for path in ("/", "/scan", "/my-sessions", f"/sites/{site_id}", f"/c/{evse}",
                 "/offline", "/no-such-page"):
        visit(phone, server.base_url + path)
    # A boosted navigation runs the next page's scripts inside this one.
    visit(phone, server.base_url + "/")
    phone.locator("a[href='/my-sessions']").first.click()
    phone.wait_for_url("**/my-sessions", timeout=WAIT_MS)


def test_the_owner_pages_break_no_policy(desktop, server, owned_station):
    owner, charge_point_id, site_id, _ = owned_station
    visit(desktop, server.base_url + "/owner/login")
    desktop.fill("#email", owner.email)
    desktop.fill("#password", PASSWORD)
    desktop.get_by_role("button", name="Sign in").click()
    desktop.wait_for_url("**/owner/", timeout=WAIT_MS)
    for path in ("/owner/", f"/owner/sites/{site_id}", f"/owner/stations/{charge_point_id}",
                 "/owner/stations/new", "/owner/sites/new", "/owner/tariffs",
                 "/owner/tariffs/new", "/owner/cards", "/owner/cards/new", "/owner/sessions",
                 "/owner/reports", "/owner/reports/utilisation", "/owner/reports/uptime",
                 "/owner/stickers"):
        visit(desktop, server.base_url + path)
    # The tariff editor's currency picker runs its (now external) script.
    visit(desktop, server.base_url + "/owner/tariffs/new")
    currency = desktop.locator("#field-currency")
    if currency.count():
        currency.select_option(index=1)


def test_an_inline_script_is_refused_and_reported(browser, server):
    context = browser.new_context()
    try:
        page = context.new_page()
        violations = csp_violations(page)
        visit(page, server.base_url + "/")
        page.evaluate("""() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.appendChild(script);
        }""")
        page.wait_for_timeout(200)
        assert page.evaluate("() => window.injected === undefined")
        assert violations and "inline script" in violations[0]
    finally:
        context.close()
