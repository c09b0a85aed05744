"""A driver's account in the browser on a phone (390x844), in English and German: the
sign-in link from a real mail, the sessions the phone started going into the account, and
"My sessions" on another device; each screen axe-clean and photographed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from tests.factories import add_session
from tests.support.browser import (
    another_page,
    axe_check,
    csp_violations,
    screenshot,
    touch_targets_ok,
)
from tests.support.driver_account import (
    ACCOUNT_WORDS,
    browser_sign_in,
    new_email,
    start_mail_server,
)
from tests.support.server import LiveServer, stop_server
from tests.support.smtp_server import Inbox, smtp_server
from voltspot.domain.pricing import TariffTerms
from voltspot.domain.statuses import PaymentState
from voltspot.models import Station

WAIT_MS = 10_000
WORDS = ACCOUNT_WORDS


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_server() as received:
        yield received


@pytest.fixture(scope="module")
def mail_server(database_url, inbox, tmp_path_factory) -> Iterator[LiveServer]:
    # Every browser request comes from 127.0.0.1: the per-client limit has its own test.
    live = start_mail_server(database_url, inbox, tmp_path_factory.mktemp("logs"),
                             driver_link_emails_per_client="100000")
    yield live
    stop_server(live)


def _finished_session(db, station) -> str:
    """A paid session on the station's first plug; its token."""
    with db.session() as session:
        stored = session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id))
        charging = add_session(session, stored.id, datetime.now(UTC) - timedelta(hours=1),
                               cost=815, currency="EUR", payment_state=PaymentState.CAPTURED)
        charging.connector_pk = min(stored.connectors, key=lambda c: c.connector_id).id
        charging.price = TariffTerms(currency="EUR", vat_rate_basis_points=2100,
                                     energy_price_per_kwh=3900, hold_amount=5000).to_dict()
        charging.amount_captured, charging.hold_amount = 815, 5000
        return charging.token


@pytest.mark.parametrize("locale", list(WORDS))
def test_a_driver_signs_in_by_email_and_keeps_the_phones_sessions_on_every_device(
        browser: Browser, mail_server, inbox, db, station, locale):
    words = WORDS[locale]
    token = _finished_session(db, station)
    with another_page(browser, locale=locale) as page:
        violations = csp_violations(page)
        # The phone opened the session, so it remembers it as its own ("My sessions").
        page.goto(f"{mail_server.base_url}/sessions/{token}")
        expect(page.locator("[data-vs-remember-session]")).to_have_count(1)
        email = new_email()
        browser_sign_in(page, mail_server, inbox, email, words, shots=f"account-{locale}")
        screenshot(page, f"account-{locale}-page", full_page=True)
        axe_check(page)
        touch_targets_ok(page)
        assert violations == []
    with another_page(browser, locale=locale) as laptop:
        browser_sign_in(laptop, mail_server, inbox, email, words)
        laptop.get_by_role("link", name=words["my sessions"]).first.click()
        kept = laptop.get_by_test_id("account-sessions")
        expect(kept.locator(f'a[href="/sessions/{token}"]')).to_be_visible(timeout=WAIT_MS)
        expect(laptop.get_by_role("heading", name=words["kept"])).to_be_visible()
        screenshot(laptop, f"my-sessions-account-{locale}")
        axe_check(laptop)
        touch_targets_ok(laptop)


@pytest.mark.parametrize("locale", list(WORDS))
def test_a_starred_site_comes_first_in_find_a_spot(browser: Browser, mail_server, inbox, db,
                                                    station, locale):
    words = WORDS[locale]
    with db.session() as session:
        site_id = session.scalar(select(Station.site_id).where(
            Station.charge_point_id == station.charge_point_id))
    with another_page(browser, locale=locale) as phone:
        violations = csp_violations(phone)
        browser_sign_in(phone, mail_server, inbox, new_email(), words)
        phone.goto(f"{mail_server.base_url}/sites/{site_id}")
        star = phone.get_by_role("button", name=words["star"], exact=True)
        expect(star).to_have_attribute("aria-pressed", "false")
        star.click()
        expect(star).to_have_attribute("aria-pressed", "true", timeout=WAIT_MS)
        screenshot(phone, f"site-starred-{locale}")
        axe_check(phone)
        touch_targets_ok(phone)
        phone.goto(mail_server.base_url + "/")
        favourites = phone.get_by_test_id("favourite-sites")
        expect(favourites.get_by_role("link")).to_have_attribute("href", f"/sites/{site_id}")
        expect(phone.get_by_role("heading", name=words["favourites"])).to_be_in_viewport()
        screenshot(phone, f"find-spot-favourites-{locale}")
        axe_check(phone)
        touch_targets_ok(phone)
        assert violations == []


@pytest.mark.parametrize("locale", list(WORDS))
def test_a_driver_downloads_their_data_and_deletes_the_account(browser: Browser, mail_server,
                                                                inbox, locale):
    words = WORDS[locale]
    email = new_email()
    with another_page(browser, locale=locale) as phone:
        violations = csp_violations(phone)
        browser_sign_in(phone, mail_server, inbox, email, words)
        with phone.expect_download() as download:
            phone.get_by_role("link", name=words["download"]).click()
        data = json.loads(Path(download.value.path()).read_text())
        assert data["account"]["email"] == email
        assert download.value.suggested_filename == "voltspot-my-data.json"
        phone.get_by_label(words["confirm delete"]).check()
        phone.get_by_role("button", name=words["delete"], exact=True).click()
        expect(phone.get_by_role("heading", level=1)).to_have_text(words["deleted"],
                                                                  timeout=WAIT_MS)
        screenshot(phone, f"account-deleted-{locale}")
        axe_check(phone)
        touch_targets_ok(phone)
        phone.goto(mail_server.base_url + "/account")
        expect(phone.get_by_label(words["email"])).to_be_visible()
        assert violations == []
