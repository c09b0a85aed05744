"""A driver's rights over their account (GDPR): a copy of everything kept, as JSON, and
deleting the account, which removes every personal datum and keeps the sessions, tied to
no one, for the site owners' accounting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import add_session
from tests.support.driver_account import Browser, new_client, new_email, start_mail_server
from tests.support.server import LiveServer, stop_server
from tests.support.smtp_server import Inbox, smtp_server
from voltspot.domain.statuses import PaymentState
from voltspot.models import (
    ChargingSession,
    DriverAccount,
    DriverAccountSession,
    DriverSignIn,
    DriverSignInLink,
    FavouriteSite,
    ReceiptEmail,
    Station,
)


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_server() as received:
        yield received


@pytest.fixture(scope="module")
def mail_server(database_url, inbox, tmp_path_factory) -> Iterator[LiveServer]:
    live = start_mail_server(database_url, inbox, tmp_path_factory.mktemp("logs"))
    yield live
    stop_server(live)


@pytest.fixture
def kept(db, station) -> dict:
    """A paid session on the station, its site's id, and a new driver's email."""
    with db.session() as session:
        stored = session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id))
        charging = add_session(session, stored.id, datetime.now(UTC) - timedelta(hours=1),
                               cost=815, currency="EUR", payment_state=PaymentState.CAPTURED)
        return {"token": charging.token, "session_id": charging.id,
                "site_id": stored.site_id, "email": new_email()}


@pytest.fixture
def driver(mail_server, inbox, kept) -> Browser:
    """A signed-in driver whose account keeps the session and stars the site."""
    browser = Browser(mail_server, new_client())
    browser.sign_in(inbox, kept["email"], device_sessions=[kept["token"]])
    browser.get(f"/sites/{kept['site_id']}")
    browser.post(f"/account/favourites/{kept['site_id']}", {"favourite": "1"})
    return browser


def _count(db, model, *where) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_download_holds_the_account_its_sessions_and_favourites(driver, kept):
    answer = driver.get("/account/data.json")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["Content-Disposition"] == \
        'attachment; filename="voltspot-my-data.json"'
    assert answer.headers["Cache-Control"] == "no-store"
    data = json.loads(answer.text)
    assert data["account"]["email"] == kept["email"]
    [session] = data["sessions"]
    assert (session["token"], session["site"], session["cost"], session["currency"]) == \
        (kept["token"], "Test site", 815, "EUR")
    assert [f["id"] for f in data["favourite_sites"]] == [kept["site_id"]]
    assert len(data["signed_in_browsers"]) == 1
    assert "token_digest" not in answer.text


def test_only_a_signed_in_driver_gets_a_download(mail_server):
    answer = Browser(mail_server, new_client()).get("/account/data.json")
    assert answer.status_code == 303 and answer.headers["Location"] == "/account"


def test_deleting_needs_the_box_ticked(driver, db, kept):
    driver.get("/account")
    refused = driver.post("/account/delete")
    assert refused.status_code == 400 and "Tick the box to confirm" in refused.text
    assert _count(db, DriverAccount, DriverAccount.email == kept["email"]) == 1


def test_deleting_removes_the_personal_data_and_keeps_the_sessions_for_the_owner(
        driver, db, kept):
    with db.session() as session:
        account_id = session.scalar(select(DriverAccount.id).where(
            DriverAccount.email == kept["email"]))
        # A receipt still waiting to be emailed is never sent after the account is gone.
        session.add(ReceiptEmail(session_id=kept["session_id"], account_id=account_id))
    driver.get("/account")
    gone = driver.post("/account/delete", {"confirm": "yes"})
    assert gone.status_code == 303 and gone.headers["Location"] == "/account/deleted"
    assert gone.headers["Set-Cookie"].startswith("voltspot_driver=; ")
    assert "Your account and your personal data are deleted" in driver.get(
        "/account/deleted").text
    assert _count(db, DriverAccount, DriverAccount.email == kept["email"]) == 0
    assert _count(db, DriverSignInLink, DriverSignInLink.email == kept["email"]) == 0
    for model in (DriverAccountSession, FavouriteSite, DriverSignIn):
        assert _count(db, model, model.account_id == account_id) == 0
    assert _count(db, ReceiptEmail, ReceiptEmail.session_id == kept["session_id"]) == 0
    with db.session() as session:
        charging = session.get(ChargingSession, kept["session_id"])
        assert (charging.cost, charging.payment_state) == (815, PaymentState.CAPTURED)


def test_the_old_cookie_signs_nobody_in_after_deleting(driver, mail_server):
    cookie = driver.http.cookies.get("voltspot_driver")
    driver.get("/account")
    driver.post("/account/delete", {"confirm": "yes"})
    copy = Browser(mail_server, new_client())
    copy.http.cookies.set("voltspot_driver", cookie)
    assert "Signed in as" not in copy.get("/account").text


def test_signing_in_again_after_deleting_starts_an_empty_account(driver, mail_server, inbox,
                                                                  kept):
    driver.get("/account")
    driver.post("/account/delete", {"confirm": "yes"})
    again = Browser(mail_server, new_client())
    again.sign_in(inbox, kept["email"])
    data = json.loads(again.get("/account/data.json").text)
    assert data["sessions"] == [] and data["favourite_sites"] == []
