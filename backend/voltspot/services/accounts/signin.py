"""Drivers' accounts as use cases: ask for an emailed sign-in link, follow it, stay signed
in on a browser, sign out. Each function opens and commits its own transaction and returns
plain values.

A sign-in link is a random token in the emailed address; the server keeps its digest,
when it expires and whether it was used: it signs in once, before it expires, and the
account is made on its first use (so an email nobody could read makes no account). A
signed-in browser holds another random token in its cookie; the server keeps its digest
and when it was last used."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.models import (
    ChargingSession,
    DriverAccount,
    DriverAccountSession,
    DriverSignIn,
    DriverSignInLink,
    utcnow,
)
from voltspot.services.accounts.mail import Mail, Mailer
from voltspot.services.errors import Conflict, InvalidInput
from voltspot.services.messages import N_

# A signed-in browser's last use is written at most this often (not on every request).
SEEN_RESOLUTION = timedelta(seconds=60)
# The most session tokens one device may hand over when it signs in.
MAX_DEVICE_SESSIONS = 50
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}")


def digest(token: str) -> str:
    """The SHA-256 digest under which a token is kept."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Account:
    """The signed-in driver: their account id, email and language."""

    id: int
    email: str
    language: str


def normalise_email(raw: str) -> str:
    """``raw`` as the address accounts are kept under (trimmed, lower case); raises
    :class:`InvalidInput` for something that is not an email address."""
    email = raw.strip().lower()
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidInput(N_("“%(email)s” is not an email address. It looks like "
                              "name@example.com.", email=raw.strip()[:80]))
    return email


