"""Site owners: accounts, sign-in, and what each owner may see.

Every owner-facing lookup goes through :func:`scope_sites` or one of the ``owned_*``
functions, which raise :class:`NotFound` for another owner's object, exactly as for one
that does not exist (no hint that it does)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from voltspot.models import (
    ChargingSession,
    Connector,
    IdToken,
    Owner,
    Site,
    Station,
    Tariff,
    utcnow,
)
from voltspot.passwords import hash_password, password_matches
from voltspot.services.errors import Conflict, InvalidInput, NotFound

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 12


@dataclass(frozen=True)
class Viewer:
    """Who is looking: an owner's id, and whether they see everything. ``owner_id`` None is
    the operator's scripts (:data:`OPERATOR`): they see everything and own nothing."""

    owner_id: int | None
    is_admin: bool


OPERATOR = Viewer(owner_id=None, is_admin=True)


def create_owner(session: Session, email: str, password: str | None, *, name: str = "",
                 admin: bool = False) -> Owner:
    """A local owner account; the password is stored as a strong hash. Raises
    :class:`InvalidInput` for a malformed email or a short password, :class:`Conflict`
    when the email is taken."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput(f"{email!r} is not an email address")
    if password is not None and len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password must be at least {MIN_PASSWORD} characters")
    if session.scalar(select(Owner.id).where(Owner.email == email)):
        raise Conflict(f"an owner with email {email} already exists")
    owner = Owner(email=email, name=name, is_admin=admin,
                  password_hash=hash_password(password) if password else None)
    session.add(owner)
    session.flush()
    return owner


_TIMING_HASH: list[str] = []


def _timing_hash() -> str:
    # A real hash to check a password against when there is no account, made once, so an
    # unknown email costs one check like a wrong password (not a hash and a check).
    if not _TIMING_HASH:
        _TIMING_HASH.append(hash_password(secrets.token_urlsafe(16)))
    return _TIMING_HASH[0]


def authenticate(session: Session, email: str, password: str) -> Owner | None:
    """The owner whose email and password match, or None: the same answer, and one
    password check either way, for an unknown email and a wrong password."""
    owner = session.scalar(select(Owner).where(Owner.email == email.strip().lower()))
    if owner is None or owner.password_hash is None:
        password_matches(_timing_hash(), password)
        return None
    if not password_matches(owner.password_hash, password):
        return None
    owner.last_login_at = utcnow()
    return owner


class OidcRefusal(StrEnum):
    """Why a provider identity was not signed in."""

    AWAITING_APPROVAL = "awaiting approval"
    REFUSED = "refused"
    EMAIL_TAKEN = "email taken"
    LINKED_ELSEWHERE = "linked elsewhere"


@dataclass(frozen=True)
class OidcOutcome:
    """The owner a provider identity signs in as, or why it does not."""

    owner_id: int | None
    refusal: OidcRefusal | None = None


def _email_domain(email: str | None) -> str:
    return email.rsplit("@", 1)[-1].lower() if email and "@" in email else ""


def sign_in_oidc(session: Session, issuer: str, subject: str, email: str | None,
                 name: str | None, *, allowed_domains: frozenset[str] = frozenset(),
                 link_to: int | None = None) -> OidcOutcome:
    """The owner for an OpenID Connect identity, found by issuer and subject only.

    - ``link_to``: the id of the owner signed in with their password who asked to attach
      this identity; it is attached unless another owner already has it.
    - A known identity signs in as its owner once that owner is approved.
    - An unknown identity never takes over an account, even one with its email: when the
      (verified) email is taken the identity is refused. Otherwise a new owner is created,
      approved at once only when the email's domain is in ``allowed_domains`` (else an
      admin approves or refuses it: the owner page's sign-in requests, or ``voltspot
      owner approve``). A refused identity stays refused."""
    owner = session.scalar(select(Owner).where(Owner.oidc_issuer == issuer,
                                               Owner.oidc_subject == subject))
    if link_to is not None:
        if owner is not None and owner.id != link_to:
            return OidcOutcome(None, OidcRefusal.LINKED_ELSEWHERE)
        owner = session.get(Owner, link_to)
        if owner is None:
            raise NotFound("no such owner")
        owner.oidc_issuer, owner.oidc_subject = issuer, subject
    elif owner is None:
        address = (email or f"{subject}@{issuer}").strip().lower()
        if session.scalar(select(Owner.id).where(Owner.email == address)):
            return OidcOutcome(None, OidcRefusal.EMAIL_TAKEN)
        owner = Owner(email=address, name=name or "", oidc_issuer=issuer,
                      oidc_subject=subject,
                      approved=bool(email) and _email_domain(email) in allowed_domains)
        session.add(owner)
    if not owner.approved:
        session.flush()
        return OidcOutcome(None, OidcRefusal.AWAITING_APPROVAL if owner.refused_at is None
                           else OidcRefusal.REFUSED)
    owner.last_login_at = utcnow()
    session.flush()
    return OidcOutcome(owner.id)


def approve_owner(session: Session, email: str) -> Owner:
    """Let the owner with ``email`` in (an identity a provider created); raises
    :class:`NotFound`."""
    owner = session.scalar(select(Owner).where(Owner.email == email.strip().lower()))
    if owner is None:
        raise NotFound(f"no owner with email {email.strip().lower()}")
    owner.approved, owner.refused_at = True, None
    return owner


def viewer_for(session: Session, owner_id: int) -> Viewer | None:
    """Who the owner is to the owner pages, or None when the account is gone or not
    approved yet."""
    owner = session.get(Owner, owner_id)
    return Viewer(owner.id, owner.is_admin) if owner and owner.approved else None


def scope_sites(viewer: Viewer, statement: Select) -> Select:
    """``statement`` (which must involve :class:`Site`) limited to the viewer's sites."""
    return _own_rows(viewer, statement, Site.owner_id)


