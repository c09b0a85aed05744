"""Money stays right over time: zero-cost sessions release, a session reaching its hold is
stopped, a hold about to expire is captured, and a capture that happened just before a
crash is recorded once, never taken twice."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from ocpp.v16 import call, call_result
from sqlalchemy import select

from tests.factories import make_tariff, price_plugs
from tests.support.http import page
from tests.support.library_charger import LibraryCharger
from tests.support.payloads import now_iso
from tests.support.server import own_database, start_server, stop_server
from tests.support.stripe_server import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    confirm_with_card,
    localstripe,
    taken,
)
from tests.support.waiting import eventually
from voltspot.domain.pricing import TariffTerms
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import ChargingSession, Station, utcnow
from voltspot.services.charging.lifecycle import new_session_token
from voltspot.services.payments.gateways.demo import DemoGateway
from voltspot.services.payments.gateways.stripe import StripeGateway
from voltspot.services.payments.holds import settle_pending
from voltspot.services.payments.reconcile import capture_before_expiry

database_url, db = own_database("reconcile")


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory):
    """A server whose payment upkeep runs every couple of seconds."""
    live = start_server(database_url, tmp_path_factory.mktemp("logs") / "reconcile.log",
                        housekeeping_interval="0.25", hold_margin_percent="10")
    yield live
    stop_server(live)


def _session_row(db, station, **fields) -> int:
    with db.session() as session:
        station_id = session.scalar(select(Station.id).where(
            Station.charge_point_id == station.charge_point_id))
        row = ChargingSession(token=new_session_token(), station_id=station_id, **fields)
        session.add(row)
        session.flush()
        return row.id


def test_a_zero_cost_session_releases_its_hold_instead_of_capturing_zero(db, station):
    session_id = _session_row(db, station, status=SessionStatus.COMPLETED, cost=0,
                              hold_amount=5000, payment_reference="demo_zero",
                              payment_state=PaymentState.TO_SETTLE)
    settle_pending(db, DemoGateway())
    with db.session() as session:
        row = session.get(ChargingSession, session_id)
        assert (row.payment_state, row.amount_captured) == (PaymentState.RELEASED, 0)


def test_a_hold_about_to_expire_is_captured_for_what_was_used(db, station):
    long_ago = utcnow() - timedelta(days=6, hours=13)
    terms = TariffTerms(currency="EUR", vat_rate_basis_points=2100, session_fee=35,
                        hold_amount=5000)
    session_id = _session_row(db, station, status=SessionStatus.CHARGING, hold_amount=5000,
                              payment_reference="demo_old", payment_state=PaymentState.HELD,
                              created_at=long_ago, started_at=long_ago, meter_start_wh=0,
                              price=terms.to_dict(), currency="EUR")
    assert capture_before_expiry(db, utcnow()) == 1
    settle_pending(db, DemoGateway())
    with db.session() as session:
        row = session.get(ChargingSession, session_id)
        assert (row.payment_state, row.amount_captured) == (PaymentState.CAPTURED, 35)
        assert "about to expire" in row.notice


def test_a_capture_done_just_before_a_crash_is_recorded_once(db, station):
    with localstripe() as base:
        gateway = StripeGateway(SECRET_KEY, PUBLISHABLE_KEY, api_base=base)
        hold = gateway.hold(5000, "EUR", "crash test", idempotency_key=uuid.uuid4().hex,
                            metadata={})
        confirm_with_card(base, hold.reference)
        session_id = _session_row(db, station, status=SessionStatus.COMPLETED, cost=777,
                                  hold_amount=5000, payment_reference=hold.reference,
                                  payment_state=PaymentState.TO_SETTLE)
        # The process captured, then died before recording it.
        gateway.capture(hold.reference, 777, idempotency_key=f"capture-{session_id}")
        settle_pending(db, gateway)
        settle_pending(db, gateway)
        assert taken(base, hold.reference) == 777
    with db.session() as session:
        row = session.get(ChargingSession, session_id)
        assert (row.payment_state, row.amount_captured) == (PaymentState.CAPTURED, 777)


def _priced_at_five_euros_a_kwh(db, station) -> str:
    """The station's plugs cost €5/kWh with a €10 hold; returns its first plug's EVSE id
    as written in URLs."""
    tariff_id = make_tariff(db, None, name=f"T-{station.charge_point_id}",
                            energy_price_per_kwh=50000, hold_amount=1000, session_fee=0)
    return price_plugs(db, station.charge_point_id, tariff_id)[0]


def _charging_past_its_hold(server, charger, evse) -> tuple[str, int]:
    """A driver's session at ``evse`` whose meter has reached €9.50 of its €10 hold;
    returns its token and transaction id."""
    charger.boot()
    charger.send(call.StatusNotification(connector_id=1, error_code="NoError",
                                         status="Available"))
    _, headers, _ = page(server, "POST", f"/c/{evse}/start", form={"start_key": uuid.uuid4().hex})
    token = headers["Location"].rsplit("/", 1)[-1]
    id_tag = charger.cp.received[-1][1]["id_tag"]
    started = charger.send(call.StartTransaction(connector_id=1, id_tag=id_tag,
                                                 meter_start=0, timestamp=now_iso()))
    charger.send(call.MeterValues(connector_id=1, transaction_id=started.transaction_id,
                                  meter_value=[{"timestamp": now_iso(),
                                                "sampled_value": [{"value": "1900"}]}]))
    return token, started.transaction_id


def _notice(db, token) -> str | None:
    with db.session() as session:
        return session.scalar(select(ChargingSession.notice).where(
            ChargingSession.token == token))


def test_a_session_whose_cost_reaches_its_hold_is_stopped_and_the_driver_told(server, db,
                                                                              station):
    evse = _priced_at_five_euros_a_kwh(db, station)
    with LibraryCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        token, transaction_id = _charging_past_its_hold(server, charger, evse)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any(
                a == "RemoteStopTransaction" for a, _ in charger.cp.received):
            time.sleep(0.2)
        assert charger.cp.received[-1] == ("RemoteStopTransaction",
                                           {"transaction_id": transaction_id})
    # The notice is written once the charger has accepted the stop.
    notice = eventually(lambda: _notice(db, token), seconds=5)
    assert "reached €9.50, close to the €10.00 held on your card" in notice


def test_a_stop_at_the_hold_the_charger_refused_is_sent_again_until_it_accepts(server, db,
                                                                               station):
    evse = _priced_at_five_euros_a_kwh(db, station)
    answers = iter(["Rejected", "Accepted"])
    with LibraryCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.cp.answers["RemoteStopTransaction"] = \
            lambda **_: call_result.RemoteStopTransaction(status=next(answers, "Accepted"))
        token, transaction_id = _charging_past_its_hold(server, charger, evse)

        def stops() -> int:
            return sum(action == "RemoteStopTransaction" for action, _ in charger.cp.received)

        assert eventually(lambda: stops() >= 1, seconds=15)
        assert _notice(db, token) is None  # refused: the driver is not told it stopped
        assert eventually(lambda: stops() >= 2, seconds=15)
        notice = eventually(lambda: _notice(db, token), seconds=5)
    assert "reached €9.50, close to the €10.00 held on your card" in notice


def test_an_owner_refund_is_recorded_with_its_reason_and_limited_to_what_was_taken(db,
                                                                                   station):
    from voltspot.services.errors import InvalidInput
    from voltspot.services.payments.holds import refund

    session_id = _session_row(db, station, status=SessionStatus.COMPLETED, cost=1200,
                              hold_amount=5000, amount_captured=1200,
                              payment_reference="demo_paid", payment_state=PaymentState.CAPTURED)
    refund(db, DemoGateway(), session_id, 200, "the plug was faulty for 10 minutes")
    with pytest.raises(InvalidInput):
        refund(db, DemoGateway(), session_id, 1001, "too much")
    with pytest.raises(InvalidInput):
        refund(db, DemoGateway(), session_id, 100, " ")
    with db.session() as session:
        row = session.get(ChargingSession, session_id)
        assert (row.amount_refunded, row.refund_reason) == (
            200, "the plug was faulty for 10 minutes")


def test_the_server_starts_a_session_whose_hold_another_process_confirmed(server, db,
                                                                          station):
    with db.session() as session:
        stored = session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id))
        plug = stored.connectors[0]
        connector = {"connector_pk": plug.id, "connector_id": plug.connector_id}
    with LibraryCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        # What `voltspot payments reconcile` leaves: the hold confirmed, nobody asked yet.
        session_id = _session_row(db, station, status=SessionStatus.AUTHORISED,
                                  id_tag="VSCONFIRMEDELSEWHERE", origin="driver",
                                  hold_amount=5000, payment_reference="demo_elsewhere",
                                  payment_state=PaymentState.HELD, **connector)
        assert eventually(lambda: any(
            action == "RemoteStartTransaction" and asked["id_tag"] == "VSCONFIRMEDELSEWHERE"
            for action, asked in charger.cp.received))
    with db.session() as session:
        row = session.get(ChargingSession, session_id)
        assert row.status == SessionStatus.STARTING and row.requested_at is not None
