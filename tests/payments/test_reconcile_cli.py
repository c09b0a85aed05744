"""``voltspot payments reconcile`` run from the command line: a process that holds no
charger connections records what the provider says and never decides a charger is
offline; starting the charger is left to the server."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from ocpp.v16 import call
from sqlalchemy import select, update

from tests.support.http import page
from tests.support.library_charger import LibraryCharger
from tests.support.server import own_database, start_server, stop_server
from tests.support.stripe_server import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    confirm_with_card,
    localstripe,
)
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import ChargingSession, utcnow


@pytest.fixture(scope="module")
def stripe_base():
    with localstripe() as base:
        yield base


database_url, db = own_database("reconcile_cli")


STRIPE_ENV = {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
              "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory, stripe_base):
    """A server taking card payments whose own upkeep does not run during a test, so
    that what happens to a session is the command line's doing."""
    live = start_server(database_url, tmp_path_factory.mktemp("logs") / "cli.log",
                        stripe_api_base=stripe_base, housekeeping_interval="3600",
                        extra_env=STRIPE_ENV)
    yield live
    stop_server(live)


def test_reconcile_from_the_command_line_confirms_a_hold_and_leaves_the_start_to_the_server(
        server, db, station, priced, stripe_base, database_url):  # noqa: F811
    with LibraryCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.send(call.StatusNotification(connector_id=1, error_code="NoError",
                                             status="Available"))
        status, headers, _ = page(server, "POST", f"/c/{priced[0]}/start",
                                  form={"start_key": uuid.uuid4().hex})
        assert status == 303
        token = headers["Location"].rsplit("/", 1)[-1]
        with db.session() as session:
            reference = session.scalar(select(ChargingSession.payment_reference).where(
                ChargingSession.token == token))
            # The driver confirmed the card and closed the page a while ago.
            session.execute(update(ChargingSession).where(ChargingSession.token == token)
                            .values(created_at=utcnow() - timedelta(minutes=3)))
        confirm_with_card(stripe_base, reference)
        result = subprocess.run(
            [sys.executable, "-m", "voltspot", "payments", "reconcile"],
            env={**os.environ, "VOLTSPOT_DATABASE_URL": database_url,
                 "VOLTSPOT_PUBLIC_URL": "https://cs.example.org",
                 "VOLTSPOT_STRIPE_API_BASE": stripe_base, **STRIPE_ENV},
            capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "holds checked 1" in result.stdout
        with db.session() as session:
            row = session.scalar(select(ChargingSession).where(ChargingSession.token == token))
            assert (row.status, row.payment_state, row.failure_reason) == (
                SessionStatus.AUTHORISED, PaymentState.HELD, None)
            assert row.requested_at is None
        assert not any(action == "RemoteStartTransaction"
                       for action, _ in charger.cp.received)
