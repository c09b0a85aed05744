"""Calendar periods of a report and the buckets (day, week, month) they are cut into,
in one reporting time zone. Pure date arithmetic; no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from voltspot.services.errors import InvalidInput
from voltspot.services.messages import N_

PRESETS = ("7", "30", "90")
BUCKETS = ("day", "week", "month")
MAX_PERIOD_DAYS = 1100
# Sessions are looked for from this long before a period, so one running across its start
# counts with its share inside, while the query can still use the index on started_at.
LONGEST_SESSION = timedelta(days=3)




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
            raise InvalidInput(N_("choose both the first and the last day of the period"))
        if last_day < first_day:
            raise InvalidInput(N_("the last day is before the first day; swap them"))
        if (last_day - first_day).days + 1 > MAX_PERIOD_DAYS:
            raise InvalidInput(N_("a report covers at most %(count)s days", count=MAX_PERIOD_DAYS))
    else:
        raise InvalidInput(N_("%(preset)s is not a period; choose 7, 30 or 90 days, or custom",
                              preset=repr(preset)))
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