def _one(session: Session, statement: Select, what: str):
    found = session.scalar(statement)
    if found is None:
        raise NotFound(f"no such {what}")
    return found


def _own_rows(viewer: Viewer, statement: Select, owner_column) -> Select:
    """``statement`` limited to rows the viewer owns by ``owner_column`` (admins: all)."""
    return statement if viewer.is_admin else statement.where(owner_column == viewer.owner_id)


# Each ``owned_*`` returns the viewer's object or raises NotFound, the same for another
# owner's object as for none at all.

def owned_site(session: Session, viewer: Viewer, site_id: int) -> Site:
    return _one(session, scope_sites(viewer, select(Site).where(Site.id == site_id)), "site")


def owned_station(session: Session, viewer: Viewer, charge_point_id: str) -> Station:
    """A station on one of the viewer's sites (admins also reach pending stations)."""
    statement = select(Station).outerjoin(Site).where(Station.charge_point_id == charge_point_id)
    return _one(session, scope_sites(viewer, statement), "station")


def owned_connector(session: Session, viewer: Viewer, connector_pk: int) -> Connector:
    statement = select(Connector).join(Station).outerjoin(Site).where(Connector.id == connector_pk)
    return _one(session, scope_sites(viewer, statement), "connector")


def owned_tariff(session: Session, viewer: Viewer, tariff_id: int) -> Tariff:
    statement = select(Tariff).where(Tariff.id == tariff_id)
    return _one(session, _own_rows(viewer, statement, Tariff.owner_id), "tariff")


def owned_card(session: Session, viewer: Viewer, card_id: int) -> IdToken:
    statement = select(IdToken).where(IdToken.id == card_id)
    return _one(session, _own_rows(viewer, statement, IdToken.owner_id), "card")


def owned_session(session: Session, viewer: Viewer, session_id: int) -> ChargingSession:
    statement = (select(ChargingSession).join(Station, ChargingSession.station_id == Station.id)
                 .outerjoin(Site).where(ChargingSession.id == session_id))
    return _one(session, scope_sites(viewer, statement), "session")
