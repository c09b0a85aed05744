"""Reliability the way regulators count it, per plug and per site, from the recorded
status history (``station_events``) and the outages the owner excluded.

A plug is **down** (an outage) while its station is disconnected, or the plug or the
whole station (connector 0) reports Faulted or Unavailable; otherwise it is **working**.
Time before a plug's first recorded state is not observed and counts neither way. An
owner may exclude an outage (or part of one) for a reason outside their control:
:data:`EXCLUSION_CAUSES`. Then, over a period of ``T`` observed minutes with ``F``
minutes down of which ``E`` excluded:

* **US NEVI, 23 CFR 680.116(b)** — port uptime μ = (T − (T_outage − T_excluded)) / T × 100
  (the rule's 525,600 minutes of a year is ``T`` for a year observed whole). A port
  must be above 97 %.
* **UK Public Charge Point Regulations 2023** (reliability of rapid charge points) —
  each minute is *working*, *failing* or *excluded*; excluded time counts as working:
  availability = (working + excluded) / T × 100 = (T − (F − E)) / T × 100, for rapid
  plugs (50 kW or more) only; the network is reliable when their average is at least
  99 %.

For one plug over one period the two figures are the same number; they differ in which
plugs count (UK: rapid only), in how a site or network is summed (UK: the average of its
rapid plugs; NEVI: every port on its own against 97 %) and in their thresholds.

:func:`reliability_page` is the report page's unit of work; :func:`plug_timeline`,
:func:`outages` and :func:`figures` are the pure calculation, tested against figures
worked out by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain.statuses import ConnectorStatus, SessionStatus
from voltspot.models import (
    ChargingSession,
    Connector,
    OutageExclusion,
    Site,
    Station,
    StationEvent,
    StationEventKind,
    utcnow,
)
from voltspot.services.errors import InvalidInput, NotFound
from voltspot.services.messages import N_
from voltspot.services.owner.accounts import Viewer, owned_station
from voltspot.services.reports.csv_format import CsvFormat
from voltspot.services.reports.periods import Period
from voltspot.services.reports.picker import Picked, ReportAsk, pick
from voltspot.services.reports.sql import in_scope

RAPID_W = 50_000
NEVI_THRESHOLD = 97.0
UK_THRESHOLD = 99.0
DOWN_STATUSES = {ConnectorStatus.FAULTED: N_("Fault reported"),
                 ConnectorStatus.UNAVAILABLE: N_("Unavailable")}
OFFLINE = N_("Station offline")
# Why an outage may be excluded (both rules name these, in their words).
EXCLUSION_CAUSES = {
    "grid": N_("Power cut on the grid"),
    "vandalism": N_("Vandalism or theft"),
    "vehicle": N_("Caused by a vehicle or driver"),
    "maintenance": N_("Planned maintenance"),
    "disaster": N_("Natural disaster or extreme weather"),
    "hours": N_("Outside the site's opening hours"),
}


# --- The pure calculation -------------------------------------------------------------

@dataclass(frozen=True)
class Segment:
    """A stretch of a plug's time: ``down`` with its ``causes``, or working."""

    start: datetime
    end: datetime
    down: bool
    causes: tuple[str, ...] = ()


def plug_timeline(start: datetime, end: datetime,
                  connection: Sequence[tuple[datetime, bool]],
                  station_status: Sequence[tuple[datetime, str]],
                  plug_status: Sequence[tuple[datetime, str]]) -> list[Segment]:
    """The plug's observed time between ``start`` and ``end`` as working and down
    segments. Each stream is its events in time order, the first one possibly before
    ``start`` (the state the period began in); a state lasts until the stream's next
    event. Observation begins at the first connection event (a station is not observed
    before it first connected); a status stream without events counts as fine."""
    moments = sorted({start, end} | {at for at, _ in connection if start < at < end}
                     | {at for at, _ in station_status if start < at < end}
                     | {at for at, _ in plug_status if start < at < end})

    def state_at(stream: Sequence[tuple[datetime, object]], moment: datetime):
        value = None
        for at, state in stream:
            if at > moment:
                break
            value = state
        return value

    segments: list[Segment] = []
    for since, until in pairwise(moments):
        connected = state_at(connection, since)
        if connected is None:
            continue
        causes = [] if connected else [OFFLINE]
        for stream in (station_status, plug_status):
            status = state_at(stream, since)
            if status in DOWN_STATUSES and DOWN_STATUSES[status] not in causes:
                causes.append(DOWN_STATUSES[status])
        down = bool(causes)
        last = segments[-1] if segments else None
        if last is not None and last.end == since and last.down == down and (
                not down or last.causes == tuple(causes)):
            segments[-1] = Segment(last.start, until, down, last.causes)
        else:
            segments.append(Segment(since, until, down, tuple(causes)))
    return segments


