"""SQL building blocks the reports share, written once for SQLite and PostgreSQL:
timestamp parameters, differences in seconds, greatest/least, local wall-clock time
across offset changes (:class:`LocalTime`), and the viewer's scope of stations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, case, cast, extract, func, literal, select, true
from sqlalchemy.orm import Session

from voltspot.models import Site, Station
from voltspot.models.base import UTCDateTime
from voltspot.services.errors import InvalidInput
from voltspot.services.owner.accounts import Viewer, scope_sites
from voltspot.services.reports.periods import BUCKETS


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
