"""Keeping money right over time: settle recorded intents, ask the provider for the truth
about holds nobody confirmed, stop sessions whose cost reaches their hold, and capture
what is owed before a hold expires. Run periodically by the server and by
``voltspot payments reconcile``.

Only a process that holds the chargers' connections (the server) talks to chargers: the
command line passes no :class:`ChargerControl`, because a process without sockets would
take every charger for offline. It records what it learns (a hold confirmed) and leaves
starting and stopping chargers to the server's next round."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from voltspot.db import Database
from voltspot.domain.money import format_money
from voltspot.domain.notifications import NoticeKind
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import ChargingSession, utcnow
from voltspot.services.charger_control import ChargerControl, ChargerError, ChargerUnreachable
from voltspot.services.charging import lifecycle
from voltspot.services.charging.billing import bill_for
from voltspot.services.driver.notifications import queue_notice
from voltspot.services.driver.start import ask_charger, confirm_hold
from voltspot.services.messages import N_
from voltspot.services.payments.gateways.base import PaymentGateway
from voltspot.services.payments.holds import settle_pending

log = logging.getLogger(__name__)

# A hold left unconfirmed this long is asked about; after ABANDON_AFTER it is given up. Its
# session claims the plug meanwhile, so that is brief (the payment page tells the driver):
# one phone cannot keep a plug from others by never confirming.
ASK_AFTER = timedelta(minutes=1)
CLAIM_MINUTES = 5
ABANDON_AFTER = timedelta(minutes=CLAIM_MINUTES)
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
    started: int = 0


def reconcile(db: Database, gateway: PaymentGateway, control: ChargerControl | None,
              margin_percent: int) -> Outcome:
    """One round of payment upkeep; each step is safe to repeat. ``control`` None: this
    process holds no charger connections, so chargers are neither started nor stopped
    (the server does it on its next round)."""
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
                    lifecycle.fail_session(
                        charging, str(N_("The card payment was not completed in time")))
                    abandoned += 1
    if control is None:
        return Outcome(settled, confirmed, abandoned, expiring=capture_before_expiry(db, now))
    return Outcome(settled, confirmed, abandoned,
                   stop_at_hold(db, control, margin_percent),
                   capture_before_expiry(db, now), start_confirmed(db, control))


def start_confirmed(db: Database, control: ChargerControl) -> int:
    """Ask the chargers of sessions whose hold is confirmed but whose charger nobody has
    asked (the hold was confirmed by the command line) to start; returns how many were
    asked. A charger that refuses or does not answer fails its session, as when the
    driver's own request asks it."""
    with db.session() as session:
        waiting = lifecycle.to_start(session)
    for session_id in waiting:
        ask_charger(db, control, session_id)
    return len(waiting)


def stop_at_hold(db: Database, control: ChargerControl, margin_percent: int) -> int:
    """Stop sessions whose running cost has come within ``margin_percent`` of their hold
    (no top-up of a card hold is possible under SCA), telling the driver why.

    The driver's notice is the record that the charger took the stop: it is written once
    the charger accepted it. A stop the charger refused or never got is sent again on the
    next round, for as long as the session runs. Returns how many stops were accepted."""
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
                notice = (
                    f"We stopped charging because the cost reached "
                    f"{format_money(bill.total, bill.currency)}, close to the "
                    f"{format_money(charging.hold_amount, bill.currency)} held on your card.")
                targets.append((charging.id, charging.station.charge_point_id,
                                charging.charger_transaction_id, notice))
    stopped = 0
    for session_id, charge_point_id, transaction_id, notice in targets:
        try:
            accepted = control.stop_charging(charge_point_id, transaction_id).accepted
        except (ChargerUnreachable, ChargerError) as error:
            log.warning("%s: could not stop transaction %s at its hold, will retry: %s",
                        charge_point_id, transaction_id, error)
            continue
        if not accepted:
            log.warning("%s: refused to stop transaction %s at its hold, will retry",
                        charge_point_id, transaction_id)
            continue
        with db.session() as session:
            session.get(ChargingSession, session_id).notice = notice
            queue_notice(session, session_id, NoticeKind.STOPPED_AT_HOLD)
        stopped += 1
    return stopped


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
            lifecycle.capture_now(
                charging, bill.total if bill else 0,
                "The card hold was about to expire after 7 days, so what the session cost "
                "so far was taken; the rest of it is not billed.")
            count += 1
    return count
