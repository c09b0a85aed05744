"""Every account page and email in every driver language, with no English left."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.support.driver_account import Browser, new_client, new_email, start_mail_server
from tests.support.server import LiveServer, stop_server
from tests.support.smtp_server import Inbox, body, link_in, smtp_server
from tests.support.translation_check import english_left
from voltspot.models import Station
from voltspot.web.i18n import LANGUAGES

TRANSLATED = [code for code in LANGUAGES if code != "en"]


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_server() as received:
        yield received


@pytest.fixture(scope="module")
def mail_server(database_url, inbox, tmp_path_factory) -> Iterator[LiveServer]:
    live = start_mail_server(database_url, inbox, tmp_path_factory.mktemp("logs"))
    yield live
    stop_server(live)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_account_page_and_the_sign_in_mail_are_in_the_language(
        mail_server, inbox, db, station, language):
    with db.session() as session:
        site_id = session.scalar(select(Station.site_id).where(
            Station.charge_point_id == station.charge_point_id))
    browser = Browser(mail_server, new_client(), language=f"{language},en;q=0.5")
    email = new_email()
    pages = {"sign in": browser.get("/account"), "my sessions": browser.get("/my-sessions"),
             "site": browser.get(f"/sites/{site_id}"),
             "not an email": browser.post("/account/sign-in", {"email": "nope"}),
             "check your email": browser.post("/account/sign-in", {"email": email})}
    mail = inbox.wait_for(email)[0]
    link = link_in(mail)
    pages["confirm"] = browser.get(link)
    browser.post(link)
    pages["used link"] = browser.get(link)
    pages["account"] = browser.get("/account")
    pages["my sessions, signed in"] = browser.get("/my-sessions")
    pages["site, signed in"] = browser.get(f"/sites/{site_id}")
    browser.post(f"/account/favourites/{site_id}", {"favourite": "1"})
    pages["home, with a favourite"] = browser.get("/")
    pages["account, with a favourite"] = browser.get("/account")
    pages["delete unticked"] = browser.post("/account/delete")
    browser.post("/account/delete", {"confirm": "yes"})
    pages["deleted"] = browser.get("/account/deleted")
    for name, page in pages.items():
        assert f'<html lang="{language}">' in page.text, name
        assert english_left(page.text, language) == [], name
    assert english_left(mail["Subject"], language) == []
    assert english_left(body(mail), language) == []
