"""Card payments with Stripe through the live server (localstripe as Stripe): the hold is
confirmed on our page, checked with Stripe before the charger starts, the real cost is
captured; webhooks are verified, handled once, in any order."""

from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid

import pytest
import stripe
from ocpp.v16 import call
from sqlalchemy import select

from tests.support.http import page
from tests.support.library_charger import LibraryCharger
from tests.support.payloads import now_iso
from tests.support.server import own_database, start_server, stop_server
from tests.support.stripe_server import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    confirm_with_card,
    localstripe,
    taken,
)
from tests.support.waiting import running
from voltspot.domain.statuses import ConnectorStatus, PaymentState, SessionStatus
from voltspot.models import ChargingSession, Connector, Station
from voltspot.simulator import SimulatedCharger201


@pytest.fixture(scope="module")
def stripe_base():
    with localstripe() as base:
        yield base


# A database of its own: another test server's housekeeping (demo payments) must not
# settle these sessions.
database_url, db = own_database("payments")


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory, stripe_base):
    """A live server taking card payments through (local) Stripe."""
    live = start_server(database_url, tmp_path_factory.mktemp("logs") / "stripe.log",
                        stripe_api_base=stripe_base,
                        extra_env={"STRIPE_SECRET_KEY": SECRET_KEY,
                                   "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
                                   "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET})
    yield live
    stop_server(live)


@pytest.fixture
def charger(server, station, priced):  # noqa: F811 - the fixture imported above
    with LibraryCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.send(call.StatusNotification(connector_id=1, error_code="NoError",
                                             status="Available"))
        yield charger


def _session(db, token) -> ChargingSession:
    with db.session() as session:
        return session.scalar(select(ChargingSession).where(ChargingSession.token == token))


def _wait(predicate, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError("not reached in time")


def _start(server, priced):  # noqa: F811
    status, headers, _ = page(server, "POST", f"/c/{priced[0]}/start",
                              form={"start_key": uuid.uuid4().hex})
    assert status == 303
    return headers["Location"].rsplit("/", 1)[-1]


def _post_webhook(server, body: bytes, secret=WEBHOOK_SECRET, timestamp=None):
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=int(timestamp or time.time()))
    request = urllib.request.Request(
        server.base_url + "/webhooks/stripe", data=body, method="POST",
        headers={"Stripe-Signature": header, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def _event(event_type: str, intent_id: str, token: str, event_id: str | None = None) -> bytes:
    return json.dumps({
        "id": event_id or "evt_" + uuid.uuid4().hex[:20], "object": "event", "type": event_type,
        "data": {"object": {"id": intent_id, "object": "payment_intent",
                            "metadata": {"session_token": token}}}}).encode()


def test_the_charger_starts_only_after_stripe_confirms_the_hold(server, db, charger, priced,  # noqa: F811
                                                                stripe_base):
    token = _start(server, priced)
    _, _, body = page(server, "GET", f"/sessions/{token}")
    assert "Confirm the hold on your card" in body and "We hold €50.00" in body
    assert re.search(r'data-secret="pi_\w+_secret', body)
    assert not any(action == "RemoteStartTransaction" for action, _ in charger.cp.received)
    page(server, "GET", f"/sessions/{token}/paid")
    assert _session(db, token).payment_state == PaymentState.AUTHORISING
    confirm_with_card(stripe_base, _session(db, token).payment_reference)
    page(server, "GET", f"/sessions/{token}/paid")
    assert _session(db, token).payment_state == PaymentState.HELD
    assert [a for a, _ in charger.cp.received] == ["RemoteStartTransaction"]


def test_the_real_cost_is_captured_when_the_session_ends(server, db, charger, priced,  # noqa: F811
                                                         stripe_base):
    token = _start(server, priced)
    reference = _session(db, token).payment_reference
    confirm_with_card(stripe_base, reference)
    page(server, "GET", f"/sessions/{token}/paid")
    id_tag = charger.cp.received[-1][1]["id_tag"]
    started = charger.send(call.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=0,
                                                 timestamp=now_iso()))
    charger.send(call.StopTransaction(meter_stop=10000, timestamp=now_iso(),
                                      transaction_id=started.transaction_id))
    done = _wait(lambda: (s := _session(db, token)).payment_state == PaymentState.CAPTURED
                 and s)
    assert done.amount_captured == 35 + 390 == taken(stripe_base, reference)


def test_a_2_0_1_charger_session_is_held_started_stopped_and_captured_at_its_cost(
        server, db, station, priced, stripe_base):  # noqa: F811
    charger = SimulatedCharger201(server.ws_url, station.charge_point_id, station.password,
                                  step_delay=0.5, meter_interval=1, speed=60, seed=3)
    with running(charger):
        _wait(lambda: _plug_free(db, station))
        token = _start(server, priced)
        reference = _session(db, token).payment_reference
        confirm_with_card(stripe_base, reference)
        page(server, "GET", f"/sessions/{token}/paid")
        charging = _wait(lambda: (s := _session(db, token)).energy_wh > 0 and s)
        assert charging.charger_transaction_id == charger.transactions[1]
        page(server, "POST", f"/sessions/{token}/stop")
        done = _wait(lambda: (s := _session(db, token)).payment_state
                     == PaymentState.CAPTURED and s)
    assert done.stop_reason == "Remote"
    assert done.amount_captured == done.cost == taken(stripe_base, reference)
    assert done.cost > 35, "more than the session fee: energy was billed"


def _plug_free(db, station) -> bool:
    with db.session() as session:
        return session.scalar(select(Connector.status).join(Station).where(
            Station.charge_point_id == station.charge_point_id,
            Connector.connector_id == 1)) == ConnectorStatus.AVAILABLE


def test_a_session_that_never_charges_cancels_its_payment_intent(server, db, charger, priced,  # noqa: F811
                                                                 stripe_base):
    token = _start(server, priced)
    reference = _session(db, token).payment_reference
    confirm_with_card(stripe_base, reference)
    page(server, "GET", f"/sessions/{token}/paid")
    page(server, "POST", f"/sessions/{token}/stop")
    _wait(lambda: _session(db, token).payment_state == PaymentState.RELEASED)
    assert stripe.StripeClient(SECRET_KEY, base_addresses={"api": stripe_base}).v1 \
        .payment_intents.retrieve(reference).status == "canceled"


def test_the_webhook_starts_the_charger_when_the_browser_never_returns(server, db, charger,
                                                                       priced, stripe_base):  # noqa: F811
    token = _start(server, priced)
    reference = _session(db, token).payment_reference
    confirm_with_card(stripe_base, reference)
    status, body = _post_webhook(server, _event("payment_intent.amount_capturable_updated",
                                                reference, token))
    assert (status, body["outcome"]) == (200, "handled")
    assert _session(db, token).status == SessionStatus.STARTING


def test_a_replayed_webhook_changes_nothing(server, db, charger, priced, stripe_base):  # noqa: F811
    token = _start(server, priced)
    reference = _session(db, token).payment_reference
    confirm_with_card(stripe_base, reference)
    event = _event("payment_intent.amount_capturable_updated", reference, token)
    assert _post_webhook(server, event)[1]["outcome"] == "handled"
    assert _post_webhook(server, event)[1]["outcome"] == "duplicate"
    assert [a for a, _ in charger.cp.received].count("RemoteStartTransaction") == 1


def test_an_early_webhook_before_the_card_is_confirmed_starts_nothing(server, db, charger,
                                                                      priced, stripe_base):  # noqa: F811
    token = _start(server, priced)
    reference = _session(db, token).payment_reference
    _post_webhook(server, _event("payment_intent.amount_capturable_updated", reference, token))
    assert _session(db, token).payment_state == PaymentState.AUTHORISING
    confirm_with_card(stripe_base, reference)
    page(server, "GET", f"/sessions/{token}/paid")
    assert _session(db, token).payment_state == PaymentState.HELD


@pytest.mark.parametrize("tamper", ["body", "secret", "stale"])
def test_a_webhook_that_fails_verification_is_refused_and_changes_nothing(server, db, charger,
                                                                          priced, stripe_base,  # noqa: F811
                                                                          tamper):
    token = _start(server, priced)
    reference = _session(db, token).payment_reference
    confirm_with_card(stripe_base, reference)
    event = _event("payment_intent.amount_capturable_updated", reference, token)
    if tamper == "body":
        header = stripe.WebhookSignature.generate_signature_header(event.decode(),
                                                                   WEBHOOK_SECRET)
        request = urllib.request.Request(
            server.base_url + "/webhooks/stripe", data=event.replace(b"amount", b"AMOUNT"),
            method="POST", headers={"Stripe-Signature": header})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        refused.value.close()
        status = refused.value.code
    elif tamper == "secret":
        status, _ = _post_webhook(server, event, secret="whsec_someone_else")
    else:
        status, _ = _post_webhook(server, event, timestamp=time.time() - 3600)
    assert status == 400
    assert _session(db, token).payment_state == PaymentState.AUTHORISING
