"""Drivers sign in with a link emailed through a real SMTP server: it works once, expires,
is limited per address and per client, and leaves the owner's sign-in alone. Charging
needs none of it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from tests.support.driver_account import Browser, new_client, new_email, start_mail_server
from tests.support.server import LiveServer, stop_server
from tests.support.smtp_server import Inbox, body, link_in, smtp_server
from voltspot.models import DriverAccount, DriverSignInLink, utcnow


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_server() as received:
        yield received


@pytest.fixture(scope="module")
def mail_server(database_url, inbox, tmp_path_factory) -> Iterator[LiveServer]:
    live = start_mail_server(database_url, inbox, tmp_path_factory.mktemp("logs"),
                             driver_link_emails_per_client="4")
    yield live
    stop_server(live)


def test_the_emailed_link_signs_the_driver_in(mail_server, inbox, db):
    email = new_email()
    browser = Browser(mail_server, new_client())
    asked = browser.ask_for_link(email)
    assert asked.status_code == 200 and f"We sent a sign-in link to {email}" in asked.text
    [mail] = inbox.wait_for(email)
    assert mail["From"] == "Voltspot <charge@example.org>"
    assert mail["Subject"] == "Your Voltspot sign-in link"
    link = link_in(mail)
    assert link.startswith(mail_server.base_url + "/account/link/")
    confirm = browser.get(link)
    assert confirm.status_code == 200 and f"Sign in as {email}?" in confirm.text
    signed_in = browser.post(link)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/account"
    cookie = signed_in.headers["Set-Cookie"]
    assert cookie.startswith("voltspot_driver=") and "HttpOnly" in cookie
    page = browser.get("/account")
    assert page.status_code == 200 and f"Signed in as {email}." in page.text
    assert page.headers["Cache-Control"] == "no-store"
    with db.session() as session:
        assert session.scalar(select(DriverAccount.email).where(
            DriverAccount.email == email)) == email


def test_opening_the_link_alone_does_not_use_it_up(mail_server, inbox):
    email = new_email()
    browser = Browser(mail_server, new_client())
    browser.ask_for_link(email)
    link = link_in(inbox.wait_for(email)[0])
    assert browser.get(link).status_code == 200
    assert browser.get(link).status_code == 200
    assert browser.post(link).status_code == 303


def test_a_sign_in_link_works_once(mail_server, inbox):
    email = new_email()
    first, second = Browser(mail_server, new_client()), Browser(mail_server, new_client())
    first.ask_for_link(email)
    link = link_in(inbox.wait_for(email)[0])
    second.get(link)
    assert first.get(link).status_code == 200
    assert first.post(link).status_code == 303
    again = second.post(link)
    assert again.status_code == 410
    assert "This sign-in link has expired or was used already" in again.text
    assert second.get("/account").text.count("Signed in as") == 0


def test_an_expired_link_signs_nobody_in(mail_server, inbox, db):
    email = new_email()
    browser = Browser(mail_server, new_client())
    browser.ask_for_link(email)
    link = link_in(inbox.wait_for(email)[0])
    with db.session() as session:
        session.execute(update(DriverSignInLink).where(DriverSignInLink.email == email)
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert browser.get(link).status_code == 410
    assert browser.post(link).status_code == 410
    assert "Signed in as" not in browser.get("/account").text


def test_the_mail_says_how_long_the_link_works_and_what_to_do_if_unasked(mail_server, inbox):
    email = new_email()
    Browser(mail_server, new_client()).ask_for_link(email)
    text = body(inbox.wait_for(email)[0])
    assert "It works once, for 15 minutes" in text
    assert "If you did not ask to sign in, ignore this email" in text


def test_links_to_one_address_are_limited(mail_server, inbox):
    email = new_email()
    answers = [Browser(mail_server, new_client()).ask_for_link(email) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert "Too many sign-in emails were asked for" in answers[-1].text
    inbox.wait_for(email, 3)
    assert len(inbox.to(email)) == 3


def test_links_asked_for_by_one_client_are_limited(mail_server, inbox):
    browser = Browser(mail_server, new_client())
    answers = [browser.ask_for_link(new_email()).status_code for _ in range(5)]
    assert answers == [200, 200, 200, 200, 429]


def test_something_that_is_not_an_email_is_refused(mail_server):
    answer = Browser(mail_server, new_client()).ask_for_link("not an address")
    assert answer.status_code == 400 and "is not an email address" in answer.text


def test_the_form_needs_its_csrf_token(mail_server, inbox):
    email = new_email()
    browser = Browser(mail_server, new_client())
    browser.get("/account")
    assert browser.post("/account/sign-in", {"email": email}, csrf=False).status_code == 400
    assert inbox.to(email) == []


def test_signing_out_ends_the_sign_in_for_good(mail_server, inbox):
    email = new_email()
    browser = Browser(mail_server, new_client())
    browser.sign_in(inbox, email)
    stolen = browser.http.cookies.get("voltspot_driver")
    page = browser.get("/account")
    assert f"Signed in as {email}." in page.text
    assert browser.post("/account/sign-out").status_code == 303
    assert "Signed in as" not in browser.get("/account").text
    copy = Browser(mail_server, new_client())
    copy.http.cookies.set("voltspot_driver", stolen)
    assert "Signed in as" not in copy.get("/account").text


def test_the_owner_sign_in_and_the_driver_sign_in_are_separate_cookies(mail_server, inbox):
    browser = Browser(mail_server, new_client())
    browser.sign_in(inbox, new_email())
    assert browser.http.cookies.get("voltspot_driver")
    # The owner's sign-out clears the owner's session cookie only.
    browser.get("/owner/login")
    browser.post("/owner/logout")
    assert "Signed in as" in browser.get("/account").text


def test_without_an_smtp_server_the_link_is_written_to_the_log(server):
    email = new_email()
    browser = Browser(server)
    assert browser.ask_for_link(email).status_code == 200
    logged = re.search(rf"To: {re.escape(email)}.*?(http://\S+/account/link/\S+)",
                       server.log(), re.S)
    assert logged, server.log()[-2000:]
    browser.get(logged[1])
    assert browser.post(logged[1]).status_code == 303
    assert f"Signed in as {email}." in browser.get("/account").text


def test_charging_pages_need_no_account(mail_server):
    browser = Browser(mail_server, new_client())
    for path in ("/", "/scan", "/my-sessions"):
        answer = browser.get(path)
        assert answer.status_code == 200, path
        assert "voltspot_driver" not in answer.headers.get("Set-Cookie", "")


def test_signing_in_to_another_account_ends_the_browsers_first_sign_in(mail_server, inbox):
    browser = Browser(mail_server, new_client())
    browser.sign_in(inbox, new_email())
    first = browser.http.cookies.get("voltspot_driver")
    second_email = new_email()
    browser.sign_in(inbox, second_email)
    assert f"Signed in as {second_email}." in browser.get("/account").text
    copy = Browser(mail_server, new_client())
    copy.http.cookies.set("voltspot_driver", first)
    assert "Signed in as" not in copy.get("/account").text


def test_the_accounts_emails_follow_the_language_the_driver_reads_the_app_in(
        mail_server, inbox, db):
    email = new_email()
    browser = Browser(mail_server, new_client())
    browser.sign_in(inbox, email)
    browser.http.headers["Accept-Language"] = "nl"
    assert "Ingelogd als" in browser.get("/account").text
    with db.session() as session:
        assert session.scalar(select(DriverAccount.language).where(
            DriverAccount.email == email)) == "nl"


def test_a_mail_server_that_refuses_is_told_to_the_driver(mail_server, inbox):
    email = new_email()
    inbox.refuse = 1
    answer = Browser(mail_server, new_client()).ask_for_link(email)
    assert answer.status_code == 503
    assert "We could not send the email just now. Try again in a few minutes." in answer.text
    assert inbox.to(email) == []
