"""The utilisation report: per connector, the share of the period a session occupied
it and the share it was charging.

:func:`utilisation_page` is the report page's unit of work; :func:`utilisation` is the
query, run in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.models import ChargingSession, Connector, Site, Station, utcnow
from voltspot.services.owner.accounts import Viewer
from voltspot.services.reports.periods import LONGEST_SESSION, Period
from voltspot.services.reports.picker import Picked, ReportAsk, pick
from voltspot.services.reports.sql import at, dialect_of, greatest, in_scope, least, seconds_between


@dataclass(frozen=True)
class ConnectorUse:
    charge_point_id: str
    site_name: str
    connector_id: int
    sessions: int
    occupied_seconds: float
    charging_seconds: float
    period_seconds: float

    @property
    def occupied_share(self) -> float:
        return self.occupied_seconds / self.period_seconds if self.period_seconds else 0.0

    @property
    def charging_share(self) -> float:
        return self.charging_seconds / self.period_seconds if self.period_seconds else 0.0


@dataclass(frozen=True)
class Utilisation:
    """Per connector, the share of the period (up to now) that a session occupied it
    (start to stop) and that it was charging (start until charging ended)."""

    period: Period
    period_seconds: float
    connectors: list[ConnectorUse]


def utilisation(session: Session, viewer: Viewer, period: Period, site_id: int | None = None,
                now: datetime | None = None) -> Utilisation:
    """Utilisation of each of the viewer's connectors in ``period``; a session running
    across the period's edges counts with its part inside. A session still open counts
    until ``now``."""
    dialect = dialect_of(session)
    now = now or utcnow()
    start, end = period.start, period.until(now)
    clipped_start = greatest(dialect, ChargingSession.started_at, at(start))

    def span(until: ColumnElement) -> ColumnElement:
        return greatest(dialect, seconds_between(
            dialect, clipped_start, least(dialect, func.coalesce(until, at(now)), at(end))), 0)

    occupied = span(ChargingSession.stopped_at)
    charging = span(func.coalesce(ChargingSession.charging_ended_at, ChargingSession.stopped_at))
    used = {(station_id, connector_id): (n, float(o or 0), float(c or 0))
            for station_id, connector_id, n, o, c in session.execute(
                select(ChargingSession.station_id, ChargingSession.connector_id, func.count(),
                       func.sum(occupied), func.sum(charging))
                .where(in_scope(ChargingSession.station_id, viewer, site_id),
                       ChargingSession.started_at >= at(start - LONGEST_SESSION),
                       ChargingSession.started_at < at(end),
                       func.coalesce(ChargingSession.stopped_at, at(now)) > at(start))
                .group_by(ChargingSession.station_id, ChargingSession.connector_id)).all()}
    connectors = session.execute(
        select(Station.id, Station.charge_point_id, Site.name, Connector.connector_id)
        .join(Station, Connector.station_id == Station.id)
        .outerjoin(Site, Station.site_id == Site.id)
        .where(in_scope(Station.id, viewer, site_id))
        .order_by(Site.name, Station.charge_point_id, Connector.connector_id)).all()
    seconds = (end - start).total_seconds()
    return Utilisation(period, seconds, [
        ConnectorUse(cp_id, site_name or "", connector_id,
                     *used.get((station_id, connector_id), (0, 0.0, 0.0)), seconds)
        for station_id, cp_id, site_name, connector_id in connectors])


@dataclass(frozen=True)
class UtilisationPage:
    picked: Picked
    report: Utilisation


def utilisation_page(db: Database, viewer: Viewer, ask: ReportAsk) -> UtilisationPage:
    """The utilisation report page: the picker's choice for ``ask`` and its utilisation."""
    with db.session() as session:
        picked = pick(session, viewer, ask)
        return UtilisationPage(picked, utilisation(session, viewer, picked.period,
                                                   picked.site_id))
