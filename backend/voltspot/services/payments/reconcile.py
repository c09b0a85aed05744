"""Keeping money right over time: settle recorded intents, ask the provider for the truth
about holds nobody confirmed, stop sessions whose cost reaches their hold, and capture
what is owed before a hold expires. Run periodically by the server and by
``voltspot payments reconcile``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from voltspot.db import Database
from voltspot.domain.pricing import format_money
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import ChargingSession, utcnow
from voltspot.services.charger_control import ChargerControl, ChargerError, ChargerUnreachable
from voltspot.services.charging.billing import bill_for
from voltspot.services.charging.lifecycle import fail_session
from voltspot.services.driver.journey import confirm_hold
from voltspot.services.payments.holds import PaymentGateway, settle_pending

log = logging.getLogger(__name__)

# A hold left unconfirmed this long is asked about; this long again, it is given up.
ASK_AFTER = timedelta(minutes=2)
ABANDON_AFTER = timedelta(minutes=30)
# Card holds lapse after 7 days; capture what is owed well before.
HOLD_LIFETIME = timedelta(days=7)
CAPTURE_BEFORE_EXPIRY = timedelta(hours=12)


@dataclass(frozen=True)
class Outcome:
    settled: int = 0
    confirmed: int = 0
    abandoned: int = 0
    stopped: int = 0
    expiring: int = 0


def reconcile(db: Database, gateway: PaymentGateway, control: ChargerControl,
              margin_percent: int) -> Outcome:
    """One round of payment upkeep; each step is safe to repeat."""
    now = utcnow()
    settled = settle_pending(db, gateway)
    confirmed = abandoned = 0
    with db.session() as session:
        waiting = session.execute(select(ChargingSession.token, ChargingSession.created_at).where(
            ChargingSession.payment_state == PaymentState.AUTHORISING,
            ChargingSession.payment_reference.is_not(None),
            ChargingSession.created_at < now - ASK_AFTER)).all()
    for token, created_at in waiting:
        try:
            confirm_hold(db, gateway, control, token)
            confirmed += 1
        except Exception as error:  # noqa: BLE001 - the provider may be down; next round
            log.warning("hold of session %s not checked: %s", token[:8], error)
            continue
        if created_at < now - ABANDON_AFTER:
            with db.session() as session:
                charging = session.scalar(select(ChargingSession).where(
                    ChargingSession.token == token,
                    ChargingSession.payment_state == PaymentState.AUTHORISING))
                if charging is not None:
                    fail_session(charging, "The card payment was not completed in time")
                    abandoned += 1
    return Outcome(settled, confirmed, abandoned,
                   stop_at_hold(db, control, margin_percent),
                   capture_before_expiry(db, now))


def stop_at_hold(db: Database, control: ChargerControl, margin_percent: int) -> int:
    """Stop sessions whose running cost has come within ``margin_percent`` of their hold
    (no top-up of a card hold is possible under SCA), telling the driver why."""
    targets = []
    with db.session() as session:
        running = session.scalars(select(ChargingSession).where(
            ChargingSession.payment_state == PaymentState.HELD,
            ChargingSession.status.in_([SessionStatus.CHARGING, SessionStatus.SUSPENDED]),
            ChargingSession.notice.is_(None))).all()
        for charging in running:
            bill = bill_for(session, charging, utcnow())
            limit = (charging.hold_amount or 0) * (100 - margin_percent) // 100
            if bill is not None and bill.total >= limit:
                charging.notice = (
                    f"We stopped charging because the cost reached "
                    f"{format_money(bill.total, bill.currency)}, close to the "
                    f"{format_money(charging.hold_amount, bill.currency)} held on your card.")
                targets.append((charging.station.charge_point_id,
                                charging.charger_transaction_id))
    for charge_point_id, transaction_id in targets:
        try:
            control.stop_charging(charge_point_id, transaction_id)
        except (ChargerUnreachable, ChargerError) as error:
            log.warning("%s: could not stop transaction %s at its hold: %s", charge_point_id,
                        transaction_id, error)
    return len(targets)


def capture_before_expiry(db: Database, now) -> int:
    """Sessions still open as their hold nears its 7 days: what they cost so far is
    captured (the hold cannot outlive that) and the owner sees it on the board."""
    cutoff = now - (HOLD_LIFETIME - CAPTURE_BEFORE_EXPIRY)
    count = 0
    with db.session() as session:
        for charging in session.scalars(select(ChargingSession).where(
                ChargingSession.payment_state == PaymentState.HELD,
                ChargingSession.created_at < cutoff)):
            bill = bill_for(session, charging, now)
            charging.cost = bill.total if bill else 0
            charging.payment_state = PaymentState.TO_SETTLE
            charging.notice = ("The card hold was about to expire after 7 days, so what the "
                               "session cost so far was taken; the rest of it is not billed.")
            count += 1
    return count