@dataclass(frozen=True)
class Exclusion:
    id: int
    start: datetime
    end: datetime
    cause: str
    reason: str


@dataclass(frozen=True)
class Outage:
    """A stretch the plug was down (within the period), its causes in order of
    appearance, and the minutes of it the owner excluded, with why."""

    start: datetime
    end: datetime
    causes: tuple[str, ...]
    excluded_seconds: float
    exclusions: tuple[Exclusion, ...]

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def fully_excluded(self) -> bool:
        return self.excluded_seconds >= self.seconds


def _overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime
             ) -> float:
    return max(0.0, (min(a_end, b_end) - max(a_start, b_start)).total_seconds())


def outages(segments: Iterable[Segment], exclusions: Sequence[Exclusion]) -> list[Outage]:
    """The down stretches of a timeline, adjacent ones merged (a fault while offline is
    one outage with both causes), each with the excluded part of it."""
    merged: list[tuple[datetime, datetime, list[str]]] = []
    for segment in segments:
        if not segment.down:
            continue
        if merged and merged[-1][1] == segment.start:
            first, _, causes = merged[-1]
            merged[-1] = (first, segment.end,
                          causes + [c for c in segment.causes if c not in causes])
        else:
            merged.append((segment.start, segment.end, list(segment.causes)))
    result = []
    for start, end, causes in merged:
        hits = tuple(x for x in exclusions if _overlap(start, end, x.start, x.end) > 0)
        excluded = _union_seconds(start, end, hits)
        result.append(Outage(start, end, tuple(causes), excluded, hits))
    return result


def _union_seconds(start: datetime, end: datetime, windows: Sequence[Exclusion]) -> float:
    """Seconds of [start, end) covered by the windows (overlapping windows count once)."""
    spans = sorted((max(start, w.start), min(end, w.end)) for w in windows)
    total, reach = 0.0, start
    for since, until in spans:
        since = max(since, reach)
        if until > since:
            total += (until - since).total_seconds()
            reach = until
    return total


@dataclass(frozen=True)
class Figures:
    """A plug's reliability over a period: observed, down and excluded seconds and the
    percentages (None when nothing was observed)."""

    observed_seconds: float
    down_seconds: float
    excluded_seconds: float

    @property
    def counted_down_seconds(self) -> float:
        return self.down_seconds - self.excluded_seconds

    @property
    def nevi_uptime(self) -> float | None:
        """23 CFR 680.116(b): μ = (T − (T_outage − T_excluded)) / T × 100."""
        if not self.observed_seconds:
            return None
        return (self.observed_seconds - self.counted_down_seconds) / self.observed_seconds * 100

    @property
    def uk_availability(self) -> float | None:
        """PCPR 2023: (working + excluded time) / T × 100."""
        if not self.observed_seconds:
            return None
        working = self.observed_seconds - self.down_seconds
        return (working + self.excluded_seconds) / self.observed_seconds * 100


def figures(segments: Sequence[Segment], found: Sequence[Outage]) -> Figures:
    return Figures(sum((s.end - s.start).total_seconds() for s in segments),
                   sum(o.seconds for o in found), sum(o.excluded_seconds for o in found))


# --- The report -----------------------------------------------------------------------

@dataclass(frozen=True)
class PlugReliability:
    station_id: int
    charge_point_id: str
    site_name: str
    plug_number: int
    max_power_kw: float
    figures: Figures
    outages: list[Outage]
    failed_starts: int

    @property
    def rapid(self) -> bool:
        return self.max_power_kw * 1000 >= RAPID_W


