"""Carrying out recorded money intents: settling ended sessions and refunds.

A hold is placed before a charger is started, captured at the real cost when the
session ends, and released when charging never started. Every call to the provider is
preceded by recording the intent and followed by recording the outcome, so a crash in
between is repaired by :func:`settle_pending` on its next run. Idempotency keys are built
from the session's random token, never from database ids: ids start again after a
database reset, and the provider would take a reused key for the old request.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from voltspot.db import Database
from voltspot.domain.statuses import PaymentState
from voltspot.models import ChargingSession
from voltspot.services.accounts.receipts import queue_receipt
from voltspot.services.charging import lifecycle
from voltspot.services.errors import InvalidInput
from voltspot.services.payments.gateways.base import PaymentGateway

log = logging.getLogger(__name__)


def settle_pending(db: Database, gateway: PaymentGateway, limit: int = 100) -> int:
    """Capture or release every session whose intent is recorded but not yet carried out.

    Zero-cost sessions are released, not captured for 0. A provider error leaves the
    intent in place for the next run and records the error for the owner to see.
    Returns how many sessions were settled.
    """
    with db.session() as session:
        due = session.execute(select(
            ChargingSession.id, ChargingSession.token, ChargingSession.payment_state,
            ChargingSession.payment_reference, ChargingSession.cost,
            ChargingSession.hold_amount).where(
                ChargingSession.payment_state.in_([PaymentState.TO_SETTLE,
                                                   PaymentState.TO_RELEASE]))
            .limit(limit)).all()
    settled = 0
    for session_id, token, state, reference, cost, hold in due:
        capture = state == PaymentState.TO_SETTLE and (cost or 0) > 0
        amount = min(cost or 0, hold or 0)
        try:
            if capture:
                gateway.capture(reference, amount, idempotency_key=f"capture-{token}")
            else:
                gateway.release(reference, idempotency_key=f"release-{token}")
        except Exception as error:  # noqa: BLE001 - any provider failure is retried later
            log.warning("session %s: payment %s failed, will retry: %s", session_id,
                        "capture" if capture else "release", error)
            with db.session() as session:
                session.get(ChargingSession, session_id).payment_error = str(error)[:300]
            continue
        with db.session() as session:
            lifecycle.settled(session.get(ChargingSession, session_id),
                              amount if capture else None)
            # A signed-in driver's receipt is emailed once it is final (an outbox row).
            queue_receipt(session, session_id)
        settled += 1
    return settled


def refund(db: Database, gateway: PaymentGateway, session_id: int, amount: int,
           reason: str) -> None:
    """Give a driver back ``amount`` of a captured session (all or part of it), for
    ``reason``. Raises :class:`InvalidInput` for an amount the session cannot refund and
    :class:`PaymentUnavailable` / :class:`PaymentDeclined` from the provider; the refund
    is recorded only once the provider has made it (the idempotency key makes a retry of
    the same refund safe)."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Say why you refund: the driver sees it on the receipt.")
    with db.session() as session:
        charging = session.get(ChargingSession, session_id)
        refundable = (charging.amount_captured or 0) - charging.amount_refunded
        if charging.payment_state != PaymentState.CAPTURED or refundable <= 0:
            raise InvalidInput("Only a paid session can be refunded, up to what was taken.")
        if not 0 < amount <= refundable:
            raise InvalidInput(f"Refund between 0.01 and what is left to refund "
                               f"({refundable} in minor units).")
        reference, already, token = (charging.payment_reference, charging.amount_refunded,
                                     charging.token)
    gateway.refund(reference, amount, reason,
                   idempotency_key=f"refund-{token}-{already}-{amount}")
    with db.session() as session:
        charging = session.get(ChargingSession, session_id)
        charging.amount_refunded += amount
        charging.refund_reason = reason[:300]
