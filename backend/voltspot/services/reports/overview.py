"""The overview report: energy, sessions and revenue per day, week or month, and
sessions by hour of day.

Closed sessions are read from the hourly totals (:mod:`voltspot.services.reports.totals`)
and open ones from the sessions themselves; the database does the grouping and Python
only folds the grouped rows. bench/owner_reports.py measures it with a million sessions.

:func:`overview_page` is the report page's unit of work; :func:`overview` is the query,
run in the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, Subquery, func, literal, select, true, union_all
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.models import ChargingSession, NetworkHourTotal, Site, SiteHourTotal
from voltspot.services.errors import InvalidInput
from voltspot.services.owner.accounts import Viewer, scope_sites
from voltspot.services.reports.periods import (
    BUCKETS,
    Period,
    bucket_label,
    bucket_starts,
    make_period,
)
from voltspot.services.reports.picker import Picked, ReportAsk, pick
from voltspot.services.reports.roaming import PartnerFigures, by_partner
from voltspot.services.reports.sql import LocalTime, at, dialect_of, in_scope, local_value
from voltspot.services.reports.totals import billed_cost, billed_currency


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
                  billed_currency().label("currency"), literal(1).label("sessions"),
                  ChargingSession.energy_wh.label("energy_wh"),
                  billed_cost().label("revenue")).where(
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


def refunds(session: Session, viewer: Viewer, period: Period, site_id: int | None = None
            ) -> dict[str, int]:
    """Per currency, what was given back to drivers (minor units) for the sessions that
    started in ``period`` on the viewer's stations."""
    rows = session.execute(
        select(ChargingSession.currency, func.sum(ChargingSession.amount_refunded)).where(
            in_scope(ChargingSession.station_id, viewer, site_id),
            ChargingSession.started_at >= at(period.start),
            ChargingSession.started_at < at(period.end), ChargingSession.amount_refunded > 0,
            ChargingSession.currency.is_not(None))
        .group_by(ChargingSession.currency)).all()
    return {currency: int(amount) for currency, amount in rows}


def previous_period(period: Period) -> Period:
    """The period of the same number of days just before ``period``."""
    first = period.first_day - timedelta(days=period.days)
    return make_period(period.timezone, period.start, "custom", first,
                       period.first_day - timedelta(days=1))


@dataclass(frozen=True)
class Change:
    """A figure now and in the previous period; ``percent`` is None when there was
    nothing before to compare with."""

    now: float
    before: float

    @property
    def percent(self) -> float | None:
        return None if not self.before else (self.now - self.before) / self.before * 100


@dataclass(frozen=True)
class OverviewPage:
    """The overview with what was refunded, the previous period's overview and its
    refunds (for the comparison), revenue net of refunds, and the roaming partners'
    share of the period (:mod:`voltspot.services.reports.roaming`)."""

    picked: Picked
    report: Overview
    refunded: dict[str, int]
    previous: Overview
    previous_refunded: dict[str, int]
    roaming: list[PartnerFigures] = field(default_factory=list)

    def net(self, currency: str) -> int:
        return self.report.revenue.get(currency, 0) - self.refunded.get(currency, 0)

    @property
    def changes(self) -> dict[str, Change]:
        """Energy, sessions and each currency's net revenue against the previous period."""
        result = {"energy": Change(self.report.energy_wh, self.previous.energy_wh),
                  "sessions": Change(self.report.sessions, self.previous.sessions)}
        for currency in sorted(set(self.report.revenue) | set(self.previous.revenue)):
            before = (self.previous.revenue.get(currency, 0)
                      - self.previous_refunded.get(currency, 0))
            result[currency] = Change(self.net(currency), before)
        return result


def overview_page(db: Database, viewer: Viewer, ask: ReportAsk) -> OverviewPage:
    """The overview report page: the picker's choice for ``ask``, its overview with the
    refunds, and the previous period of the same length for comparison."""
    with db.session() as session:
        picked = pick(session, viewer, ask)
        before = previous_period(picked.period)
        return OverviewPage(
            picked, overview(session, viewer, picked.period, picked.unit, picked.site_id),
            refunds(session, viewer, picked.period, picked.site_id),
            overview(session, viewer, before, picked.unit, picked.site_id),
            refunds(session, viewer, before, picked.site_id),
            by_partner(session, viewer, picked.period, picked.site_id))