@dataclass(frozen=True)
class SiteReliability:
    """A site's figures: UK, the average availability of its rapid plugs (None without
    any); NEVI, the average port uptime and the ports under 97 %."""

    name: str
    plugs: list[PlugReliability]

    def _known(self, plugs: Iterable[PlugReliability], attribute: str) -> list[float]:
        return [getattr(p.figures, attribute) for p in plugs
                if getattr(p.figures, attribute) is not None]

    @property
    def uk_availability(self) -> float | None:
        values = self._known((p for p in self.plugs if p.rapid), "uk_availability")
        return sum(values) / len(values) if values else None

    @property
    def nevi_uptime(self) -> float | None:
        values = self._known(self.plugs, "nevi_uptime")
        return sum(values) / len(values) if values else None

    @property
    def ports_below_nevi(self) -> int:
        return sum(1 for v in self._known(self.plugs, "nevi_uptime") if v <= NEVI_THRESHOLD)

    @property
    def failed_starts(self) -> int:
        return sum(p.failed_starts for p in self.plugs)


@dataclass(frozen=True)
class Reliability:
    period: Period
    start: datetime
    end: datetime
    sites: list[SiteReliability]


def _stream(session: Session, station_id: int, condition, start: datetime, end: datetime,
            value) -> list[tuple[datetime, object]]:
    """One stream's events: the last before ``start`` (the state it began in), then those
    in [start, end)."""
    seed = session.execute(
        select(StationEvent.at, value).where(StationEvent.station_id == station_id, condition,
                                             StationEvent.at < start)
        .order_by(StationEvent.at.desc(), StationEvent.id.desc()).limit(1)).all()
    rows = session.execute(
        select(StationEvent.at, value).where(StationEvent.station_id == station_id, condition,
                                             StationEvent.at >= start, StationEvent.at < end)
        .order_by(StationEvent.at, StationEvent.id)).all()
    return [tuple(row) for row in seed + rows]


def reliability(session: Session, viewer: Viewer, period: Period, site_id: int | None = None,
                now: datetime | None = None) -> Reliability:
    """The reliability of each of the viewer's plugs (in ``site_id`` when given) over
    ``period`` up to ``now``, grouped by site."""
    start, end = period.start, period.until(now or utcnow())
    plugs = session.execute(
        select(Station.id, Station.charge_point_id, Site.name, Connector.connector_id,
               Connector.max_power_w)
        .join(Connector, Connector.station_id == Station.id)
        .outerjoin(Site, Station.site_id == Site.id)
        .where(in_scope(Station.id, viewer, site_id))
        .order_by(Site.name, Station.charge_point_id, Connector.connector_id)).all()
    station_ids = sorted({row[0] for row in plugs})
    excluded: dict[tuple[int, int], list[Exclusion]] = {}
    for row in session.scalars(select(OutageExclusion).where(
            OutageExclusion.station_id.in_(station_ids), OutageExclusion.start_at < end,
            OutageExclusion.end_at > start).order_by(OutageExclusion.start_at)):
        excluded.setdefault((row.station_id, row.connector_id), []).append(
            Exclusion(row.id, row.start_at, row.end_at, row.cause, row.reason))
    failed = dict(((station_id, connector), count) for station_id, connector, count in
                  session.execute(
                      select(ChargingSession.station_id, ChargingSession.connector_id,
                             func.count()).where(
                          ChargingSession.station_id.in_(station_ids),
                          ChargingSession.status == SessionStatus.FAILED,
                          ChargingSession.created_at >= start, ChargingSession.created_at < end)
                      .group_by(ChargingSession.station_id, ChargingSession.connector_id)))
    connections: dict[int, list] = {}
    station_statuses: dict[int, list] = {}
    sites: dict[str, list[PlugReliability]] = {}
    for station_id, cp_id, site_name, number, max_power_w in plugs:
        if station_id not in connections:
            connections[station_id] = [
                (at, kind == StationEventKind.CONNECTED) for at, kind in _stream(
                    session, station_id, StationEvent.connector_id.is_(None), start, end,
                    StationEvent.kind)]
            station_statuses[station_id] = _stream(
                session, station_id, StationEvent.connector_id == 0, start, end,
                StationEvent.status)
        timeline = plug_timeline(start, end, connections[station_id],
                                 station_statuses[station_id],
                                 _stream(session, station_id,
                                         StationEvent.connector_id == number, start, end,
                                         StationEvent.status))
        windows = excluded.get((station_id, number), []) + excluded.get((station_id, 0), [])
        found = outages(timeline, windows)
        sites.setdefault(site_name or "", []).append(PlugReliability(
            station_id, cp_id, site_name or "", number, max_power_w / 1000,
            figures(timeline, found), found, failed.get((station_id, number), 0)))
    return Reliability(period, start, end,
                       [SiteReliability(name, rows) for name, rows in sites.items()])


