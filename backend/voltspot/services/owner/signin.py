"""Owner sign-in and accounts as use cases for the entry points (the sign-in views and the
``voltspot owner`` commands): each opens and commits its own transaction and returns
plain values, never an :class:`~voltspot.models.Owner` row.

A signed-in browser holds a random token (in its signed session cookie); the server keeps
only the token's digest, with when it was last used. Signing out deletes it, so a copied
cookie is refused afterwards, and a browser left alone longer than the idle timeout is
signed out."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.models import OwnerSignIn, utcnow
from voltspot.services.owner import accounts
from voltspot.services.owner.accounts import OidcOutcome, OidcRefusal, Viewer

# A signed-in browser's last use is written at most this often (not on every request).
SEEN_RESOLUTION = timedelta(seconds=60)

__all__ = ["OidcOutcome", "OidcRefusal", "Viewer", "add_owner", "approve_owner",
           "begin", "end", "forget_expired", "sign_in_with_oidc", "sign_in_with_password", "viewer"]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def begin(db: Database, owner_id: int) -> str:
    """Record a new signed-in browser for ``owner_id``; returns its token (for the cookie
    only: the server keeps a digest)."""
    token = secrets.token_urlsafe(32)
    with db.session() as session:
        session.add(OwnerSignIn(token_digest=_digest(token), owner_id=owner_id))
    return token


def end(db: Database, token: str) -> None:
    """Forget the signed-in browser holding ``token`` (nothing when there is none)."""
    with db.session() as session:
        session.execute(delete(OwnerSignIn).where(OwnerSignIn.token_digest == _digest(token)))


def viewer(db: Database, token: str, *, idle: timedelta, lifetime: timedelta,
           ) -> Viewer | None:
    """Who the browser holding ``token`` is signed in as, or None: when it signed out, was
    left alone longer than ``idle``, signed in longer than ``lifetime`` ago, or its owner
    is gone or not approved. A browser found expired is forgotten."""
    now = utcnow()
    with db.session() as session:
        signed_in = session.get(OwnerSignIn, _digest(token))
        if signed_in is None:
            return None
        if now - signed_in.last_seen_at > idle or now - signed_in.created_at > lifetime:
            session.delete(signed_in)
            return None
        if now - signed_in.last_seen_at > SEEN_RESOLUTION:
            signed_in.last_seen_at = now
        return accounts.viewer_for(session, signed_in.owner_id)


def forget_expired(session: Session, *, idle: timedelta, lifetime: timedelta) -> int:
    """Delete the signed-in browsers left alone longer than ``idle`` or signed in longer
    than ``lifetime`` ago (housekeeping: a browser never seen again leaves its row
    behind); returns how many."""
    now = utcnow()
    return session.execute(delete(OwnerSignIn).where(or_(
        OwnerSignIn.last_seen_at < now - idle,
        OwnerSignIn.created_at < now - lifetime))).rowcount


def sign_in_with_password(db: Database, email: str, password: str) -> int | None:
    """The id of the owner whose email and password match (their sign-in is recorded), or
    None, taking as long either way."""
    with db.session() as session:
        owner = accounts.authenticate(session, email, password)
        return owner.id if owner else None


def sign_in_with_oidc(db: Database, issuer: str, subject: str, email: str | None,
                      name: str | None, *, allowed_domains: frozenset[str] = frozenset(),
                      link_to: int | None = None) -> OidcOutcome:
    """The owner an OpenID Connect identity signs in as, or why not (see
    :func:`~voltspot.services.owner.accounts.sign_in_oidc`: by issuer and subject only;
    attached to an account only from inside it, ``link_to``)."""
    with db.session() as session:
        return accounts.sign_in_oidc(session, issuer, subject, email, name,
                                     allowed_domains=allowed_domains, link_to=link_to)


def add_owner(db: Database, email: str, password: str | None, *, name: str = "",
              admin: bool = False) -> str:
    """Create a local owner account; returns its email as stored. Raises
    :class:`~voltspot.services.errors.InvalidInput` or
    :class:`~voltspot.services.errors.Conflict` as
    :func:`~voltspot.services.owner.accounts.create_owner` does."""
    with db.session() as session:
        return accounts.create_owner(session, email, password, name=name, admin=admin).email


def approve_owner(db: Database, email: str) -> str:
    """Let in the owner a provider identity created; returns the email. Raises
    :class:`~voltspot.services.errors.NotFound`."""
    with db.session() as session:
        return accounts.approve_owner(session, email).email
