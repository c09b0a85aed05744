"""Reports for site owners: energy, sessions and revenue per day, week or month; sessions by
hour of day; utilisation per connector; uptime per station.

Every figure is aggregated by the database (GROUP BY, window functions); Python only folds
the grouped rows (one per bucket and currency, or per hour of day), never loops over
sessions. Days, weeks and hours are those of one reporting time zone (the chosen site's,
else the owner's first site's); :class:`LocalTime` turns UTC columns into local wall-clock
time and truncates them the same way on SQLite and on PostgreSQL.

Energy, sessions and revenue come from hourly totals of the closed sessions
(:mod:`voltspot.models.rollups`), kept here: :func:`count_closed_session` when a session
closes, :func:`count_station_history` when a station joins a site. A year of a network's
sessions is then some 9 000 rows per currency instead of a million sessions.
bench/owner_reports.py measures these queries with a million sessions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Subquery,
    and_,
    case,
    cast,
    delete,
    extract,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from voltspot.domain.statuses import ConnectorStatus
from voltspot.models import (
    ChargingSession,
    Connector,
    NetworkHourTotal,
    Site,
    SiteHourTotal,
    Station,
    StationEvent,
    StationEventKind,
    utcnow,
)
from voltspot.models.base import UTCDateTime
from voltspot.services.errors import InvalidInput
from voltspot.services.owner.accounts import Viewer, scope_sites

PRESETS = ("7", "30", "90")
BUCKETS = ("day", "week", "month")
MAX_PERIOD_DAYS = 1100
# Sessions are looked for from this long before a period, so one running across its start
# counts with its share inside, while the query can still use the index on started_at.
LONGEST_SESSION = timedelta(days=3)


# --- Periods -------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Whole local days ``first_day``..``last_day`` in ``timezone``: from ``start``
    (inclusive) to ``end`` (exclusive), both UTC. ``preset`` is "7", "30", "90" (the last
    so many days, today included) or "custom"."""

    start: datetime
    end: datetime
    timezone: str
    first_day: date
    last_day: date
    preset: str

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def until(self, now: datetime) -> datetime:
        """The end of the part of the period that has happened by ``now``."""
        return max(self.start, min(self.end, now))


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def make_period(timezone: str, now: datetime, preset: str = "30",
                first_day: date | None = None, last_day: date | None = None) -> Period:
    """The report period: a preset (the last 7, 30 or 90 local days, today included) or,
    for ``preset="custom"``, ``first_day`` to ``last_day`` inclusive. Raises
    :class:`InvalidInput` for an unknown preset, a custom period without both days, with
    the days in the wrong order, or longer than :data:`MAX_PERIOD_DAYS`."""
    zone = ZoneInfo(timezone)
    if preset in PRESETS:
        last_day = now.astimezone(zone).date()
        first_day = last_day - timedelta(days=int(preset) - 1)
    elif preset == "custom":
        if first_day is None or last_day is None:
            raise InvalidInput("choose both the first and the last day of the period")
        if last_day < first_day:
            raise InvalidInput("the last day is before the first day; swap them")
        if (last_day - first_day).days + 1 > MAX_PERIOD_DAYS:
            raise InvalidInput(f"a report covers at most {MAX_PERIOD_DAYS} days")
    else:
        raise InvalidInput(f"{preset!r} is not a period; choose 7, 30 or 90 days, or custom")
    return Period(_midnight(first_day, zone), _midnight(last_day + timedelta(days=1), zone),
                  timezone, first_day, last_day, preset)


def default_bucket(period: Period) -> str:
    """Days up to a month, weeks up to a quarter, months beyond."""
    return "day" if period.days <= 31 else "week" if period.days <= 92 else "month"


def bucket_start(day: date, unit: str) -> date:
    """The first day of the day, ISO week (Monday) or month that ``day`` falls in."""
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def _next_bucket(start: date, unit: str) -> date:
    if unit == "week":
        return start + timedelta(days=7)
    if unit == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def bucket_starts(period: Period, unit: str) -> list[date]:
    """Every bucket the period touches, in order."""
    starts, current = [], bucket_start(period.first_day, unit)
    while current <= period.last_day:
        starts.append(current)
        current = _next_bucket(current, unit)
    return starts


