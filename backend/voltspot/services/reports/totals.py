"""The hourly totals of closed sessions (:mod:`voltspot.models.rollups`) the overview
reads: kept by :func:`count_closed_session` when a session closes and
:func:`count_station_history` when a station joins a site, and rebuilt from scratch by
:func:`recount_session_totals`. A year of a network's sessions is then some 9 000 rows
per currency instead of a million sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.models import ChargingSession, NetworkHourTotal, SiteHourTotal, Station
from voltspot.models.base import UTCDateTime
from voltspot.services.reports.sql import dialect_of


def _billed() -> ColumnElement[bool]:
    return and_(ChargingSession.currency.is_not(None), ChargingSession.cost.is_not(None))


def billed_currency() -> ColumnElement[str]:
    """The currency a session's cost counts in, "" for a session without a cost."""
    return case((_billed(), ChargingSession.currency), else_=literal(""))


def billed_cost() -> ColumnElement[int]:
    """A session's cost as counted in revenue: 0 for a session without a cost."""
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


def uncount_closed_session(session: Session, charging: ChargingSession) -> None:
    """Take ``charging`` out of the totals :func:`count_closed_session` put it in, before
    a correction changes its figures (and counts it again)."""
    if charging.started_at is None:
        return
    billed = charging.currency is not None and charging.cost is not None
    key = {"hour_start": utc_hour(charging.started_at),
           "currency": charging.currency if billed else ""}
    figures = (-1, -(charging.energy_wh or 0), -charging.cost if billed else 0)
    _add_to_totals(session, NetworkHourTotal, key, *figures)
    site_id = session.get(Station, charging.station_id).site_id
    if site_id is not None:
        _add_to_totals(session, SiteHourTotal, {"site_id": site_id, **key}, *figures)


def _closed_sessions_per_hour(dialect: str, *by: ColumnElement) -> Select:
    """The closed sessions' figures per ``by`` (none: the whole network), UTC hour and
    billed currency: ``by``, hour_start, currency, sessions, energy_wh, revenue."""
    hour = _utc_hour_of(dialect, ChargingSession.started_at)
    currency = billed_currency()
    return (select(*by, hour, currency, func.count(),
                   func.coalesce(func.sum(ChargingSession.energy_wh), 0),
                   func.sum(billed_cost()))
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


def recount(db: Database) -> None:
    """Count every closed session again, in one transaction (see
    :func:`recount_session_totals`)."""
    with db.session() as session:
        recount_session_totals(session)


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
