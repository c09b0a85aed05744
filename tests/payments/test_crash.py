"""A crash between "capture requested" and "capture recorded": the server process is killed
while Stripe's answer to the capture is on its way; after a restart, reconcile records the
capture once — Stripe is asked first, so the card is never charged twice."""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.support.server import fresh_database, start_server, stop_server
from tests.support.stripe_server import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    confirm_with_card,
    localstripe,
    taken,
)
from voltspot.db import Database
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import ChargingSession, Station
from voltspot.services.charging.lifecycle import new_session_token
from voltspot.services.payments.gateways.stripe import StripeGateway
from voltspot.services.stations.registry import register_station


class SlowCaptureProxy:
    """Forwards to Stripe; a capture is carried out at once but answered only later."""

    def __init__(self, upstream: str, delay: float) -> None:
        self.captures_forwarded = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                request = urllib.request.Request(
                    upstream + self.path, data=body, method=self.command,
                    headers={k: v for k, v in self.headers.items()
                             if k.lower() not in ("host", "content-length")})
                try:
                    with urllib.request.urlopen(request, timeout=10) as answer:
                        status, payload = answer.status, answer.read()
                except urllib.error.HTTPError as error:
                    with error:
                        status, payload = error.code, error.read()
                if self.path.endswith("/capture"):
                    proxy.captures_forwarded.set()
                    time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the caller died while we waited: that is the point

            do_GET = do_POST = do_DELETE = _forward

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _kill_with_workers(pid: int) -> None:
    """SIGKILL gunicorn's master and its worker (the process that was mid-capture)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in map(int, children):
        os.kill(child, signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def database_url(tmp_path_factory):
    return fresh_database(tmp_path_factory.mktemp("db"), "crash")


def test_a_capture_interrupted_by_a_crash_is_taken_once_after_restart(database_url,
                                                                     tmp_path_factory):
    db = Database(database_url)
    logs = tmp_path_factory.mktemp("logs")
    with localstripe() as stripe_base:
        proxy = SlowCaptureProxy(stripe_base, delay=30)
        env = {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
               "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}
        gateway = StripeGateway(SECRET_KEY, PUBLISHABLE_KEY, api_base=stripe_base)
        hold = gateway.hold(5000, "EUR", "crash", idempotency_key=uuid.uuid4().hex, metadata={})
        confirm_with_card(stripe_base, hold.reference)
        with db.session() as session:
            station, _ = register_station(session, site_name="Crash site",
                                          charge_point_id="CRASH-1", connectors=1)
            row = ChargingSession(token=new_session_token(), station_id=station.id,
                                  status=SessionStatus.COMPLETED, cost=1234, hold_amount=5000,
                                  currency="EUR", payment_reference=hold.reference,
                                  payment_state=PaymentState.TO_SETTLE)
            session.add(row)
            session.flush()
            session_id = row.id
        first = start_server(database_url, logs / "first.log", extra_env=env,
                             stripe_api_base=proxy.base, housekeeping_interval="0.2")
        try:
            assert proxy.captures_forwarded.wait(30), first.log()
            _kill_with_workers(first.process.pid)
            first.process.wait(10)
        finally:
            stop_server(first)
        with db.session() as session:
            assert session.get(ChargingSession, session_id).payment_state == \
                PaymentState.TO_SETTLE
        second = start_server(database_url, logs / "second.log", extra_env=env,
                              stripe_api_base=stripe_base, housekeeping_interval="0.2")
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with db.session() as session:
                    done = session.get(ChargingSession, session_id)
                if done.payment_state == PaymentState.CAPTURED:
                    break
                time.sleep(0.2)
        finally:
            stop_server(second)
        proxy.close()
        assert (done.payment_state, done.amount_captured) == (PaymentState.CAPTURED, 1234)
        assert taken(stripe_base, hold.reference) == 1234
    with db.session() as session:
        assert session.scalar(select(Station.id).where(Station.charge_point_id == "CRASH-1"))
    db.dispose()
