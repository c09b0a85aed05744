"""Card holds: the PaymentGateway interface, the demo gateway, and settling sessions.

A hold is placed before a charger is started, captured at the real cost when the
session ends, and released when charging never started. Every call to the provider is
preceded by recording the intent and followed by recording the outcome, so a crash in
between is repaired by :func:`settle_pending` on its next run.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy import select

from voltspot.db import Database
from voltspot.domain.statuses import PaymentState
from voltspot.models import ChargingSession
from voltspot.services.errors import InvalidInput, ServiceError

log = logging.getLogger(__name__)


class PaymentDeclined(ServiceError):
    """The card or the provider said no; the message is for the driver."""


class PaymentUnavailable(ServiceError):
    """The provider could not be reached or is busy; safe to try again."""


@dataclass(frozen=True)
class Hold:
    """A hold asked for. ``confirmed``: the money is held now (demo); otherwise the driver
    confirms it on our page with ``client_secret`` (Stripe Payment Element)."""

    reference: str
    amount: int
    currency: str
    confirmed: bool
    client_secret: str | None = None


class HoldState(StrEnum):
    PENDING = "pending"
    HELD = "held"
    FAILED = "failed"


class PaymentGateway(Protocol):
    """Money movements for one session. ``idempotency_key`` makes every retry safe.
    Failures raise :class:`PaymentDeclined` (the driver's card said no) or
    :class:`PaymentUnavailable` (try again)."""

    is_demo: bool
    publishable_key: str | None

    def hold(self, amount: int, currency: str, description: str, idempotency_key: str,
             metadata: dict[str, str]) -> Hold:
        """Ask for ``amount`` to be authorised on the driver's card, not taken."""
        ...

    def hold_state(self, reference: str) -> HoldState:
        """Where the hold stands at the provider (the truth, whatever the browser said)."""
        ...

    def client_secret(self, reference: str) -> str | None:
        """What the payment page needs to let the driver confirm the hold."""
        ...

    def capture(self, reference: str, amount: int, idempotency_key: str) -> None:
        """Take ``amount`` (≤ the hold) and release the rest."""
        ...

    def release(self, reference: str, idempotency_key: str) -> None:
        """Release the whole hold."""
        ...

    def refund(self, reference: str, amount: int, reason: str, idempotency_key: str) -> None:
        """Give back ``amount`` of what was captured."""
        ...


class DemoGateway:
    """The embedded default with no provider configured: every hold succeeds and no card
    is involved. Pages say "Demo payment — no card charged" wherever money shows."""

    is_demo = True
    publishable_key = None

    def hold(self, amount: int, currency: str, description: str, idempotency_key: str,
             metadata: dict[str, str]) -> Hold:
        reference = "demo_" + uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex[:24]
        log.info("demo hold %s of %s %s for %s", reference, amount, currency, description)
        return Hold(reference, amount, currency, confirmed=True)

    def hold_state(self, reference: str) -> HoldState:
        return HoldState.HELD

    def client_secret(self, reference: str) -> str | None:
        return None

    def capture(self, reference: str, amount: int, idempotency_key: str) -> None:
        log.info("demo capture %s of %s", reference, amount)

    def release(self, reference: str, idempotency_key: str) -> None:
        log.info("demo release %s", reference)

    def refund(self, reference: str, amount: int, reason: str, idempotency_key: str) -> None:
        log.info("demo refund %s of %s: %s", reference, amount, reason)


def settle_pending(db: Database, gateway: PaymentGateway, limit: int = 100) -> int:
    """Capture or release every session whose intent is recorded but not yet carried out.

    Zero-cost sessions are released, not captured for 0. A provider error leaves the
    intent in place for the next run and records the error for the owner to see.
    Returns how many sessions were settled.
    """
    with db.session() as session:
        due = session.execute(select(
            ChargingSession.id, ChargingSession.payment_state, ChargingSession.payment_reference,
            ChargingSession.cost, ChargingSession.hold_amount).where(
                ChargingSession.payment_state.in_([PaymentState.TO_SETTLE,
                                                   PaymentState.TO_RELEASE]))
            .limit(limit)).all()
    settled = 0
    for session_id, state, reference, cost, hold in due:
        capture = state == PaymentState.TO_SETTLE and (cost or 0) > 0
        amount = min(cost or 0, hold or 0)
        try:
            if capture:
                gateway.capture(reference, amount, idempotency_key=f"capture-{session_id}")
            else:
                gateway.release(reference, idempotency_key=f"release-{session_id}")
        except Exception as error:  # noqa: BLE001 - any provider failure is retried later
            log.warning("session %s: payment %s failed, will retry: %s", session_id,
                        "capture" if capture else "release", error)
            with db.session() as session:
                session.get(ChargingSession, session_id).payment_error = str(error)[:300]
            continue
        with db.session() as session:
            row = session.get(ChargingSession, session_id)
            row.payment_state = PaymentState.CAPTURED if capture else PaymentState.RELEASED
            row.amount_captured = amount if capture else 0
            row.payment_error = None
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
        reference, already = charging.payment_reference, charging.amount_refunded
    gateway.refund(reference, amount, reason,
                   idempotency_key=f"refund-{session_id}-{already}-{amount}")
    with db.session() as session:
        charging = session.get(ChargingSession, session_id)
        charging.amount_refunded += amount
        charging.refund_reason = reason[:300]
