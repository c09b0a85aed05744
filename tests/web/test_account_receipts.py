"""A signed-in driver's receipt is emailed, in their language, once the session's payment
is settled: by the receipts job through a real SMTP server, once per session."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from ocpp.v16 import call
from sqlalchemy import select, update

from tests.support.driver_account import Browser, new_client, new_email, start_mail_server
from tests.support.library_charger import LibraryCharger
from tests.support.payloads import now_iso
from tests.support.server import LiveServer, own_database, stop_server
from tests.support.smtp_server import Inbox, body, link_in, smtp_server
from tests.support.waiting import eventually
from voltspot.domain.statuses import PaymentState
from voltspot.models import ChargingSession, ReceiptEmail, utcnow

# The worker's shared server runs the receipts job too: with no mail server set it would
# take these receipts and only log them.
database_url, db = own_database("receipts")


@pytest.fixture(scope="module")
def inbox() -> Iterator[Inbox]:
    with smtp_server() as received:
        yield received


@pytest.fixture(scope="module")
def mail_server(database_url, inbox, tmp_path_factory) -> Iterator[LiveServer]:
    live = start_mail_server(database_url, inbox, tmp_path_factory.mktemp("logs"),
                             housekeeping_interval="0.3")
    yield live
    stop_server(live)


@pytest.fixture
def charger(mail_server, station, priced):
    with LibraryCharger(mail_server.ws_url, station.charge_point_id,
                        station.password) as charger:
        charger.boot()
        for connector_id in (1, 2):
            charger.send(call.StatusNotification(connector_id=connector_id,
                                                 error_code="NoError", status="Available"))
        yield charger


def _charge(browser: Browser, charger, evse: str, kwh: int = 20) -> str:
    """Start on ``evse`` as ``browser``, charge ``kwh`` and stop; the session's token."""
    started = browser.post(f"/c/{evse}/start", {"start_key": uuid.uuid4().hex}, csrf=False)
    assert started.status_code == 303, started.text
    token = started.headers["Location"].rsplit("/", 1)[-1]
    action, fields = charger.cp.received[-1]
    assert action == "RemoteStartTransaction"
    transaction = charger.send(call.StartTransaction(
        connector_id=fields["connector_id"], id_tag=fields["id_tag"], meter_start=1000,
        timestamp=now_iso())).transaction_id
    charger.send(call.StopTransaction(meter_stop=1000 + kwh * 1000, timestamp=now_iso(),
                                      transaction_id=transaction, reason="Local"))
    return token


def _receipts(inbox: Inbox, email: str) -> list:
    return [m for m in inbox.to(email) if "sign-in" not in m["Subject"]
            and "Anmeldelink" not in m["Subject"]]


def _outbox_row(db, token: str) -> ReceiptEmail | None:
    with db.session() as session:
        return session.scalar(select(ReceiptEmail).join(
            ChargingSession, ChargingSession.id == ReceiptEmail.session_id).where(
                ChargingSession.token == token))


def _paid(db, token: str) -> ChargingSession | None:
    with db.session() as session:
        charging = session.scalar(select(ChargingSession).where(ChargingSession.token == token))
        return charging if charging.payment_state == PaymentState.CAPTURED else None


def test_the_receipt_is_emailed_in_the_drivers_language_once_paid(mail_server, inbox, db,
                                                                   charger, priced):
    email = new_email()
    driver = Browser(mail_server, new_client(), language="de-DE,de;q=0.9")
    driver.sign_in(inbox, email)
    token = _charge(driver, charger, priced[0])
    eventually(lambda: _paid(db, token))
    # The job sends on its next round; a busy machine can make rounds seconds apart.
    receipt = eventually(lambda: _receipts(inbox, email), seconds=20)[0]
    assert receipt["Subject"] == "Ihr Voltspot-Beleg: Test site, 8,15\xa0€"
    text = body(receipt)
    assert "Vielen Dank" in text and "20,000 kWh" in text and "Gesamt: 8,15\xa0€" in text
    assert link_in(receipt) == f"{mail_server.base_url}/sessions/{token}/receipt"
    html = receipt.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="de">' in html and "8,15\xa0€" in html


def test_a_receipt_is_emailed_only_once(mail_server, inbox, db, charger, priced):
    email = new_email()
    driver = Browser(mail_server, new_client())
    driver.sign_in(inbox, email)
    token = _charge(driver, charger, priced[0], kwh=10)
    eventually(lambda: _receipts(inbox, email), seconds=20)
    row = eventually(lambda: (r := _outbox_row(db, token)) and r.sent_at and r, seconds=20)
    assert row.attempts == 0
    # Several more rounds of the job (every 0.3 s) send nothing more.
    time.sleep(2)
    assert len(_receipts(inbox, email)) == 1
    assert _receipts(inbox, email)[0]["Subject"] == "Your Voltspot receipt: Test site, €4.25"


def test_a_driver_without_an_account_gets_no_email_and_no_outbox_row(mail_server, db,
                                                                      charger, priced):
    token = _charge(Browser(mail_server, new_client()), charger, priced[0])
    eventually(lambda: _paid(db, token))
    time.sleep(1)
    assert _outbox_row(db, token) is None


def test_a_receipt_the_mail_server_refused_is_sent_on_a_later_try(mail_server, inbox, db,
                                                                  charger, priced):
    email = new_email()
    driver = Browser(mail_server, new_client())
    driver.sign_in(inbox, email)
    inbox.refuse = 1
    token = _charge(driver, charger, priced[0])
    row = eventually(lambda: (r := _outbox_row(db, token)) and r.attempts == 1 and r,
                     seconds=20)
    assert "451" in row.last_error and row.sent_at is None
    assert row.next_try_at > utcnow()
    assert _receipts(inbox, email) == []
    # The wait is over (the job would try again in 30 s).
    with db.session() as session:
        session.execute(update(ReceiptEmail).where(ReceiptEmail.session_id == row.session_id)
                        .values(next_try_at=utcnow()))
    # The job runs every housekeeping round, under the job lock (a busy machine: slower).
    eventually(lambda: _receipts(inbox, email), seconds=20)
    assert eventually(lambda: _outbox_row(db, token).sent_at, seconds=20)
    assert len(_receipts(inbox, email)) == 1
