"""A signed-in driver stars sites on their pages (site or plug); the favourites come first
in Find a spot and are listed in the account."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.support.driver_account import Browser, new_client, new_email, start_mail_server
from tests.support.server import LiveServer, stop_server
from tests.support.smtp_server import Inbox, smtp_server
from voltspot.models import Station


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
def site_id(db, station) -> int:
    with db.session() as session:
        return session.scalar(select(Station.site_id).where(
            Station.charge_point_id == station.charge_point_id))


@pytest.fixture
def driver(mail_server, inbox) -> Browser:
    browser = Browser(mail_server, new_client())
    browser.sign_in(inbox, new_email())
    return browser


def _star(browser: Browser, site_id: int, on: bool, page: str | None = None):
    browser.get(page or f"/sites/{site_id}")
    return browser.post(f"/account/favourites/{site_id}",
                        {"favourite": "1" if on else "0", "next": page or f"/sites/{site_id}"})


def _favourites_section(html: str) -> str:
    match = re.search(r'<section class="mt-4" aria-labelledby="your-favourites">.*?</section>',
                      html, re.S)
    return match[0] if match else ""


def test_a_starred_site_comes_first_in_find_a_spot(driver, site_id):
    assert _favourites_section(driver.get("/").text) == ""
    starred = _star(driver, site_id, True)
    assert starred.status_code == 303 and starred.headers["Location"] == f"/sites/{site_id}"
    home = driver.get("/").text
    section = _favourites_section(home)
    assert f'href="/sites/{site_id}"' in section
    assert home.index(section) < home.index('id="spots"')


def test_the_site_page_shows_the_star_pressed_once_starred(driver, site_id):
    assert 'aria-pressed="false"' in driver.get(f"/sites/{site_id}").text
    _star(driver, site_id, True)
    _star(driver, site_id, True)
    page = driver.get(f"/sites/{site_id}").text
    assert 'aria-pressed="true"' in page and "Favourite" in page
    assert driver.get("/account").text.count(f'href="/sites/{site_id}"') == 1


def test_a_site_can_be_starred_from_a_plug_page_too(driver, site_id, priced):
    plug = f"/c/{priced[0]}"
    assert 'aria-pressed="false"' in driver.get(plug).text
    starred = _star(driver, site_id, True, page=plug)
    assert starred.headers["Location"] == plug
    assert 'aria-pressed="true"' in driver.get(plug).text


def test_unstarring_takes_the_site_off_the_favourites(driver, site_id):
    _star(driver, site_id, True)
    _star(driver, site_id, False)
    assert _favourites_section(driver.get("/").text) == ""
    assert "No favourites yet." in driver.get("/account").text


def test_favourites_follow_the_account_to_another_device(mail_server, inbox, site_id):
    email = new_email()
    phone, laptop = Browser(mail_server, new_client()), Browser(mail_server, new_client())
    phone.sign_in(inbox, email)
    _star(phone, site_id, True)
    laptop.sign_in(inbox, email)
    assert f'href="/sites/{site_id}"' in _favourites_section(laptop.get("/").text)


def test_a_driver_without_an_account_is_offered_one_instead_of_a_star(mail_server, site_id):
    browser = Browser(mail_server, new_client())
    page = browser.get(f"/sites/{site_id}").text
    assert "Sign in to keep favourite sites" in page and "aria-pressed" not in page
    browser.get("/account")
    answer = browser.post(f"/account/favourites/{site_id}", {"favourite": "1"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/account"


def test_starring_needs_the_forms_csrf_token(driver, site_id):
    driver.get(f"/sites/{site_id}")
    refused = driver.post(f"/account/favourites/{site_id}", {"favourite": "1"}, csrf=False)
    assert refused.status_code == 400
    assert 'aria-pressed="false"' in driver.get(f"/sites/{site_id}").text


def test_a_site_that_does_not_exist_cannot_be_starred(driver):
    driver.get("/account")
    assert driver.post("/account/favourites/999999999", {"favourite": "1"}).status_code == 404


def test_the_star_does_not_send_the_driver_to_another_site(driver, site_id):
    driver.get(f"/sites/{site_id}")
    answer = driver.post(f"/account/favourites/{site_id}",
                         {"favourite": "1", "next": "//evil.example/"})
    assert answer.headers["Location"] == f"/sites/{site_id}"
