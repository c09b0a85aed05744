"""Owner sign-in and accounts as use cases for the entry points (the sign-in views and the
``voltspot owner add`` command): each opens and commits its own transaction and returns
plain values, never an :class:`~voltspot.models.Owner` row."""

from __future__ import annotations

from voltspot.db import Database
from voltspot.services.owner import accounts
from voltspot.services.owner.accounts import Viewer


def viewer(db: Database, owner_id: int) -> Viewer | None:
    """Who the owner with ``owner_id`` is to the owner pages, or None when the account is
    gone."""
    with db.session() as session:
        return accounts.viewer_for(session, owner_id)


def sign_in_with_password(db: Database, email: str, password: str) -> int | None:
    """The id of the owner whose email and password match (their sign-in is recorded), or
    None, taking as long either way."""
    with db.session() as session:
        owner = accounts.authenticate(session, email, password)
        return owner.id if owner else None


def sign_in_with_oidc(db: Database, issuer: str, subject: str, email: str | None,
                      name: str | None) -> int:
    """The id of the owner for an OpenID Connect identity (see
    :func:`~voltspot.services.owner.accounts.sign_in_oidc`: found, linked by a verified
    email, or created)."""
    with db.session() as session:
        return accounts.sign_in_oidc(session, issuer, subject, email, name).id


def add_owner(db: Database, email: str, password: str | None, *, name: str = "",
              admin: bool = False) -> str:
    """Create a local owner account; returns its email as stored. Raises
    :class:`~voltspot.services.errors.InvalidInput` or
    :class:`~voltspot.services.errors.Conflict` as
    :func:`~voltspot.services.owner.accounts.create_owner` does."""
    with db.session() as session:
        return accounts.create_owner(session, email, password, name=name, admin=admin).email
