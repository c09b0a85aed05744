"""The driver's pages in a real browser: the screen checks every driver screen passes and
the steps most journeys share (open a plug, tap Start, read the kWh)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from tests.support.browser import axe_check, screenshot, touch_targets_ok
from voltspot.models import ChargingSession, Station

WAIT_MS = 10_000  # the longest any single step may take before the test fails


def check_screen(page: Page, name: str) -> None:
    """What every screen must pass: a screenshot to look at, axe-core with no serious or
    critical finding, thumb-sized touch targets."""
    screenshot(page, name)
    axe_check(page)
    touch_targets_ok(page)


def cents(money: str) -> int:
    """ "€8.15" -> 815."""
    match = re.fullmatch(r"€(\d+)\.(\d\d)", money.strip())
    assert match, f"not an amount in euros: {money!r}"
    return int(match[1]) * 100 + int(match[2])


def kwh(page: Page) -> float:
    return float(page.get_by_test_id("energy").inner_text().split()[0])


def sessions_at(db, charge_point_id: str) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(ChargingSession.id)).join(Station).where(
            Station.charge_point_id == charge_point_id))


def open_plug(page: Page, server, evse: str) -> None:
    page.goto(f"{server.base_url}/c/{evse}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Plug")


def tap_start(page: Page) -> None:
    page.get_by_role("button", name="Start charging").click()


def start_charging(page: Page, server, evse: str) -> str:
    """Open the plug page, tap Start and land on the session page; returns its token."""
    open_plug(page, server, evse)
    tap_start(page)
    page.wait_for_url(re.compile(r"/sessions/[^/]+$"), timeout=WAIT_MS)
    return page.url.rsplit("/", 1)[-1]
