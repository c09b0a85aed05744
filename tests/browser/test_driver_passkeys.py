"""Passkeys on a phone (390x844), in English and German, with Chromium's virtual
authenticator (DevTools WebAuthn domain): a signed-in driver adds a passkey on the account
page, signs out, and signs in again with the passkey alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

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

WAIT_MS = 10_000


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_server() as received:
        yield received


@pytest.fixture(scope="module")
def mail_server(database_url, inbox, tmp_path_factory) -> Iterator[LiveServer]:
    # Browsers refuse passkeys on an IP address: the server is "localhost" to them.
    live = start_mail_server(database_url, inbox, tmp_path_factory.mktemp("logs"),
                             public_host="localhost", driver_link_emails_per_client="100000")
    yield live
    stop_server(live)


def virtual_authenticator(page: Page) -> tuple[object, str]:
    """A platform authenticator with user verification (a phone's fingerprint reader),
    attached to ``page`` through DevTools; returns the session and its id."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True,
        "automaticPresenceSimulation": True}})
    return cdp, added["authenticatorId"]


@pytest.mark.parametrize("locale", list(ACCOUNT_WORDS))
def test_a_driver_adds_a_passkey_and_signs_in_with_it(browser: Browser, mail_server, inbox,
                                                       locale):
    words = ACCOUNT_WORDS[locale]
    email = new_email()
    with another_page(browser, locale=locale) as phone:
        violations = csp_violations(phone)
        cdp, authenticator = virtual_authenticator(phone)
        browser_sign_in(phone, mail_server, inbox, email, words)
        phone.get_by_role("button", name=words["add passkey"]).click()
        expect(phone.get_by_test_id("passkeys").get_by_role("listitem")).to_have_count(
            1, timeout=WAIT_MS)
        [credential] = cdp.send("WebAuthn.getCredentials",
                                {"authenticatorId": authenticator})["credentials"]
        assert credential["isResidentCredential"] and credential["rpId"] == "localhost"
        screenshot(phone, f"account-passkey-added-{locale}", full_page=True)
        axe_check(phone)
        touch_targets_ok(phone)
        phone.get_by_role("button", name=words["sign out"]).click()
        passkey = phone.get_by_role("button", name=words["passkey"])
        expect(passkey).to_be_visible(timeout=WAIT_MS)
        screenshot(phone, f"account-passkey-sign-in-{locale}")
        axe_check(phone)
        touch_targets_ok(phone)
        passkey.click()
        expect(phone.get_by_role("main")).to_contain_text(f"{words['signed in']} {email}",
                                                         timeout=WAIT_MS)
        [used] = cdp.send("WebAuthn.getCredentials",
                          {"authenticatorId": authenticator})["credentials"]
        assert used["signCount"] > credential["signCount"]
        # Removed from the account, the passkey signs nobody in any more.
        phone.get_by_test_id("passkeys").get_by_role("button", name=words["remove"]).click()
        expect(phone.get_by_test_id("passkeys")).to_have_count(0, timeout=WAIT_MS)
        phone.get_by_role("button", name=words["sign out"]).click()
        phone.get_by_role("button", name=words["passkey"]).click()
        expect(phone.get_by_role("status").filter(has_text=words["passkey refused"])
               ).to_be_visible(timeout=WAIT_MS)
        assert violations == []


def test_a_passkey_of_another_site_signs_nobody_in(browser: Browser, mail_server):
    with another_page(browser) as phone:
        cdp, authenticator = virtual_authenticator(phone)
        phone.goto(mail_server.base_url + "/account")
        expect(phone.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
        # The authenticator holds no passkey for this site: the browser finds none.
        phone.get_by_role("button", name="Sign in with a passkey").click()
        expect(phone.get_by_role("status").filter(has_text="No passkey signed you in")
               ).to_be_visible(timeout=WAIT_MS)
        assert "Signed in as" not in phone.content()
        assert cdp.send("WebAuthn.getCredentials",
                        {"authenticatorId": authenticator})["credentials"] == []
