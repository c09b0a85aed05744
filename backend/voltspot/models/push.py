"""Web Push: the installation's VAPID key pair, the devices that asked to be told about a
session, and the notices queued for them (an outbox, drained by a once-only job)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from voltspot.domain.notifications import NoticeKind
from voltspot.models.base import Base, StrEnumText, utcnow


class PushKeys(Base):
    """The one VAPID key pair of the installation (row id 1): made on first use and kept,
    because every subscription a browser holds is bound to its public key."""

    __tablename__ = "push_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The private key as PEM (PKCS#8); the public key as the uncompressed point, base64url.
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushSubscription(Base):
    """A browser's push subscription for one charging session (the Push API's endpoint and
    keys), with the language its notices are written in."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (
        UniqueConstraint("session_id", "endpoint", name="uq_push_subscriptions_session_endpoint"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("charging_sessions.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000))
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PushNotice(Base):
    """One notice for one subscription: queued once per kind, retried
    with backoff while the push service fails; ``done_at`` when it was sent or given up
    (stale, or the subscription gone), ``last_error`` saying why not sent."""

    __tablename__ = "push_notices"
    __table_args__ = (
        UniqueConstraint("subscription_id", "kind", name="uq_push_notices_subscription_kind"),
        Index("ix_push_notices_due", "done_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="CASCADE"))
    kind: Mapped[NoticeKind] = mapped_column(StrEnumText(NoticeKind, 24))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