def send_sign_in_link(db: Database, mailer: Mailer, email: str, *, minutes: int,
                      link_for, write) -> None:
    """Record a new sign-in link for ``email`` (already normalised) valid ``minutes``,
    then email it: ``link_for(token)`` is the link's full address and ``write(email,
    link)`` the :class:`Mail` to send. The link is recorded before the mail leaves, so a
    link that arrives always works. Raises
    :class:`~voltspot.services.accounts.mail.MailUnavailable` when the mail server
    refused it."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with db.session() as session:
        # Links older than a day are of no use to anyone: drop them as new ones are made.
        session.execute(delete(DriverSignInLink).where(
            DriverSignInLink.expires_at < now - timedelta(days=1)))
        session.add(DriverSignInLink(token_digest=digest(token), email=email, created_at=now,
                                     expires_at=now + timedelta(minutes=minutes)))
    mail: Mail = write(email, link_for(token))
    mailer.send(mail)


def link_email(db: Database, token: str) -> str | None:
    """The email a sign-in link was sent to while it still works, else None."""
    with db.session() as session:
        link = session.get(DriverSignInLink, digest(token))
        if link is None or link.used_at is not None or link.expires_at <= utcnow():
            return None
        return link.email


def follow_link(db: Database, token: str, *, language: str,
                device_sessions: Iterable[str] = (), minutes: int = 15) -> tuple[str, Account]:
    """Sign in with an emailed link: the link is used up (of two browsers following it at
    once, one wins), the account is made when it is the email's first, the sessions this
    device started (their tokens, ``device_sessions``) are kept by the account, and a
    signed-in browser is recorded. Returns the browser's token (for its cookie only) and
    the account. Raises :class:`Conflict` when the link expired, was used or never was
    (``minutes``: how long a new one will work, for the words)."""
    now = utcnow()
    with db.session() as session:
        used = session.execute(
            update(DriverSignInLink)
            .where(DriverSignInLink.token_digest == digest(token),
                   DriverSignInLink.used_at.is_(None),
                   DriverSignInLink.expires_at > now)
            .values(used_at=now)).rowcount
        if not used:
            raise Conflict(N_("This sign-in link has expired or was used already. Ask for "
                              "a new one below; it works once, for %(minutes)s minutes.",
                              minutes=minutes))
        email = session.get(DriverSignInLink, digest(token)).email
        account = session.scalar(select(DriverAccount).where(DriverAccount.email == email))
        if account is None:
            account = DriverAccount(email=email, language=language, created_at=now)
            session.add(account)
        account.language = language
        account.last_sign_in_at = now
        session.flush()
        attach(session, account.id, device_sessions)
        browser = _signed_in(session, account.id)
        return browser, Account(account.id, account.email, account.language)


def _signed_in(session: Session, account_id: int) -> str:
    browser = secrets.token_urlsafe(32)
    session.add(DriverSignIn(token_digest=digest(browser), account_id=account_id))
    return browser


def sign_in_account(db: Database, account_id: int, *, language: str,
                    device_sessions: Iterable[str] = ()) -> str:
    """Record a signed-in browser for ``account_id`` (proved otherwise, by a passkey),
    keeping the device's sessions as :func:`follow_link` does; returns the browser's
    token."""
    with db.session() as session:
        account = session.get(DriverAccount, account_id)
        account.language = language
        account.last_sign_in_at = utcnow()
        attach(session, account_id, device_sessions)
        return _signed_in(session, account_id)


def attach(session: Session, account_id: int, tokens: Iterable[str]) -> int:
    """Keep the sessions whose tokens are given in the account (in the caller's
    transaction); sessions another account keeps already stay there. Returns how many were
    added."""
    wanted = list(dict.fromkeys(t for t in tokens if t and len(t) <= 43))[:MAX_DEVICE_SESSIONS]
    if not wanted:
        return 0
    ids = session.scalars(
        select(ChargingSession.id)
        .outerjoin(DriverAccountSession, DriverAccountSession.session_id == ChargingSession.id)
        .where(ChargingSession.token.in_(wanted), DriverAccountSession.session_id.is_(None))
    ).all()
    for session_id in ids:
        session.add(DriverAccountSession(session_id=session_id, account_id=account_id))
    return len(ids)


def keep_session(db: Database, account_id: int, session_token: str) -> None:
    """The signed-in driver started the session ``session_token``: the account keeps it."""
    with db.session() as session:
        attach(session, account_id, [session_token])


def signed_in_account(db: Database, browser: str, *, lifetime: timedelta) -> Account | None:
    """The account the browser holding ``browser`` is signed in to, or None (signed out,
    unused longer than ``lifetime``, or the account was deleted). Using it keeps it
    signed in for another ``lifetime``."""
    now = utcnow()
    with db.session() as session:
        signed_in = session.get(DriverSignIn, digest(browser))
        if signed_in is None:
            return None
        if now - signed_in.last_seen_at > lifetime:
            session.delete(signed_in)
            return None
        if now - signed_in.last_seen_at > SEEN_RESOLUTION:
            signed_in.last_seen_at = now
        account = session.get(DriverAccount, signed_in.account_id)
        return Account(account.id, account.email, account.language)


def set_language(db: Database, account_id: int, language: str) -> None:
    """The account's emails are written in ``language`` from now on."""
    with db.session() as session:
        session.execute(update(DriverAccount).where(DriverAccount.id == account_id)
                        .values(language=language))


def sign_out(db: Database, browser: str) -> None:
    """Forget the signed-in browser holding ``browser`` (nothing when there is none)."""
    with db.session() as session:
        session.execute(delete(DriverSignIn).where(DriverSignIn.token_digest == digest(browser)))


def forget_stale(db: Database, *, lifetime: timedelta) -> int:
    """Delete what no longer signs anyone in: browsers unused longer than ``lifetime`` and
    sign-in links expired over a day ago (kept no longer than needed). Returns how many
    signed-in browsers were forgotten."""
    now = utcnow()
    with db.session() as session:
        session.execute(delete(DriverSignInLink).where(
            DriverSignInLink.expires_at < now - timedelta(days=1)))
        return session.execute(delete(DriverSignIn).where(
            DriverSignIn.last_seen_at < now - lifetime)).rowcount
