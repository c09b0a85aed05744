"""A driver's browser as the accounts tests need it (cookies kept, redirects not followed,
the page's CSRF token posted with each form) and signing in through the emailed link."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import requests
from playwright.sync_api import Page, expect

from tests.support.browser import axe_check, screenshot, touch_targets_ok
from tests.support.server import LiveServer, start_server
from tests.support.smtp_server import Inbox, link_in

WAIT_MS = 10_000
# What the account pages say, by browser locale, for browser tests in two languages.
ACCOUNT_WORDS = {
    "en-GB": {"account": "Sign in to see your sessions on every device",
              "email": "Email address", "send": "Email me a sign-in link",
              "check": "Check your email", "sign in": "Sign in", "signed in": "Signed in as",
              "kept": "In your account", "my sessions": "My sessions",
              "star": "Favourite",
              "favourites": "Your favourites", "download": "Download my data",
              "confirm delete": "Delete my account and my personal data",
              "delete": "Delete my account", "deleted": "Account deleted",
              "add passkey": "Add a passkey", "passkey": "Sign in with a passkey",
              "sign out": "Sign out", "remove": "Remove",
              "passkey refused": "This passkey did not sign you in."},
    "de-DE": {"account": "Anmelden, um Ihre Ladevorgänge auf jedem Gerät zu sehen",
              "email": "E-Mail-Adresse",
              "send": "Anmeldelink per E-Mail senden", "check": "Sehen Sie in Ihre E-Mails",
              "sign in": "Anmelden", "signed in": "Angemeldet als", "kept": "In Ihrem Konto",
              "my sessions": "Meine Ladevorgänge",
              "star": "Favorit",
              "favourites": "Ihre Favoriten", "download": "Meine Daten herunterladen",
              "confirm delete": "Mein Konto und meine persönlichen Daten löschen",
              "delete": "Mein Konto löschen", "deleted": "Konto gelöscht",
              "add passkey": "Passkey hinzufügen", "passkey": "Mit Passkey anmelden",
              "sign out": "Abmelden", "remove": "Entfernen",
              "passkey refused": "Dieser Passkey hat Sie nicht angemeldet."},
}


def start_mail_server(database_url: str, inbox: Inbox, log_dir: Path,
                      **settings: str) -> LiveServer:
    """A live server that sends its mail to ``inbox`` and trusts one proxy's
    X-Forwarded-For (so each test is a client of its own); ``settings`` as
    :func:`~tests.support.server.start_server` takes them."""
    return start_server(database_url, log_dir / "server.log", smtp_host=inbox.host,
                        smtp_port=str(inbox.port), smtp_from="Voltspot <charge@example.org>",
                        proxies="1", **settings)


def new_email() -> str:
    """An email address no test used before."""
    return f"driver-{uuid.uuid4().hex[:10]}@example.org"


def new_client() -> str:
    """A client address (for X-Forwarded-For) that is most likely no other test's."""
    return f"198.51.{uuid.uuid4().int % 250 + 1}.{uuid.uuid4().int % 250 + 1}"


class Browser:
    """One device: its own cookies; ``address`` is sent as X-Forwarded-For (the server
    under test trusts one proxy), so each test is its own client for the throttles."""

    def __init__(self, server, address: str = "203.0.113.1", language: str = "en") -> None:
        self.server = server
        self.http = requests.Session()
        self.http.headers.update({"X-Forwarded-For": address, "Accept-Language": language})
        self.csrf = ""

    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.server.base_url + path

    def get(self, path: str) -> requests.Response:
        response = self.http.get(self.url(path), allow_redirects=False, timeout=20)
        if match := re.search(r'name="csrf_token" value="([^"]+)"', response.text):
            self.csrf = match[1]
        return response

    def post(self, path: str, form: dict[str, str] | None = None, *,
             csrf: bool = True) -> requests.Response:
        data = dict(form or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf)
        response = self.http.post(self.url(path), data=data, allow_redirects=False,
                                  timeout=20)
        if match := re.search(r'name="csrf_token" value="([^"]+)"', response.text):
            self.csrf = match[1]
        return response

    def ask_for_link(self, email: str) -> requests.Response:
        self.get("/account")
        return self.post("/account/sign-in", {"email": email})

    def sign_in(self, inbox: Inbox, email: str, device_sessions: list[str] = ()) -> None:
        """Ask for a link, follow it from the received mail and press Sign in."""
        before = len(inbox.to(email))
        assert self.ask_for_link(email).status_code == 200
        mail = inbox.wait_for(email, before + 1)[-1]
        confirm = self.get(link_in(mail))
        assert confirm.status_code == 200, confirm.text
        done = self.post(link_in(mail), {"device_sessions": " ".join(device_sessions)})
        assert done.status_code == 303, done.text


def browser_sign_in(page: Page, server: LiveServer, inbox: Inbox, email: str, words: dict,
                    shots: str | None = None) -> None:
    """Sign in on ``page`` as a driver does: My sessions, the sign-in link there, email,
    the link from the mail, the button (``words``: one language's of :data:`ACCOUNT_WORDS`;
    ``shots``: screenshot name prefix, with axe and touch-target checks)."""
    page.goto(server.base_url + "/")
    page.get_by_role("link", name=words["my sessions"]).first.click()
    page.get_by_role("link", name=words["account"]).click()
    page.get_by_label(words["email"]).fill(email)
    if shots:
        screenshot(page, f"{shots}-sign-in")
        axe_check(page)
        touch_targets_ok(page)
    before = len(inbox.to(email))
    page.get_by_role("button", name=words["send"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["check"], timeout=WAIT_MS)
    if shots:
        screenshot(page, f"{shots}-check-email")
        axe_check(page)
    page.goto(link_in(inbox.wait_for(email, before + 1)[-1]))
    if shots:
        screenshot(page, f"{shots}-confirm")
        axe_check(page)
        touch_targets_ok(page)
    page.get_by_role("main").get_by_role("button", name=words["sign in"]).click()
    expect(page.get_by_role("main")).to_contain_text(f"{words['signed in']} {email}",
                                                    timeout=WAIT_MS)
