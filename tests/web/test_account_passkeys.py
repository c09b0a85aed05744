"""The passkey endpoints refuse what is not a passkey ceremony of ours: no challenge
asked for, an unknown or forged credential, no sign-in, no CSRF token. (The ceremonies
themselves run in Chromium with a virtual authenticator: tests/browser/
test_driver_passkeys.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.driver_account import Browser, new_client, new_email, start_mail_server
from tests.support.server import LiveServer, stop_server
from tests.support.smtp_server import Inbox, smtp_server

FORGED = {"id": "AAAA", "rawId": "AAAA", "type": "public-key",
          "response": {"clientDataJSON": "e30", "authenticatorData": "AAAA",
                       "signature": "AAAA"}, "clientExtensionResults": {}}


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_server() as received:
        yield received


@pytest.fixture(scope="module")
def mail_server(database_url, inbox, tmp_path_factory) -> Iterator[LiveServer]:
    live = start_mail_server(database_url, inbox, tmp_path_factory.mktemp("logs"),
                             public_host="localhost")
    yield live
    stop_server(live)


def _json(browser: Browser, path: str, body: dict | None = None, csrf: bool = True):
    headers = {"X-CSRFToken": browser.csrf} if csrf else {}
    return browser.http.post(browser.url(path), json=body or {}, headers=headers,
                             allow_redirects=False, timeout=20)


def test_sign_in_options_name_this_site_and_ask_for_a_passkey(mail_server):
    browser = Browser(mail_server, new_client())
    browser.get("/account")
    options = _json(browser, "/account/passkey-sign-in/options").json()
    assert options["rpId"] == "localhost"
    assert len(options["challenge"]) >= 43 and options["userVerification"] == "preferred"


def test_an_answer_without_a_challenge_asked_for_is_refused(mail_server):
    browser = Browser(mail_server, new_client())
    browser.get("/account")
    answer = _json(browser, "/account/passkey-sign-in", {"credential": FORGED})
    assert answer.status_code == 400 and answer.json()["error"] == \
        "This took too long. Try again."


def test_an_unknown_passkey_signs_nobody_in(mail_server):
    browser = Browser(mail_server, new_client())
    browser.get("/account")
    _json(browser, "/account/passkey-sign-in/options")
    answer = _json(browser, "/account/passkey-sign-in", {"credential": FORGED})
    assert answer.status_code == 401
    assert answer.json()["error"].startswith("This passkey did not sign you in.")
    assert "voltspot_driver" not in answer.headers.get("Set-Cookie", "")
    # The challenge was used up by the failed try.
    again = _json(browser, "/account/passkey-sign-in", {"credential": FORGED})
    assert again.status_code == 400


def test_only_a_signed_in_driver_can_add_a_passkey(mail_server):
    browser = Browser(mail_server, new_client())
    browser.get("/account")
    assert _json(browser, "/account/passkeys/options").status_code == 401
    assert _json(browser, "/account/passkeys", {"credential": FORGED}).status_code == 400


def test_a_forged_registration_is_refused(mail_server, inbox):
    browser = Browser(mail_server, new_client())
    browser.sign_in(inbox, new_email())
    browser.get("/account")
    options = _json(browser, "/account/passkeys/options").json()
    assert options["rp"] == {"id": "localhost", "name": "Voltspot"}
    assert options["authenticatorSelection"]["residentKey"] == "required"
    forged = {**FORGED, "response": {"clientDataJSON": "e30", "attestationObject": "AAAA"}}
    answer = _json(browser, "/account/passkeys", {"credential": forged})
    assert answer.status_code == 400
    assert answer.json()["error"] == "This passkey could not be checked. Try again."
    assert 'data-testid="passkeys"' not in browser.get("/account").text


def test_the_passkey_endpoints_need_the_csrf_token(mail_server):
    browser = Browser(mail_server, new_client())
    browser.get("/account")
    assert _json(browser, "/account/passkey-sign-in/options", csrf=False).status_code == 400