@dataclass(frozen=True)
class ReliabilityPage:
    picked: Picked
    report: Reliability


def reliability_page(db: Database, viewer: Viewer, ask: ReportAsk) -> ReliabilityPage:
    """The reliability report page: the picker's choice for ``ask`` and the figures."""
    with db.session() as session:
        picked = pick(session, viewer, ask)
        return ReliabilityPage(picked, reliability(session, viewer, picked.period,
                                                   picked.site_id))


# --- Excluding an outage ---------------------------------------------------------------

def exclude_outage(db: Database, viewer: Viewer, charge_point_id: str, plug: int,
                   start: datetime, end: datetime, cause: str, reason: str) -> None:
    """Exclude the outage of one of the viewer's plugs (0: the whole station) from
    ``start`` to ``end`` from the reliability figures, for ``cause`` (a key of
    :data:`EXCLUSION_CAUSES`) with ``reason`` in the owner's words. Raises
    :class:`NotFound` for another owner's station and :class:`InvalidInput` for an
    unknown cause, an empty reason or an empty span."""
    reason = " ".join(reason.split())
    if cause not in EXCLUSION_CAUSES:
        raise InvalidInput(N_("Choose why the outage was outside your control."))
    if not reason or len(reason) > 300:
        raise InvalidInput(N_("Say in a few words what happened (at most 300 characters)."))
    if end <= start:
        raise InvalidInput(N_("The outage must end after it starts."))
    with db.session() as session:
        station = owned_station(session, viewer, charge_point_id)
        if plug != 0 and plug not in {c.connector_id for c in station.connectors}:
            raise NotFound("no such plug")
        session.add(OutageExclusion(station_id=station.id, connector_id=plug, start_at=start,
                                    end_at=end, cause=cause, reason=reason,
                                    owner_id=viewer.owner_id))


def remove_exclusion(db: Database, viewer: Viewer, exclusion_id: int) -> None:
    """Count an excluded outage again. Raises :class:`NotFound` for another owner's."""
    with db.session() as session:
        row = session.get(OutageExclusion, exclusion_id)
        if row is None:
            raise NotFound("no such exclusion")
        owned_station(session, viewer, session.get(Station, row.station_id).charge_point_id)
        session.delete(row)


# --- CSV ------------------------------------------------------------------------------

CSV_HEADER = ("site", "station", "plug", "max_power_kw", "rapid", "observed_minutes",
              "outage_minutes", "excluded_minutes", "nevi_uptime_percent",
              "uk_availability_percent", "outages", "failed_starts")


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f}"


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def csv_rows(report: Reliability) -> Iterator[tuple[str, ...]]:
    """The report per plug as CSV rows (a header first); percentages with two decimals,
    minutes with one."""
    yield CSV_HEADER
    for site in report.sites:
        for p in site.plugs:
            f = p.figures
            yield (p.site_name, p.charge_point_id, str(p.plug_number), f"{p.max_power_kw:g}",
                   "yes" if p.rapid else "no", _minutes(f.observed_seconds),
                   _minutes(f.down_seconds), _minutes(f.excluded_seconds),
                   _percent(f.nevi_uptime), _percent(f.uk_availability if p.rapid else None),
                   str(len(p.outages)), str(p.failed_starts))


CSV_NUMBERS = {CSV_HEADER.index(name) for name in (
    "max_power_kw", "observed_minutes", "outage_minutes", "excluded_minutes",
    "nevi_uptime_percent", "uk_availability_percent")}


def as_csv(rows: Iterable[Sequence[str]], fmt: CsvFormat | None = None) -> str:
    """The rows as a CSV file in ``fmt`` (plain CSV when not given)."""
    return (fmt or CsvFormat()).text(rows, CSV_NUMBERS)

