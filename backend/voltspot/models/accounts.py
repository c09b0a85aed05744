"""Drivers' optional accounts: who they are (an email), how they sign in (emailed one-time
links, passkeys), the browsers signed in, the sessions and favourite sites the account
keeps, and the receipts to email. Charging never needs any of it.

Tokens (sign-in links, signed-in browsers) are kept as SHA-256 digests only: whoever reads
the database cannot sign in with them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from voltspot.models.base import Base, utcnow


class DriverAccount(Base):
    """A driver who chose to be remembered. ``language`` is the one their emails are
    written in (the driver app's language when they last signed in)."""

    __tablename__ = "driver_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[datetime | None]


class DriverSignInLink(Base):
    """An emailed sign-in link: works once, until ``expires_at``."""

    __tablename__ = "driver_sign_in_links"
    __table_args__ = (Index("ix_driver_sign_in_links_email", "email"),)

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class DriverSignIn(Base):
    """One browser signed in to a driver account (its cookie holds the token)."""

    __tablename__ = "driver_sign_ins"

    token_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("driver_accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class DriverAccountSession(Base):
    """A charging session the account keeps (one account per session)."""

    __tablename__ = "driver_account_sessions"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("charging_sessions.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("driver_accounts.id", ondelete="CASCADE"), index=True)
    attached_at: Mapped[datetime] = mapped_column(default=utcnow)


class FavouriteSite(Base):
    """A site the driver starred."""

    __tablename__ = "driver_favourite_sites"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("driver_accounts.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"),
                                         primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReceiptEmail(Base):
    """The outbox of emailed receipts: one row per settled session of an account, written
    in the transaction that settles it, sent once by a job. ``account_id`` is emptied
    when the account is deleted (an unsent receipt is then never sent)."""

    __tablename__ = "driver_receipt_emails"
    __table_args__ = (Index("ix_driver_receipt_emails_sent", "sent_at"),)

    session_id: Mapped[int] = mapped_column(
        ForeignKey("charging_sessions.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("driver_accounts.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None]


class DriverPasskey(Base):
    """A WebAuthn credential (passkey) registered to an account."""

    __tablename__ = "driver_passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("driver_accounts.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
