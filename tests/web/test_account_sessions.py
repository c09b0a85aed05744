"""An account keeps the driver's sessions and receipts across devices: the sessions a device
started before signing in go into the account, a session started while signed in does
too, and "My sessions" lists them on any device signed in to the account."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call
from sqlalchemy import select

from tests.factories import add_session
from tests.support.driver_account import Browser, new_client, new_email, start_mail_server
from tests.support.library_charger import LibraryCharger
from tests.support.server import LiveServer, stop_server
from tests.support.smtp_server import Inbox, smtp_server
from voltspot.domain.statuses import PaymentState
from voltspot.models import DriverAccount, DriverAccountSession, Station


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_server() as received:
        yield received


@pytest.fixture(scope="module")
def mail_server(database_url, inbox, tmp_path_factory) -> Iterator[LiveServer]:
    live = start_mail_server(database_url, inbox, tmp_path_factory.mktemp("logs"))
    yield live
    stop_server(live)


def _sessions(db, station, count: int) -> list[str]:
    """``count`` finished, paid sessions on the station; their tokens."""
    with db.session() as session:
        station_pk = session.scalar(select(Station.id).where(
            Station.charge_point_id == station.charge_point_id))
        started = datetime.now(UTC) - timedelta(hours=2)
        return [add_session(session, station_pk, started + timedelta(minutes=n), cost=520,
                            currency="EUR", payment_state=PaymentState.CAPTURED).token
                for n in range(count)]


def _kept_by(db, email: str) -> list[int]:
    """The ids of the sessions the account of ``email`` keeps."""
    with db.session() as session:
        return list(session.scalars(select(DriverAccountSession.session_id).join(
            DriverAccount, DriverAccount.id == DriverAccountSession.account_id).where(
                DriverAccount.email == email)))


def test_sessions_started_on_the_device_before_signing_in_go_into_the_account(
        mail_server, inbox, db, station):
    phone_tokens = _sessions(db, station, 2)
    email = new_email()
    Browser(mail_server, new_client()).sign_in(inbox, email, device_sessions=phone_tokens)
    laptop = Browser(mail_server, new_client())
    laptop.sign_in(inbox, email)
    listed = laptop.get("/my-sessions").text
    for token in phone_tokens:
        assert f'href="/sessions/{token}"' in listed
    assert "In your account" in listed and "Test site" in listed and "€5.20" in listed


def test_my_sessions_lists_the_newest_first(mail_server, inbox, db, station):
    older, newer = _sessions(db, station, 2)
    browser = Browser(mail_server, new_client())
    browser.sign_in(inbox, new_email(), device_sessions=[older, newer])
    listed = browser.get("/my-sessions").text
    assert listed.index(newer) < listed.index(older)


def test_a_session_started_while_signed_in_goes_into_the_account(
        mail_server, inbox, db, station, priced):
    email = new_email()
    phone = Browser(mail_server, new_client())
    phone.sign_in(inbox, email)
    with LibraryCharger(mail_server.ws_url, station.charge_point_id,
                        station.password) as charger:
        charger.boot()
        charger.send(call.StatusNotification(connector_id=1, error_code="NoError",
                                             status="Available"))
        started = phone.post(f"/c/{priced[0]}/start", {"start_key": uuid.uuid4().hex},
                             csrf=False)
    assert started.status_code == 303
    token = started.headers["Location"].rsplit("/", 1)[-1]
    other_device = Browser(mail_server, new_client())
    other_device.sign_in(inbox, email)
    assert f'href="/sessions/{token}"' in other_device.get("/my-sessions").text


def test_a_session_another_account_keeps_stays_in_that_account(mail_server, inbox, db,
                                                                station):
    [token] = _sessions(db, station, 1)
    first, second = new_email(), new_email()
    Browser(mail_server, new_client()).sign_in(inbox, first, device_sessions=[token])
    intruder = Browser(mail_server, new_client())
    intruder.sign_in(inbox, second, device_sessions=[token])
    assert token not in intruder.get("/my-sessions").text
    assert len(_kept_by(db, first)) == 1 and _kept_by(db, second) == []


def test_a_driver_without_an_account_is_offered_one_on_my_sessions(mail_server):
    page = Browser(mail_server, new_client()).get("/my-sessions").text
    assert "Sign in to see your sessions on every device" in page
    assert 'href="/account"' in page


def test_unknown_tokens_from_a_device_are_ignored(mail_server, inbox, db):
    email = new_email()
    browser = Browser(mail_server, new_client())
    browser.sign_in(inbox, email, device_sessions=["no-such-token", "x" * 500])
    assert "No sessions in your account yet." in browser.get("/my-sessions").text
