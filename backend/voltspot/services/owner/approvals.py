"""Sign-in requests: the identities an OpenID Connect provider created that wait for an
admin (their email's domain is not one ``VOLTSPOT_OIDC_ALLOWED_DOMAINS`` lets in at once),
listed for admins on the owner page, each let in or refused there.

Only admins see or decide them: for anyone else every function raises :class:`NotFound`,
as for a page that does not exist. Each function opens and commits its own transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from voltspot.db import Database
from voltspot.models import Owner, utcnow
from voltspot.services.errors import NotFound
from voltspot.services.owner.accounts import Viewer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SignInRequest:
    """An identity waiting to be let in: its owner row's id, the email and name the
    provider gave, the provider (issuer) and when it first signed in."""

    owner_id: int
    email: str
    name: str
    issuer: str
    asked_at: datetime


def _require_admin(viewer: Viewer) -> None:
    if not viewer.is_admin or viewer.owner_id is None:
        raise NotFound("no such page")


def _waiting(session, owner_id: int) -> Owner:
    owner = session.scalar(select(Owner).where(
        Owner.id == owner_id, Owner.approved.is_(False), Owner.refused_at.is_(None),
        Owner.oidc_subject.is_not(None)))
    if owner is None:
        raise NotFound("no such sign-in request: it may have been decided already")
    return owner


def sign_in_requests(db: Database, viewer: Viewer) -> list[SignInRequest]:
    """The identities waiting for an admin, oldest first. Raises :class:`NotFound`
    unless the viewer is an admin."""
    _require_admin(viewer)
    with db.session() as session:
        owners = session.scalars(select(Owner).where(
            Owner.approved.is_(False), Owner.refused_at.is_(None),
            Owner.oidc_subject.is_not(None)).order_by(Owner.created_at, Owner.id))
        return [SignInRequest(owner.id, owner.email, owner.name, owner.oidc_issuer or "",
                              owner.created_at) for owner in owners]


def decide_sign_in_request(db: Database, viewer: Viewer, owner_id: int, *, let_in: bool
                           ) -> str:
    """Let in (``let_in``) or refuse a waiting identity; returns its email. A refused
    identity is told so when it signs in again, and stays out. Raises :class:`NotFound`
    unless the viewer is an admin and the identity is waiting."""
    _require_admin(viewer)
    with db.session() as session:
        owner = _waiting(session, owner_id)
        if let_in:
            owner.approved = True
        else:
            owner.refused_at = utcnow()
        log.info("owner %s %s the sign-in of %s (%s)", viewer.owner_id,
                 "let in" if let_in else "refused", owner.id, owner.email)
        return owner.email
