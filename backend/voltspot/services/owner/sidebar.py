"""Read models for the owner page that several of its screens share."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from voltspot.db import Database
from voltspot.domain.availability import station_online
from voltspot.models import Site, Station, utcnow
from voltspot.services.messages import N_
from voltspot.services.owner.accounts import Viewer, scope_sites


@dataclass(frozen=True)
class SidebarStation:
    charge_point_id: str
    online: bool
    pending: bool


@dataclass(frozen=True)
class SidebarSite:
    id: int
    name: str
    stations: list[SidebarStation]


def _sidebar_sites(session: Session, viewer: Viewer) -> list[SidebarSite]:
    now = utcnow()
    sites = session.scalars(scope_sites(viewer, select(Site).options(
        selectinload(Site.stations))).order_by(Site.name)).all()

    def entry(station: Station) -> SidebarStation:
        return SidebarStation(station.charge_point_id,
                              station_online(station.connected, station.last_seen_at,
                                             station.heartbeat_interval, now),
                              station.registration == "Pending")

    result = [SidebarSite(site.id, site.name,
                          [entry(s) for s in sorted(site.stations,
                                                    key=lambda s: s.charge_point_id)])
              for site in sites]
    if viewer.is_admin:
        pending = session.scalars(select(Station).where(Station.site_id.is_(None))
                                  .order_by(Station.charge_point_id)).all()
        if pending:
            result.append(SidebarSite(0, N_("Waiting for adoption"), [entry(s) for s in pending]))
    return result


def sidebar_sites(db: Database, viewer: Viewer) -> list[SidebarSite]:
    """The viewer's sites, each with its stations and whether they are online; for admins
    also a "Waiting for adoption" group of pending stations without a site."""
    with db.session() as session:
        return _sidebar_sites(session, viewer)
