"""Emailed receipts for signed-in drivers, through an outbox.

When a session that an account keeps is settled (its payment captured or released), the
settling transaction also writes a :class:`~voltspot.models.ReceiptEmail` row (at most one
per session: the session id is its key). A once-only job (:func:`send_due_receipts`, under
the cluster's job lock) sends each row's mail off the request and OCPP paths, marks it sent,
and on a mail server's refusal tries again later, waiting longer each time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from voltspot.db import Database, insert_unless_present
from voltspot.domain.statuses import SessionStatus
from voltspot.models import (
    ChargingSession,
    DriverAccount,
    DriverAccountSession,
    ReceiptEmail,
    utcnow,
)
from voltspot.services.accounts.mail import Mail, Mailer, MailUnavailable

log = logging.getLogger(__name__)

# After this many refusals a receipt is given up (logged); the receipt page still has it.
MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class DueReceipt:
    """A receipt to email: to whom, in which language, for which session (its token)."""

    session_id: int
    email: str
    language: str
    token: str


def queue_receipt(session: Session, session_id: int) -> None:
    """In the caller's (settling) transaction: when an account keeps the session and it
    charged (it completed), queue its receipt email, once."""
    row = session.execute(
        select(DriverAccountSession.account_id, ChargingSession.status)
        .join(ChargingSession, ChargingSession.id == DriverAccountSession.session_id)
        .where(DriverAccountSession.session_id == session_id)).first()
    if row is None or row.status != SessionStatus.COMPLETED:
        return
    session.execute(insert_unless_present(session, ReceiptEmail).values(
        session_id=session_id, account_id=row.account_id, created_at=utcnow(), attempts=0,
        next_try_at=utcnow()))


def _due(db: Database, now: datetime, limit: int) -> list[DueReceipt]:
    with db.session() as session:
        rows = session.execute(
            select(ReceiptEmail.session_id, DriverAccount.email, DriverAccount.language,
                   ChargingSession.token)
            .join(DriverAccount, DriverAccount.id == ReceiptEmail.account_id)
            .join(ChargingSession, ChargingSession.id == ReceiptEmail.session_id)
            .where(ReceiptEmail.sent_at.is_(None), ReceiptEmail.next_try_at <= now,
                   ReceiptEmail.attempts < MAX_ATTEMPTS)
            .order_by(ReceiptEmail.next_try_at, ReceiptEmail.session_id).limit(limit)).all()
        return [DueReceipt(*row) for row in rows]


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th refusal: 30 s, doubling, at most 1 h."""
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def send_due_receipts(db: Database, mailer: Mailer, write: Callable[[DueReceipt], Mail],
                      limit: int = 50) -> int:
    """Send the receipts that are due (``write`` words each one); returns how many were
    sent. Run by one process at a time (a once-only job)."""
    sent = 0
    for due in _due(db, utcnow(), limit):
        try:
            mailer.send(write(due))
        except Exception as error:  # noqa: BLE001 - one bad receipt must not stop the rest
            if not isinstance(error, MailUnavailable):
                log.exception("session %s: the receipt email could not be written",
                              due.session_id)
            with db.session() as session:
                row = session.get(ReceiptEmail, due.session_id)
                row.attempts += 1
                row.last_error = str(error)[:300]
                row.next_try_at = utcnow() + retry_delay(row.attempts)
                if row.attempts >= MAX_ATTEMPTS:
                    log.error("session %s: receipt email given up after %s attempts: %s",
                              due.session_id, row.attempts, error)
            continue
        with db.session() as session:
            session.get(ReceiptEmail, due.session_id).sent_at = utcnow()
        sent += 1
    return sent
