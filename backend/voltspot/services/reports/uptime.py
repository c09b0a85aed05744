"""The uptime report: per station, of the time observed in the period, the share it was
connected and the share it was up (connected with nothing faulted).

:func:`uptime_page` is the report page's unit of work; :func:`uptime` is the query, run
in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from voltspot.db import Database
from voltspot.domain.statuses import ConnectorStatus
from voltspot.models import Connector, Site, Station, StationEvent, StationEventKind, utcnow
from voltspot.services.owner.accounts import Viewer
from voltspot.services.reports.periods import Period
from voltspot.services.reports.picker import Picked, ReportAsk, pick
from voltspot.services.reports.sql import at, dialect_of, in_scope, seconds_between


@dataclass(frozen=True)
class StationUptime:
    charge_point_id: str
    site_name: str
    observed_seconds: float
    connected_seconds: float
    up_seconds: float

    @property
    def known(self) -> bool:
        return self.observed_seconds > 0

    @property
    def uptime_share(self) -> float:
        return self.up_seconds / self.observed_seconds if self.observed_seconds else 0.0

    @property
    def connected_share(self) -> float:
        return self.connected_seconds / self.observed_seconds if self.observed_seconds else 0.0

    @property
    def faulted_seconds(self) -> float:
        return self.connected_seconds - self.up_seconds


@dataclass(frozen=True)
class Uptime:
    """Per station, of the time observed in the period: the share it was connected, and
    the share it was connected with nothing faulted (its uptime)."""

    period: Period
    period_seconds: float
    stations: list[StationUptime]


def _uptime_rows(dialect: str, scoped: Callable[[ColumnElement], ColumnElement[bool]],
                 start: datetime, end: datetime) -> Select:
    """Per station id: observed, connected and up seconds between ``start`` and ``end``,
    for the stations ``scoped`` accepts.

    The connection holds its state until the station's next connection event; a Faulted
    status holds until the next status of the same connector (connector 0 being the whole
    station). Each starts in the state of its last event before ``start``, found by one
    index probe per station and per connector. A station is observed from its first
    connection event, and up while connected with nothing Faulted. Only connection events
    and Faulted statuses are read in the period (partial indexes), so the cost does not
    grow with the many ordinary status notifications of busy plugs. The intervals are
    merged by a sweep: +1/-1 at each interval's start and end, running sums, then the
    length of each segment between consecutive moments.
    """
    event, later = StationEvent, aliased(StationEvent)
    # Written into the SQL (not a parameter) so PostgreSQL can use the partial index
    # ix_station_events_faults whatever plan it caches.
    faulted = literal_column(f"'{ConnectorStatus.FAULTED}'")
    since_start = at(start)

    def state_before(value: ColumnElement, station_id: ColumnElement,
                     stream: ColumnElement) -> ColumnElement:
        return (select(value).where(event.station_id == station_id, stream, event.at < since_start)
                .order_by(event.at.desc(), event.id.desc()).limit(1).scalar_subquery())

    # The state each stream was in at ``start``, as an event at ``start`` (id 0, so it
    # sorts before a real event at that very moment).
    connection_seeds = select(
        Station.id.label("station_id"), since_start.label("at"), literal(0).label("id"),
        state_before(event.kind, Station.id, event.connector_id.is_(None)).label("kind"),
    ).where(scoped(Station.id)).subquery("connection_seeds")
    connections = union_all(
        select(connection_seeds).where(connection_seeds.c.kind.is_not(None)),
        select(event.station_id, event.at, event.id, event.kind)
        .where(scoped(event.station_id), event.connector_id.is_(None),
               event.at >= since_start, event.at < at(end)),
    ).subquery("connections")
    connection_intervals = select(
        connections.c.station_id, connections.c.at.label("since"),
        func.coalesce(func.lead(connections.c.at).over(
            partition_by=connections.c.station_id,
            order_by=(connections.c.at, connections.c.id)), at(end)).label("until"),
        case((connections.c.kind == str(StationEventKind.CONNECTED), 1),
             else_=0).label("connected"),
    ).cte("connection_intervals")

    streams = union_all(
        select(Station.id.label("station_id"), literal(0).label("connector_id"))
        .where(scoped(Station.id)),
        select(Connector.station_id, Connector.connector_id).where(scoped(Connector.station_id)),
    ).subquery("streams")
    status_seeds = select(
        streams.c.station_id, streams.c.connector_id, since_start.label("at"),
        literal(0).label("id"),
        state_before(event.status, streams.c.station_id,
                     event.connector_id == streams.c.connector_id).label("status"),
    ).subquery("status_seeds")
    faults = union_all(
        select(status_seeds.c.station_id, status_seeds.c.connector_id, status_seeds.c.at,
               status_seeds.c.id).where(status_seeds.c.status == faulted),
        select(event.station_id, event.connector_id, event.at, event.id)
        .where(scoped(event.station_id), event.status == faulted,
               event.at >= since_start, event.at < at(end)),
    ).subquery("faults")
    cleared = (select(func.min(later.at)).where(
        later.station_id == faults.c.station_id, later.connector_id == faults.c.connector_id,
        later.at >= faults.c.at, later.at < at(end),
        or_(later.at > faults.c.at, later.id > faults.c.id)).scalar_subquery())
    fault_intervals = select(
        faults.c.station_id, faults.c.at.label("since"),
        func.coalesce(cleared, at(end)).label("until")).cte("fault_intervals")

    def changes(intervals, moment: str, sign: int, observed: Any, connected: Any,
                faulted: Any) -> Select:
        return select(intervals.c.station_id, intervals.c[moment].label("t"),
                      (literal(sign) * observed).label("d_observed"),
                      (literal(sign) * connected).label("d_connected"),
                      (literal(sign) * faulted).label("d_faulted"),
                      ).where(intervals.c.until > intervals.c.since)

    link, fault = connection_intervals, fault_intervals
    moments = union_all(
        changes(link, "since", 1, 1, link.c.connected, 0),
        changes(link, "until", -1, 1, link.c.connected, 0),
        changes(fault, "since", 1, 0, 0, 1),
        changes(fault, "until", -1, 0, 0, 1),
    ).subquery("moments")
    points = select(moments.c.station_id, moments.c.t,
                    func.sum(moments.c.d_observed).label("d_observed"),
                    func.sum(moments.c.d_connected).label("d_connected"),
                    func.sum(moments.c.d_faulted).label("d_faulted"),
                    ).group_by(moments.c.station_id, moments.c.t).subquery("points")
    window = {"partition_by": points.c.station_id, "order_by": points.c.t}
    sweep = select(
        points.c.station_id, points.c.t,
        func.lead(points.c.t).over(**window).label("next_t"),
        func.sum(points.c.d_observed).over(**window).label("observed"),
        func.sum(points.c.d_connected).over(**window).label("connected"),
        func.sum(points.c.d_faulted).over(**window).label("faulted"),
    ).subquery("sweep")
    length = seconds_between(dialect, sweep.c.t, sweep.c.next_t)
    return select(
        sweep.c.station_id,
        func.sum(case((sweep.c.observed > 0, length), else_=0)),
        func.sum(case((sweep.c.connected > 0, length), else_=0)),
        func.sum(case((and_(sweep.c.connected > 0, sweep.c.faulted == 0), length), else_=0)),
    ).where(sweep.c.next_t.is_not(None)).group_by(sweep.c.station_id)


def uptime(session: Session, viewer: Viewer, period: Period, site_id: int | None = None,
           now: datetime | None = None) -> Uptime:
    """Uptime of each of the viewer's stations in ``period`` (up to ``now``), from the
    connection and status history in ``station_events``. Time before a station's first
    recorded connection is not observed and counts neither way; a station with no history
    in the period shows as unknown."""
    dialect = dialect_of(session)
    start, end = period.start, period.until(now or utcnow())

    def scoped(column: ColumnElement) -> ColumnElement[bool]:
        return in_scope(column, viewer, site_id)

    figures = {station_id: (float(o or 0), float(c or 0), float(u or 0))
               for station_id, o, c, u in session.execute(
                   _uptime_rows(dialect, scoped, start, end)).all()} if end > start else {}
    stations = session.execute(
        select(Station.id, Station.charge_point_id, Site.name)
        .outerjoin(Site, Station.site_id == Site.id).where(scoped(Station.id))
        .order_by(Site.name, Station.charge_point_id)).all()
    return Uptime(period, (end - start).total_seconds(), [
        StationUptime(cp_id, site_name or "", *figures.get(station_id, (0.0, 0.0, 0.0)))
        for station_id, cp_id, site_name in stations])


@dataclass(frozen=True)
class UptimePage:
    picked: Picked
    report: Uptime


def uptime_page(db: Database, viewer: Viewer, ask: ReportAsk) -> UptimePage:
    """The uptime report page: the picker's choice for ``ask`` and its uptime."""
    with db.session() as session:
        picked = pick(session, viewer, ask)
        return UptimePage(picked, uptime(session, viewer, picked.period, picked.site_id))
