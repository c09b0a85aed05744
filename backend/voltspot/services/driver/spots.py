"""Find a spot: sites near the driver or matching a search, with each plug's
availability and one price line."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain.availability import Availability, plug_availability, station_online
from voltspot.domain.evse_ids import url_safe
from voltspot.domain.pricing import TariffTerms
from voltspot.domain.statuses import ConnectorType
from voltspot.models import ChargingSession, Connector, Site, Station, Tariff, utcnow
from voltspot.services.charging.billing import terms_of
from voltspot.services.errors import NotFound
from voltspot.services.messages import N_

log = logging.getLogger(__name__)


# Plugs that always come on the charger's own cable (DC, and Type 1 cars' AC plug): only
# a Type 2 or domestic plug may be a socket the driver brings a cable for.
ALWAYS_CABLE = frozenset({ConnectorType.CCS2, ConnectorType.CHADEMO, ConnectorType.TYPE1})


@dataclass(frozen=True)
class PlugView:
    connector_pk: int
    evse_id: str
    url_id: str
    number: int
    connector_type: str
    max_power_kw: float
    availability: Availability
    heard_at: datetime | None
    terms: TariffTerms | None = None
    # A cable fixed to the charger; False: a socket, the driver brings a cable.
    tethered: bool = False

    @property
    def label(self) -> str:
        return f"Plug {self.number} · {self.connector_type} · {self.max_power_kw:g} kW"


@dataclass(frozen=True)
class SiteView:
    id: int
    name: str
    address: str
    city: str
    latitude: float | None
    longitude: float | None
    help_phone: str
    opening_hours: str
    plugs: list[PlugView]
    terms: TariffTerms | None
    distance_km: float | None = None

    @property
    def free(self) -> int:
        return sum(p.availability == Availability.FREE for p in self.plugs)

    @property
    def summary(self) -> tuple[str, str]:
        """The availability pill: (words, tone)."""
        if self.free:
            return f"{self.free} of {len(self.plugs)} free", "free"
        states = {p.availability for p in self.plugs}
        if states == {Availability.OFFLINE}:
            return "Offline", "offline"
        if states <= {Availability.OUT_OF_ORDER, Availability.OFFLINE}:
            return "Out of order", "out-of-order"
        return "In use", "in-use"

    @property
    def max_power_kw(self) -> float:
        return max((p.max_power_kw for p in self.plugs), default=0)

    @property
    def connector_types(self) -> list[str]:
        return sorted({p.connector_type for p in self.plugs})


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    radius = 6371.0
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlam = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))


# A site with each plug (a connector with an EVSE id) and its station's state, one row per
# plug (one row with empty plug columns for a site without plugs); ``claim_id`` is the
# session holding the plug for a driver who has not plugged in yet.
_SITE_PLUGS = (
    select(Site.id, Site.name, Site.address, Site.city, Site.latitude, Site.longitude,
           Site.help_phone, Site.opening_hours, Site.timezone,
           Station.connected, Station.last_seen_at, Station.heartbeat_interval,
           Connector.id.label("connector_pk"), Connector.evse_id, Connector.connector_id,
           Connector.connector_type, Connector.max_power_w, Connector.status,
           Connector.tethered, Connector.tariff_id, ChargingSession.id.label("claim_id"))
    .select_from(Site)
    .outerjoin(Station, Station.site_id == Site.id)
    .outerjoin(Connector, (Connector.station_id == Station.id) & Connector.evse_id.is_not(None))
    .outerjoin(ChargingSession, ChargingSession.claimed_connector_pk == Connector.id)
    .order_by(Site.id, Station.id, Connector.connector_id))


def _plug_view(row, terms: TariffTerms | None, now: datetime) -> PlugView:
    online = station_online(row.connected, row.last_seen_at, row.heartbeat_interval, now)
    return PlugView(
        connector_pk=row.connector_pk, evse_id=row.evse_id, url_id=url_safe(row.evse_id),
        number=row.connector_id, connector_type=str(row.connector_type),
        max_power_kw=row.max_power_w / 1000,
        availability=plug_availability(online, row.status, row.claim_id is not None),
        heard_at=row.last_seen_at,
        tethered=row.tethered or row.connector_type in ALWAYS_CABLE, terms=terms)


def _site_view(rows: list, terms_by_tariff: dict[int, TariffTerms], now: datetime,
               distance: float | None) -> SiteView:
    plugs = [_plug_view(row, terms_by_tariff.get(row.tariff_id), now)
             for row in rows if row.connector_pk is not None]
    # The site's headline price: its first priced plug's (each plug page shows its own).
    terms = next((plug.terms for plug in plugs if plug.terms), None)
    site = rows[0]
    return SiteView(id=site.id, name=site.name, address=site.address, city=site.city,
                    latitude=site.latitude, longitude=site.longitude,
                    help_phone=site.help_phone, opening_hours=site.opening_hours,
                    plugs=plugs, terms=terms, distance_km=distance)


def _load_sites(session: Session, site_ids: list[int], now: datetime,
                distances: dict[int, float] | None = None) -> list[SiteView]:
    """The sites ``site_ids`` (those that exist, in that order) with their plugs' state
    at ``now``: two queries, whatever the number of sites."""
    by_site: dict[int, list] = {}
    for row in session.execute(_SITE_PLUGS.where(Site.id.in_(site_ids))):
        by_site.setdefault(row.id, []).append(row)
    tariff_ids = {row.tariff_id for rows in by_site.values() for row in rows if row.tariff_id}
    tariffs = {tariff.id: tariff for tariff in session.scalars(
        select(Tariff).where(Tariff.id.in_(tariff_ids)))} if tariff_ids else {}
    distances = distances or {}
    views = []
    for site_id in site_ids:
        rows = by_site.get(site_id)
        if rows is None:
            continue
        # A tariff's terms are read in the site's time zone (the row's ``timezone``).
        terms_by_tariff = {row.tariff_id: terms_of(tariffs[row.tariff_id], rows[0])
                           for row in rows if row.tariff_id in tariffs}
        views.append(_site_view(rows, terms_by_tariff, now, distances.get(site_id)))
    return views


@dataclass(frozen=True)
class SpotFilters:
    free_only: bool = False
    connector_type: str | None = None
    min_power_kw: float | None = None

    def accepts(self, site: SiteView) -> bool:
        plugs = site.plugs
        if self.connector_type:
            plugs = [p for p in plugs if p.connector_type == self.connector_type]
        if self.min_power_kw:
            plugs = [p for p in plugs if p.max_power_kw >= self.min_power_kw]
        if self.free_only:
            plugs = [p for p in plugs if p.availability == Availability.FREE]
        return bool(plugs)


def find_spots(db: Database, *, near: tuple[float, float] | None = None, query: str = "",
               filters: SpotFilters = SpotFilters(), limit: int = 30) -> list[SiteView]:
    """Sites for a driver: nearest first when ``near`` (lat, lon) is known, else matching
    ``query`` on name, city or address; then ``filters``. At most ``limit`` sites."""
    with db.session() as session:
        return _find_spots(session, near, query, filters, limit)


def _find_spots(session: Session, near: tuple[float, float] | None, query: str,
                filters: SpotFilters, limit: int) -> list[SiteView]:
    now = utcnow()
    # Filters drop sites after they are loaded, so load spares only when filtering.
    candidates = limit * 3 if filters != SpotFilters() else limit
    statement = select(Site.id, Site.latitude, Site.longitude)
    if query.strip():
        pattern = f"%{query.strip()}%"
        statement = statement.where(or_(Site.name.ilike(pattern), Site.city.ilike(pattern),
                                        Site.address.ilike(pattern)))
    if near is None:
        ids = [row.id for row in session.execute(statement.order_by(Site.name)
                                                 .limit(candidates))]
        views = _load_sites(session, ids, now)
    else:
        lat, lon = near
        rows: list = []
        # Widen a bounding box until enough sites are inside: an index range scan instead
        # of measuring the distance to every site.
        for degrees in (0.1, 0.5, 2.0, 10.0, 180.0):
            boxed = statement.where(Site.latitude.between(lat - degrees, lat + degrees),
                                    Site.longitude.between(lon - degrees * 2, lon + degrees * 2))
            rows = session.execute(boxed.limit(limit * 20)).all()
            if len(rows) >= candidates:
                break
        distances = {i: _distance_km(lat, lon, la, lo) for i, la, lo in rows}
        nearest = sorted(distances, key=distances.get)[:candidates]
        views = sorted(_load_sites(session, nearest, now, distances),
                       key=lambda v: v.distance_km)
    return [v for v in views if filters.accepts(v)][:limit]


def site_view(db: Database, site_id: int) -> SiteView:
    """The site page: every plug with its state and price; raises :class:`NotFound`."""
    with db.session() as session:
        return load_site(session, site_id)


def load_site(session: Session, site_id: int) -> SiteView:
    views = _load_sites(session, [site_id], utcnow())
    if not views:
        raise NotFound(N_("We could not find that charging site."))
    return views[0]


