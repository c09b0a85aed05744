"""What localstripe cannot play: a small HTTP server answering as Stripe does when a card
is declined, the service fails (500), is rate limited (429) or does not answer in time."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from tests.support.server import own_database
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import ChargingSession, Station
from voltspot.services.charging.lifecycle import new_session_token
from voltspot.services.payments.gateways.base import PaymentDeclined, PaymentUnavailable
from voltspot.services.payments.gateways.stripe import StripeGateway
from voltspot.services.payments.holds import settle_pending

INTENT = {"id": "pi_fake", "object": "payment_intent", "status": "requires_capture",
          "amount": 5000, "currency": "eur", "client_secret": "pi_fake_secret_x",
          "metadata": {}}


class FakeStripe:
    """Answers every request with the next scripted (status, body, delay) and records the
    requests it got (method, path, Idempotency-Key)."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict, float]] = []
        self.requests: list[tuple[str, str, str | None]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                fake.requests.append((self.command, self.path,
                                      self.headers.get("Idempotency-Key")))
                status, body, delay = fake.script.pop(0) if fake.script else (200, INTENT, 0)
                time.sleep(delay)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# The worker's shared server runs the payments job too, and would settle this module's
# sessions through its own gateway.
database_url, db = own_database("stripe_failures")


@pytest.fixture
def fake():
    server = FakeStripe()
    yield server
    server.close()


def _gateway(fake, retries=0, timeout=None):
    gateway = StripeGateway("sk_test_fake", "pk_test_fake", api_base=fake.base,
                            max_network_retries=retries)
    if timeout:
        import stripe

        gateway._client = stripe.StripeClient(
            "sk_test_fake", base_addresses={"api": fake.base}, max_network_retries=retries,
            http_client=stripe.RequestsClient(timeout=timeout))
    return gateway


DECLINE = {"error": {"type": "card_error", "code": "card_declined",
                     "decline_code": "insufficient_funds",
                     "message": "Your card has insufficient funds."}}
SERVER_ERROR = {"error": {"type": "api_error", "message": "Something went wrong."}}
RATE_LIMIT = {"error": {"type": "invalid_request_error", "code": "rate_limit",
                        "message": "Too many requests."}}


def test_a_declined_card_tells_the_driver_in_plain_words(fake):
    fake.script = [(402, DECLINE, 0)]
    with pytest.raises(PaymentDeclined, match="Your card was declined: Your card has "
                                              "insufficient funds. Nothing was held"):
        _gateway(fake).hold(5000, "EUR", "x", idempotency_key="k1", metadata={})


@pytest.mark.parametrize(("status", "body"), [(500, SERVER_ERROR), (429, RATE_LIMIT)])
def test_a_failing_or_busy_service_says_try_again_and_nothing_was_charged(fake, status, body):
    fake.script = [(status, body, 0)]
    with pytest.raises(PaymentUnavailable, match="Nothing was charged"):
        _gateway(fake).hold(5000, "EUR", "x", idempotency_key="k2", metadata={})


def test_a_retried_request_keeps_its_idempotency_key(fake):
    fake.script = [(500, SERVER_ERROR, 0), (200, INTENT, 0)]
    _gateway(fake, retries=1).hold(5000, "EUR", "x", idempotency_key="hold-42", metadata={})
    assert [key for _, _, key in fake.requests] == ["hold-42", "hold-42"]


def test_no_answer_in_time_is_a_retryable_failure(fake):
    fake.script = [(200, INTENT, 3)]
    with pytest.raises(PaymentUnavailable):
        _gateway(fake, timeout=1).hold(5000, "EUR", "x", idempotency_key="k3", metadata={})


def test_a_capture_declined_is_kept_for_retry_and_shown_to_the_owner(fake, db, station):
    with db.session() as session:
        station_id = session.scalar(select(Station.id).where(
            Station.charge_point_id == station.charge_point_id))
        row = ChargingSession(token=new_session_token(), station_id=station_id,
                              status=SessionStatus.COMPLETED, cost=900, hold_amount=5000,
                              payment_reference="pi_fake", payment_state=PaymentState.TO_SETTLE)
        session.add(row)
        session.flush()
        session_id = row.id
    gateway = _gateway(fake)
    fake.script = [(200, INTENT, 0), (402, DECLINE, 0)]
    assert settle_pending(db, gateway) == 0
    with db.session() as session:
        stuck = session.get(ChargingSession, session_id)
        assert stuck.payment_state == PaymentState.TO_SETTLE
        assert "declined" in stuck.payment_error
    fake.script = [(200, INTENT, 0), (200, {**INTENT, "status": "succeeded"}, 0)]
    assert settle_pending(db, gateway) >= 1
    with db.session() as session:
        done = session.get(ChargingSession, session_id)
        assert (done.payment_state, done.amount_captured, done.payment_error) == (
            PaymentState.CAPTURED, 900, None)