def bucket_label(start: date, unit: str) -> str:
    if unit == "week":
        return f"Week of {start.day} {start:%b %Y}"
    if unit == "month":
        return f"{start:%b %Y}"
    return f"{start:%a} {start.day} {start:%b}"


# --- SQL helpers that work on SQLite and PostgreSQL --------------------------------

def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def at(moment: datetime) -> ColumnElement[datetime]:
    """A timestamp parameter stored the way columns store it."""
    return literal(moment, UTCDateTime())


def seconds_between(dialect: str, start: ColumnElement, end: ColumnElement) -> ColumnElement:
    """``end - start`` in seconds (a float)."""
    if dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return extract("epoch", end - start)


def greatest(dialect: str, *values: Any) -> ColumnElement:
    return (func.max if dialect == "sqlite" else func.greatest)(*values)


def least(dialect: str, *values: Any) -> ColumnElement:
    return (func.min if dialect == "sqlite" else func.least)(*values)


def _offset_seconds(zone: ZoneInfo, epoch: int) -> int:
    return int(datetime.fromtimestamp(epoch, UTC).astimezone(zone).utcoffset().total_seconds())


def offset_changes(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The UTC offsets of ``zone`` from ``start`` to ``end``: ``[(since, seconds), ...]``,
    the first one since ``start``; each change found to the second."""
    lo, stop = int(start.timestamp()), int(end.timestamp())
    offset = _offset_seconds(zone, lo)
    changes = [(start, offset)]
    while lo < stop:
        hi = min(lo + 86400, stop)
        if _offset_seconds(zone, hi) != offset:
            # Offsets change at most once a day: bisect to the first second of the new one.
            left, right = lo, hi
            while right - left > 1:
                middle = (left + right) // 2
                if _offset_seconds(zone, middle) == offset:
                    left = middle
                else:
                    right = middle
            offset = _offset_seconds(zone, right)
            changes.append((datetime.fromtimestamp(right, UTC), offset))
        lo = hi
    return changes


class LocalTime:
    """Local wall-clock time of UTC timestamp columns in ``timezone``, correct for the
    offsets in force between ``start`` and ``end`` (summer time included).

    PostgreSQL converts with ``timezone(zone, column)``. SQLite knows no time zones, so
    the column is shifted by the offset in force at that moment: a CASE over the offset
    changes inside the period (at most a few for a year).
    """

    def __init__(self, dialect: str, timezone: str, start: datetime, end: datetime) -> None:
        self.dialect = dialect
        self.timezone = timezone
        self._changes = offset_changes(ZoneInfo(timezone), start, end)

    @property
    def whole_hours(self) -> bool:
        """Every local hour in the range is a whole UTC hour (each offset, and each moment
        it changes, on the hour): UTC hourly totals fold into local time exactly."""
        return all(offset % 3600 == 0 and since.timestamp() % 3600 == 0
                   for since, offset in self._changes)

    def local(self, column: ColumnElement) -> ColumnElement:
        if self.dialect != "sqlite":
            return func.timezone(self.timezone, column)

        def shift(seconds: int) -> str:
            return f"{seconds:+d} seconds"

        if len(self._changes) == 1:
            return func.datetime(column, shift(self._changes[0][1]))
        whens = [(column < at(since), shift(before))
                 for (since, _), (_, before) in zip(self._changes[1:], self._changes, strict=False)]
        return func.datetime(column, case(*whens, else_=shift(self._changes[-1][1])))

    def truncate(self, column: ColumnElement, unit: str) -> ColumnElement:
        """The local start of the hour, day, ISO week (Monday) or month ``column`` falls
        in; read the values with :func:`local_value`."""
        if unit not in ("hour", *BUCKETS):
            raise InvalidInput(f"{unit!r} is not hour, day, week or month")
        local = self.local(column)
        if self.dialect != "sqlite":
            return func.date_trunc(unit, local)
        return {"hour": lambda: func.strftime("%Y-%m-%d %H:00:00", local),
                "day": lambda: func.datetime(local, "start of day"),
                "week": lambda: func.datetime(local, "weekday 0", "-6 days", "start of day"),
                "month": lambda: func.datetime(local, "start of month")}[unit]()

    def hour_of_day(self, column: ColumnElement) -> ColumnElement[int]:
        """The local hour of the day (0 to 23) of ``column``."""
        local = self.local(column)
        if self.dialect != "sqlite":
            return extract("hour", local)
        return cast(func.strftime("%H", local), Integer)


def local_value(value: datetime | str) -> datetime:
    """A :meth:`LocalTime.truncate` value as a naive local datetime (PostgreSQL returns a
    timestamp, SQLite text)."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


# --- Scope ---------------------------------------------------------------------------

def in_scope(column: ColumnElement, viewer: Viewer, site_id: int | None = None
             ) -> ColumnElement[bool]:
    """``column`` (a station id) is one of the viewer's stations, of site ``site_id`` when
    given. An admin looking at every site gets no condition at all, so the database can
    use an index on the other columns alone."""
    if viewer.is_admin and site_id is None:
        return true()
    statement = scope_sites(viewer, select(Station.id).outerjoin(Site, Station.site_id == Site.id))
    if site_id is not None:
        statement = statement.where(Station.site_id == site_id)
    return column.in_(statement)


@dataclass(frozen=True)
class SiteChoice:
    id: int
    name: str
    timezone: str


def site_choices(session: Session, viewer: Viewer) -> list[SiteChoice]:
    """The viewer's sites by name, for pickers."""
    rows = session.execute(scope_sites(viewer, select(Site.id, Site.name, Site.timezone))
                           .order_by(Site.name)).all()
    return [SiteChoice(*row) for row in rows]


def reporting_timezone(sites: list[SiteChoice], site_id: int | None = None) -> str:
    """The chosen site's time zone, else the first site's, else UTC."""
    for site in sites:
        if site.id == site_id:
            return site.timezone
    return sites[0].timezone if sites else "UTC"


# --- Energy, sessions and revenue ------------------------------------------------------

@dataclass(frozen=True)
class BucketRow:
    start: date
    label: str
    sessions: int
    energy_wh: int
    revenue: dict[str, int]


@dataclass(frozen=True)
class HourRow:
    hour: int
    sessions: int
    energy_wh: int


@dataclass(frozen=True)
class Overview:
    """Sessions that started in the period: per bucket, in total, and by local hour of
    the start. Revenue is the sessions' cost (VAT included) per currency, minor units."""

    period: Period
    unit: str
    rows: list[BucketRow]
    sessions: int
    energy_wh: int
    revenue: dict[str, int]
    by_hour: list[HourRow]

    @property
    def currencies(self) -> list[str]:
        return sorted(self.revenue)


def overview(session: Session, viewer: Viewer, period: Period, unit: str,
             site_id: int | None = None) -> Overview:
    """Energy, sessions and revenue per ``unit`` ("day", "week" or "month") and sessions
    by hour of day, for sessions started in ``period`` on the viewer's stations. Raises
    :class:`InvalidInput` for another ``unit``.

    Closed sessions are read from the hourly totals and open ones from the sessions, which
    adds up to exactly the figures of the sessions themselves. In a time zone whose local
    hours are not whole UTC hours (India, Nepal, parts of Australia...) the sessions
    themselves are read."""
    if unit not in BUCKETS:
        raise InvalidInput(f"{unit!r} is not day, week or month")
    clock = LocalTime(dialect_of(session), period.timezone, period.start, period.end)
    scope = in_scope(ChargingSession.station_id, viewer, site_id)
    if clock.whole_hours:
        rows = union_all(_total_rows(viewer, site_id, period),
                         _session_rows(scope, period).where(ChargingSession.stopped_at.is_(None)))
    else:
        rows = _session_rows(scope, period)
    return _fold(session, clock, rows.subquery("figures"), period, unit)


def _session_rows(scope: ColumnElement[bool], period: Period) -> Select:
    """Sessions started in ``period`` within ``scope``, one row each, in the shape of the
    totals: moment, currency, sessions, energy_wh, revenue."""
    return select(ChargingSession.started_at.label("moment"),
                  _billed_currency().label("currency"), literal(1).label("sessions"),
                  ChargingSession.energy_wh.label("energy_wh"),
                  _billed_cost().label("revenue")).where(
        scope, ChargingSession.started_at >= at(period.start),
        ChargingSession.started_at < at(period.end))


def _total_rows(viewer: Viewer, site_id: int | None, period: Period) -> Select:
    """The hourly totals of ``period`` the viewer sees: the network's for an admin looking
    at every site, else those of the viewer's sites (of ``site_id`` when given)."""
    if viewer.is_admin and site_id is None:
        totals, scope = NetworkHourTotal, true()
    else:
        sites = scope_sites(viewer, select(Site.id))
        if site_id is not None:
            sites = sites.where(Site.id == site_id)
        totals, scope = SiteHourTotal, SiteHourTotal.site_id.in_(sites)
    return select(totals.hour_start.label("moment"), totals.currency, totals.sessions,
                  totals.energy_wh, totals.revenue).where(
        scope, totals.hour_start >= at(period.start), totals.hour_start < at(period.end))


def _fold(session: Session, clock: LocalTime, rows: Subquery, period: Period, unit: str
          ) -> Overview:
    """The overview of ``rows`` (moment, currency, sessions, energy_wh, revenue): summed
    per local bucket and currency, and per local hour of day, by the database."""
    bucket = clock.truncate(rows.c.moment, unit)
    counts: dict[date, int] = defaultdict(int)
    energy: dict[date, int] = defaultdict(int)
    revenue: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    for local_start, currency, count, energy_wh, cost in session.execute(
            select(bucket, rows.c.currency, func.sum(rows.c.sessions),
                   func.sum(rows.c.energy_wh), func.sum(rows.c.revenue))
            .group_by(bucket, rows.c.currency)).all():
        start = local_value(local_start).date()
        counts[start] += int(count)
        energy[start] += int(energy_wh or 0)
        if currency:
            revenue[start][currency] += int(cost)
            totals[currency] += int(cost)
    hour = clock.hour_of_day(rows.c.moment)
    hours = {int(h): (int(count), int(energy_wh or 0)) for h, count, energy_wh in session.execute(
        select(hour, func.sum(rows.c.sessions), func.sum(rows.c.energy_wh)).group_by(hour))}
    return Overview(
        period=period, unit=unit,
        rows=[BucketRow(start, bucket_label(start, unit), counts[start], energy[start],
                        dict(revenue[start])) for start in bucket_starts(period, unit)],
        sessions=sum(counts.values()), energy_wh=sum(energy.values()), revenue=dict(totals),
        by_hour=[HourRow(h, *hours.get(h, (0, 0))) for h in range(24)])


# --- Hourly totals of closed sessions --------------------------------------------------

def _billed() -> ColumnElement[bool]:
    return and_(ChargingSession.currency.is_not(None), ChargingSession.cost.is_not(None))


def _billed_currency() -> ColumnElement[str]:
    """The currency a session's cost counts in, "" for a session without a cost."""
    return case((_billed(), ChargingSession.currency), else_=literal(""))


def _billed_cost() -> ColumnElement[int]:
    return case((_billed(), ChargingSession.cost), else_=literal(0))


def utc_hour(moment: datetime) -> datetime:
    """The start of the UTC hour ``moment`` falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _utc_hour_of(dialect: str, column: ColumnElement) -> ColumnElement[datetime]:
    """SQL for :func:`utc_hour`, its value stored as timestamp columns store it."""
    if dialect == "sqlite":
        hour = func.strftime("%Y-%m-%d %H:00:00.000000", column)
    else:
        hour = func.timezone("UTC", func.date_trunc("hour", func.timezone("UTC", column)))
    return type_coerce(hour, UTCDateTime())


def _add_to_totals(session: Session, totals: type[NetworkHourTotal] | type[SiteHourTotal],
                   key: dict[str, Any], sessions: int, energy_wh: int, revenue: int) -> None:
    """Add the figures to the row of ``key`` (made when missing), in one statement that
    concurrent writers cannot interleave."""
    table = totals.__table__
    upsert = (sqlite_insert if dialect_of(session) == "sqlite" else postgresql_insert)(table)
    statement = upsert.values(**key, sessions=sessions, energy_wh=energy_wh, revenue=revenue)
    session.execute(statement.on_conflict_do_update(
        index_elements=list(key),
        set_={name: table.c[name] + statement.excluded[name]
              for name in ("sessions", "energy_wh", "revenue")}))


def count_closed_session(session: Session, charging: ChargingSession) -> None:
    """Count ``charging``, closed a moment ago, in the totals of the UTC hour it started
    in: the network's, and its station's site's when the station is on one.

    Call it once per session, in the transaction that closes it, after its energy and cost
    are final (:func:`voltspot.services.charging.lifecycle._close` does). The totals keep a closed
    session's start, energy, cost and currency as they were then: whatever changes those
    afterwards must change the totals too. A session that never started counts nowhere.
    """
    if charging.started_at is None:
        return
    billed = charging.currency is not None and charging.cost is not None
    key = {"hour_start": utc_hour(charging.started_at),
           "currency": charging.currency if billed else ""}
    figures = (1, charging.energy_wh or 0, charging.cost if billed else 0)
    _add_to_totals(session, NetworkHourTotal, key, *figures)
    site_id = session.get(Station, charging.station_id).site_id
    if site_id is not None:
        _add_to_totals(session, SiteHourTotal, {"site_id": site_id, **key}, *figures)


def _closed_sessions_per_hour(dialect: str, *by: ColumnElement) -> Select:
    """The closed sessions' figures per ``by`` (none: the whole network), UTC hour and
    billed currency: ``by``, hour_start, currency, sessions, energy_wh, revenue."""
    hour = _utc_hour_of(dialect, ChargingSession.started_at)
    currency = _billed_currency()
    return (select(*by, hour, currency, func.count(),
                   func.coalesce(func.sum(ChargingSession.energy_wh), 0),
                   func.sum(_billed_cost()))
            .select_from(ChargingSession)
            .where(ChargingSession.started_at.is_not(None),
                   ChargingSession.stopped_at.is_not(None))
            .group_by(*by, hour, currency))


def count_station_history(session: Session, station_id: int, site_id: int) -> None:
    """Add the closed sessions of a station that has just joined site ``site_id`` to that
    site's totals: a pending station's sessions count network-wide only until an owner
    adopts it (the only way a station changes site)."""
    for hour, currency, count, energy_wh, revenue in session.execute(
            _closed_sessions_per_hour(dialect_of(session))
            .where(ChargingSession.station_id == station_id)).all():
        _add_to_totals(session, SiteHourTotal,
                       {"site_id": site_id, "hour_start": hour, "currency": currency},
                       count, int(energy_wh), int(revenue))


def recount_session_totals(session: Session) -> None:
    """Count every closed session again, from scratch (after sessions were written
    without :func:`count_closed_session`: a bulk import, a repair by hand). Migration 0009
    did the same for the sessions closed before it."""
    dialect = dialect_of(session)
    columns = ["hour_start", "currency", "sessions", "energy_wh", "revenue"]
    session.execute(delete(NetworkHourTotal))
    session.execute(delete(SiteHourTotal))
    session.execute(insert(NetworkHourTotal).from_select(
        columns, _closed_sessions_per_hour(dialect)))
    session.execute(insert(SiteHourTotal).from_select(
        ["site_id", *columns],
        _closed_sessions_per_hour(dialect, Station.site_id)
        .join(Station, ChargingSession.station_id == Station.id)
        .where(Station.site_id.is_not(None))))


# --- Utilisation -----------------------------------------------------------------------

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


# --- Uptime ----------------------------------------------------------------------------

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
