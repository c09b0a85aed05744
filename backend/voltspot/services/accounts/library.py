"""What a driver's account keeps: their charging sessions (on any device) and favourite
sites; and the driver's rights over it: a copy of everything kept (GDPR art. 15 and 20)
and deleting the account (art. 17). Each function owns its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from voltspot.db import Database
from voltspot.domain.statuses import SessionStatus
from voltspot.models import (
    ChargingSession,
    DriverAccount,
    DriverAccountSession,
    DriverPasskey,
    DriverSignIn,
    DriverSignInLink,
    FavouriteSite,
    ReceiptEmail,
    Site,
    Station,
    utcnow,
)
from voltspot.services.driver.spots import SiteView, _load_sites
from voltspot.services.errors import NotFound
from voltspot.services.messages import N_

MAX_LISTED = 200


@dataclass(frozen=True)
class KeptSession:
    """One of the account's sessions as "My sessions" lists it."""

    token: str
    site_name: str
    connector_id: int | None
    status: SessionStatus
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    energy_wh: int
    currency: str | None
    cost: int | None
    timezone: str

    @property
    def is_open(self) -> bool:
        return self.status.is_open


def kept_sessions(db: Database, account_id: int, limit: int = MAX_LISTED) -> list[KeptSession]:
    """The account's sessions, newest first."""
    with db.session() as session:
        rows = session.execute(
            select(ChargingSession, Site.name, Site.timezone)
            .join(DriverAccountSession, DriverAccountSession.session_id == ChargingSession.id)
            .join(Station, Station.id == ChargingSession.station_id)
            .outerjoin(Site, Site.id == Station.site_id)
            .where(DriverAccountSession.account_id == account_id)
            .order_by(ChargingSession.created_at.desc(), ChargingSession.id.desc())
            .limit(limit)).all()
        return [KeptSession(
            token=c.token, site_name=name or "", connector_id=c.connector_id, status=c.status,
            created_at=c.created_at, started_at=c.started_at, stopped_at=c.stopped_at,
            energy_wh=c.energy_wh, currency=c.currency, cost=c.cost,
            timezone=timezone or "UTC") for c, name, timezone in rows]


def favourite_ids(db: Database, account_id: int) -> set[int]:
    """The ids of the account's favourite sites."""
    with db.session() as session:
        return set(session.scalars(select(FavouriteSite.site_id).where(
            FavouriteSite.account_id == account_id)))


def favourite_sites(db: Database, account_id: int) -> list[SiteView]:
    """The account's favourite sites with their plugs' state now, by name."""
    with db.session() as session:
        ids = list(session.scalars(
            select(FavouriteSite.site_id).join(Site, Site.id == FavouriteSite.site_id)
            .where(FavouriteSite.account_id == account_id).order_by(Site.name)))
        return _load_sites(session, ids, utcnow())


def set_favourite(db: Database, account_id: int, site_id: int, favourite: bool) -> None:
    """Star (``favourite``) or unstar a site; starring twice keeps one star. Raises
    :class:`NotFound` for a site that does not exist."""
    with db.session() as session:
        if session.get(Site, site_id) is None:
            raise NotFound(N_("We could not find that charging site."))
        present = session.get(FavouriteSite, (account_id, site_id))
        if favourite and present is None:
            session.add(FavouriteSite(account_id=account_id, site_id=site_id))
        elif not favourite and present is not None:
            session.delete(present)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export_data(db: Database, account_id: int) -> dict:
    """Everything Voltspot keeps about the account, as JSON-ready data: the account, its
    sessions (with what was paid), favourite sites, passkeys (not their keys) and
    signed-in browsers (when, not their tokens)."""
    with db.session() as session:
        account = session.get(DriverAccount, account_id)
        if account is None:
            raise NotFound(N_("This account no longer exists."))
        rows = session.execute(
            select(ChargingSession, Site.name)
            .join(DriverAccountSession, DriverAccountSession.session_id == ChargingSession.id)
            .join(Station, Station.id == ChargingSession.station_id)
            .outerjoin(Site, Site.id == Station.site_id)
            .where(DriverAccountSession.account_id == account_id)
            .order_by(ChargingSession.created_at)).all()
        favourites = session.execute(
            select(Site.id, Site.name, FavouriteSite.created_at)
            .join(FavouriteSite, FavouriteSite.site_id == Site.id)
            .where(FavouriteSite.account_id == account_id).order_by(Site.name)).all()
        passkeys = session.scalars(select(DriverPasskey).where(
            DriverPasskey.account_id == account_id).order_by(DriverPasskey.id)).all()
        browsers = session.scalars(select(DriverSignIn).where(
            DriverSignIn.account_id == account_id).order_by(DriverSignIn.created_at)).all()
        return {
            "account": {"email": account.email, "language": account.language,
                        "created_at": _iso(account.created_at),
                        "last_sign_in_at": _iso(account.last_sign_in_at)},
            "sessions": [{
                "token": c.token, "site": name, "plug": c.connector_id,
                "status": str(c.status), "created_at": _iso(c.created_at),
                "started_at": _iso(c.started_at), "stopped_at": _iso(c.stopped_at),
                "energy_wh": c.energy_wh, "currency": c.currency, "cost": c.cost,
                "held": c.hold_amount, "paid": c.amount_captured,
                "refunded": c.amount_refunded, "payment": str(c.payment_state),
            } for c, name in rows],
            "favourite_sites": [{"id": i, "name": name, "starred_at": _iso(at)}
                                for i, name, at in favourites],
            "passkeys": [{"registered_at": _iso(p.created_at),
                          "last_used_at": _iso(p.last_used_at)} for p in passkeys],
            "signed_in_browsers": [{"since": _iso(b.created_at),
                                    "last_seen_at": _iso(b.last_seen_at)} for b in browsers],
        }


def delete_account(db: Database, account_id: int) -> None:
    """Delete the account and every personal datum with it: its email, sign-in links,
    signed-in browsers, passkeys, favourites and which sessions were its own. The
    sessions themselves stay for the site owners' accounting, no longer tied to anyone;
    receipts not yet emailed are never sent."""
    with db.session() as session:
        account = session.get(DriverAccount, account_id)
        if account is None:
            return
        email = account.email
        # Explicit deletes, not only ON DELETE CASCADE: SQLite enforces foreign keys only
        # on connections that ask for it, and this must hold on every one.
        session.execute(delete(ReceiptEmail).where(ReceiptEmail.account_id == account_id,
                                                   ReceiptEmail.sent_at.is_(None)))
        session.execute(update(ReceiptEmail).where(ReceiptEmail.account_id == account_id)
                        .values(account_id=None))
        for model in (DriverAccountSession, FavouriteSite, DriverPasskey, DriverSignIn):
            session.execute(delete(model).where(model.account_id == account_id))
        session.execute(delete(DriverSignInLink).where(DriverSignInLink.email == email))
        session.delete(account)

