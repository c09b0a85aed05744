"""Tariff maths: what a charging session costs, and how a price is written for drivers.

One :class:`TariffTerms` object is frozen on a session (as JSON, :meth:`TariffTerms.to_dict`)
and drives all three figures a driver sees: the pre-start summary and example
(:func:`price_summary`, :func:`estimate`), the live cost and the receipt
(:func:`price_session`).

Units
    Money is in integer minor units of ``currency`` (cents, pence, öre, rappen, grosz).
    Unit prices (per kWh, per minute) are integers in 1/100 of the minor unit, exactly as
    the ``tariffs`` table stores them: ``3900`` is 39.00 cents, so €0.39/kWh, and ``3950``
    is €0.395/kWh. Session fee, idle fee cap and card hold are whole minor units. All
    prices include VAT; ``vat_rate_basis_points`` says how much (``2100`` = 21 %).

Rounding rule
    1. Each line is computed exactly, with fractions: energy to the fraction of a Wh
       (interpolated between meter readings), time to the microsecond.
    2. Each line's amount is rounded half up to a whole minor unit
       (0.5 cent becomes 1 cent, 0.49 cent becomes 0 cents).
    3. The total is the sum of the rounded lines, so the receipt always adds up.
    4. The VAT part of the total is ``total × rate / (1 + rate)``, rounded half up.
    A line groups all the time a price applied (one line for "Night", however many
    nights the session crossed), so the number of lines, not the number of samples,
    bounds the rounding.

    The idle fee cap applies to the sum of the rounded idle lines; when the sum would
    exceed it, those lines become one line worth exactly the cap.

Time and energy
    Energy in a window is the increase of the energy register inside it, interpolating
    linearly between two readings that straddle the window's edge; a register that goes
    backwards is held at its highest value, as :func:`voltspot.domain.meter.apply_register`
    does. The time price runs either while *charging* (from the first reading to
    ``charging_ended_at``, or to the latest reading while charging goes on) or while
    *connected* (from the first reading to ``unplugged_at``, or ``now``). The idle fee
    runs from ``charging_ended_at`` plus the grace period until ``unplugged_at`` (or
    ``now``).

Windows (OCPI 2.2.1 semantics)
    A :class:`PriceWindow` is an OCPI TariffElement with ``day_of_week``, ``start_time``
    and ``end_time`` restrictions, evaluated in the site's local time (``timezone``). An
    instant is in a window when its local weekday is one of ``days`` and its local time
    of day is within ``[start, end)``; when ``end <= start`` the times wrap past midnight
    (``22:00``–``06:00``), and ``start == end`` means the whole day. As in OCPI the
    weekday and the time are checked independently, so a Mon–Fri 22:00–06:00 window
    covers Monday 00:00–06:00 and Friday 22:00–24:00, not Saturday morning. Each price
    (energy, time, idle) is resolved on its own: the first window in order that matches
    and sets that price wins, otherwise the base price applies.

OCPI mapping
    ``energy_price_per_kwh`` is ENERGY, ``time_price_per_minute`` is TIME (charging basis)
    or TIME and PARKING_TIME (connection basis), ``session_fee`` is FLAT and
    ``idle_fee_per_minute`` is PARKING_TIME; OCPI prices exclude VAT and carry the rate
    separately, so an export divides by ``1 + rate``. The grace period and the idle fee
    cap have no OCPI 2.2.1 field and travel only in the tariff's description.

Money is written by :mod:`voltspot.domain.money`.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from voltspot.domain.money import format_money, minor_digits, with_currency

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

_WH_PER_KWH = 1000
_SECONDS_PER_MINUTE = 60
_CENTI = 100  # unit prices are in 1/100 of the minor unit
_SCAN_STEP = timedelta(hours=12)  # shorter than the gap between two UTC offset changes


class TariffDimension(StrEnum):
    """What a bill line charges for, named as OCPI 2.2.1's TariffDimensionType."""

    ENERGY = "ENERGY"
    TIME = "TIME"
    FLAT = "FLAT"
    PARKING_TIME = "PARKING_TIME"


class TimeBasis(StrEnum):
    """Which minutes the per-minute price counts."""

    CHARGING = "charging"
    CONNECTION = "connection"


def _check_price(name: str, value: object, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number of at least 0, not {value!r}")


def _parse_time(text: str) -> time:
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day like 22:00") from None


@dataclass(frozen=True, kw_only=True)
class PriceWindow:
    """Prices that replace the base prices on some days between two local times of day.

    ``days`` holds weekdays, 0 = Monday to 6 = Sunday. ``start`` and ``end`` are whole
    minutes; ``end <= start`` wraps past midnight and ``start == end`` is the whole day
    (see the module docstring for OCPI's reading of days and times). A price left at
    ``None`` is not overridden. ``label`` names the window for drivers ("Night").
    """

    days: frozenset[int] = frozenset(range(7))
    start: time = time(0)
    end: time = time(0)
    energy_price_per_kwh: int | None = None
    time_price_per_minute: int | None = None
    idle_fee_per_minute: int | None = None
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", frozenset(self.days))
        if not self.days or not self.days <= frozenset(range(7)):
            raise ValueError(f"window days must be weekdays 0 (Monday) to 6, not {self.days}")
        for moment in (self.start, self.end):
            if moment.tzinfo is not None or moment.second or moment.microsecond:
                raise ValueError(f"window times are whole local minutes, not {moment}")
        for name in ("energy_price_per_kwh", "time_price_per_minute", "idle_fee_per_minute"):
            _check_price(name, getattr(self, name), optional=True)
        if (self.energy_price_per_kwh, self.time_price_per_minute,
                self.idle_fee_per_minute) == (None, None, None):
            raise ValueError("a price window must set at least one price")

    @property
    def name(self) -> str:
        """The label, or when there is none the days and times ("Mon–Fri 22:00–06:00")."""
        return self.label or self.when

    @property
    def when(self) -> str:
        """The days and times in words: "Mon–Fri 22:00–06:00", "Sat–Sun", "Daily 07:00–09:00"."""
        days = "Daily" if len(self.days) == 7 else _days_text(self.days)
        if self.start == self.end:
            return days
        return f"{days} {self.start:%H:%M}–{self.end:%H:%M}"

    def covers(self, local: datetime) -> bool:
        """Whether the local wall-clock moment ``local`` is inside this window."""
        if local.weekday() not in self.days:
            return False
        moment = local.time()
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "days": sorted(self.days),
            "start": f"{self.start:%H:%M}",
            "end": f"{self.end:%H:%M}",
            "energy_price_per_kwh": self.energy_price_per_kwh,
            "time_price_per_minute": self.time_price_per_minute,
            "idle_fee_per_minute": self.idle_fee_per_minute,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriceWindow:
        values = _known_keys(cls, data, "price window")
        for key in ("start", "end"):
            if key in values:
                values[key] = _parse_time(values[key])
        return cls(**values)


@dataclass(frozen=True, kw_only=True)
class TariffTerms:
    """The prices a session is charged at, VAT included (units in the module docstring).

    ``timezone`` is the site's IANA zone, in which the windows' days and times are read.
    Invalid values raise :class:`ValueError`.
    """

    currency: str
    vat_rate_basis_points: int
    energy_price_per_kwh: int = 0
    time_price_per_minute: int = 0
    time_price_basis: TimeBasis = TimeBasis.CHARGING
    session_fee: int = 0
    idle_fee_per_minute: int = 0
    idle_grace_minutes: int = 0
    idle_fee_cap: int | None = None
    hold_amount: int = 0
    windows: tuple[PriceWindow, ...] = field(default_factory=tuple)
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if not (len(self.currency) == 3 and self.currency.isascii()
                and self.currency.isalpha() and self.currency.isupper()):
            raise ValueError(f"currency must be an ISO 4217 code like EUR, not {self.currency!r}")
        try:
            object.__setattr__(self, "time_price_basis", TimeBasis(self.time_price_basis))
        except ValueError:
            raise ValueError(f"time_price_basis must be 'charging' or 'connection', "
                             f"not {self.time_price_basis!r}") from None
        for name in ("energy_price_per_kwh", "time_price_per_minute", "session_fee",
                     "idle_fee_per_minute", "idle_grace_minutes", "hold_amount",
                     "vat_rate_basis_points"):
            _check_price(name, getattr(self, name))
        _check_price("idle_fee_cap", self.idle_fee_cap, optional=True)
        if self.vat_rate_basis_points > 10000:
            raise ValueError("vat_rate_basis_points is at most 10000 (100 %)")
        object.__setattr__(self, "windows", tuple(self.windows))
        try:
            ZoneInfo(self.timezone)
        except (ValueError, KeyError):
            raise ValueError(f"{self.timezone!r} is not a time zone like Europe/Amsterdam") \
                from None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe copy, read back by :meth:`from_dict`."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["time_price_basis"] = str(self.time_price_basis)
        data["windows"] = [window.to_dict() for window in self.windows]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TariffTerms:
        values = _known_keys(cls, data, "tariff terms")
        values["windows"] = tuple(PriceWindow.from_dict(w) for w in values.get("windows", ()))
        return cls(**values)


def _known_keys(cls: type, data: Mapping[str, Any], what: str) -> dict[str, Any]:
    unknown = set(data) - {f.name for f in fields(cls)}
    if unknown:
        raise ValueError(f"unknown {what} fields: {', '.join(sorted(unknown))}")
    return dict(data)


@dataclass(frozen=True)
class Usage:
    """What a session has used so far.

    ``points`` are ``(timestamp, energy register in Wh)`` readings, the first being the
    start of the session; they are sorted by time on construction. ``charging_ended_at``
    stays ``None`` while charging goes on. ``unplugged_at`` ends the connection; until
    then ``now`` (when given) is the moment the live cost is drawn for. All timestamps
    must be timezone-aware (UTC); naive ones raise :class:`ValueError`.
    """

    points: Sequence[tuple[datetime, float]]
    charging_ended_at: datetime | None = None
    unplugged_at: datetime | None = None
    now: datetime | None = None

    def __post_init__(self) -> None:
        if not self.points:
            raise ValueError("usage needs at least the start reading")
        moments = [self.charging_ended_at, self.unplugged_at, self.now]
        moments += [at for at, _ in self.points]
        if any(at is not None and at.tzinfo is None for at in moments):
            raise ValueError("naive datetime given; usage timestamps must be UTC-aware")
        object.__setattr__(self, "points", tuple(sorted(self.points, key=lambda p: p[0])))

    @property
    def started_at(self) -> datetime:
        return self.points[0][0]

    @property
    def charging_until(self) -> datetime:
        """The end of charging time: ``charging_ended_at``, else the latest reading."""
        end = self.charging_ended_at or self.points[-1][0]
        return max(end, self.started_at)

    @property
    def connected_until(self) -> datetime:
        """The end of connection time: ``unplugged_at``, else the latest moment known."""
        if self.unplugged_at is not None:
            return max(self.unplugged_at, self.started_at)
        known = [self.points[-1][0], self.charging_until]
        if self.now is not None:
            known.append(self.now)
        return max(known)


@dataclass(frozen=True)
class BillLine:
    """One line of a bill. ``unit_price`` is in 1/100 of the minor unit (a session fee of
    35 cents is 3500) and ``None`` on a capped idle fee line; ``window`` names the price
    window the line was charged in, ``None`` for base prices."""

    kind: TariffDimension
    description: str
    quantity: Decimal
    unit: str
    unit_price: int | None
    amount: int
    window: str | None = None


@dataclass(frozen=True)
class Bill:
    """A session's cost: ``total`` (VAT included) is the sum of the lines' amounts and
    ``vat`` the VAT part of it, all in minor units of ``currency``."""

    currency: str
    lines: tuple[BillLine, ...]
    total: int
    vat: int
    vat_rate_basis_points: int


def round_half_up(amount: Fraction) -> int:
    """An exact, non-negative amount rounded to the nearest whole unit, halves up."""
    return math.floor(amount + Fraction(1, 2))


def _seconds(span: timedelta) -> Fraction:
    return Fraction(span // timedelta(microseconds=1), 1_000_000)


class _Timeline:
    """The instants where some window's price may start or stop applying, and which
    window (if any) sets each price between two such instants."""

    def __init__(self, terms: TariffTerms, start: datetime, end: datetime) -> None:
        self.terms = terms
        self.zone = ZoneInfo(terms.timezone)
        self.cuts = self._cuts(start, end) if terms.windows else []
        self._sources: dict[datetime, tuple[int | None, int | None, int | None]] = {}

    def _cuts(self, start: datetime, end: datetime) -> list[datetime]:
        """Local midnights and window edges (both readings of an ambiguous local time),
        and the instants the UTC offset changes, between ``start`` and ``end``."""
        edges = {time(0)}
        for window in self.terms.windows:
            edges.update((window.start, window.end))
        cuts: set[datetime] = set()
        first = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date() + timedelta(days=1)
        day = first
        while day <= last:
            for edge in edges:
                for fold in (0, 1):
                    local = datetime.combine(day, edge, tzinfo=self.zone).replace(fold=fold)
                    cuts.add(local.astimezone(UTC))
            day += timedelta(days=1)
        cuts.update(self._offset_changes(start - _SCAN_STEP, end + _SCAN_STEP))
        return sorted(cut for cut in cuts if start < cut < end)

    def _offset(self, moment: datetime) -> timedelta | None:
        return moment.astimezone(self.zone).utcoffset()

    def _offset_changes(self, start: datetime, end: datetime) -> Iterator[datetime]:
        lower = start.replace(microsecond=0)
        while lower < end:
            upper = lower + _SCAN_STEP
            if self._offset(lower) != self._offset(upper):
                low, high = int(lower.timestamp()), int(upper.timestamp())
                after = self._offset(upper)
                while high - low > 1:
                    middle = (low + high) // 2
                    if self._offset(datetime.fromtimestamp(middle, UTC)) == after:
                        high = middle
                    else:
                        low = middle
                yield datetime.fromtimestamp(high, UTC)
            lower = upper

    def pieces(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """``[start, end)`` cut at every instant a window may begin or end."""
        inner = self.cuts[bisect.bisect_right(self.cuts, start):
                          bisect.bisect_left(self.cuts, end)]
        edges = [start, *inner, end]
        yield from zip(edges, edges[1:], strict=False)

    def sources(self, moment: datetime) -> tuple[int | None, int | None, int | None]:
        """For energy, time and idle: the index of the window whose price applies at
        ``moment``, or ``None`` for the base price."""
        if moment not in self._sources:
            local = moment.astimezone(self.zone)
            found: list[int | None] = [None, None, None]
            for index, window in enumerate(self.terms.windows):
                if window.covers(local):
                    prices = (window.energy_price_per_kwh, window.time_price_per_minute,
                              window.idle_fee_per_minute)
                    for dimension, price in enumerate(prices):
                        if found[dimension] is None and price is not None:
                            found[dimension] = index
            self._sources[moment] = (found[0], found[1], found[2])
        return self._sources[moment]


def _window_price(terms: TariffTerms, source: int | None, name: str) -> int:
    if source is None:
        return getattr(terms, name)
    return getattr(terms.windows[source], name)


def _register(points: Sequence[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
    """Readings never below an earlier reading (a register that went backwards is held)."""
    held: list[tuple[datetime, float]] = []
    highest = None
    for at, reading in points:
        highest = reading if highest is None else max(highest, reading)
        held.append((at, highest))
    return held


def _wh(reading: float) -> Fraction:
    """A reading as the exact Wh it was written as."""
    return Fraction(str(reading))


def _energy_by_source(timeline: _Timeline, points: Sequence[tuple[datetime, float]]
                      ) -> dict[int | None, Fraction]:
    """The register's increase under each energy price source (a window's index, ``None``
    for the base price), interpolated at every cut a reading interval straddles.

    Between two cuts the source stays the same, so the increases of consecutive intervals
    there add up to their last reading less their first (exactly, as the sum of exact
    differences would): only the runs' ends and the straddling intervals are computed
    with fractions, not every reading (a live page prices hundreds of them per view)."""
    energy_wh: dict[int | None, Fraction] = {}
    cuts = timeline.cuts
    run_key: int | None = None
    run_from: float | None = None
    run_to = 0.0

    def close_run() -> None:
        if run_from is not None:
            energy_wh[run_key] = energy_wh.get(run_key, Fraction(0)) + _wh(run_to) - _wh(
                run_from)

    # Between two cuts the source is the same: looked up once per stretch between cuts.
    stretch_keys: dict[int, int | None] = {}
    readings = _register(points)
    for (t0, e0), (t1, e1) in zip(readings, readings[1:], strict=False):
        if e1 == e0:
            continue
        following_cut = bisect.bisect_right(cuts, t0)
        if t1 == t0 or following_cut == len(cuts) or cuts[following_cut] >= t1:
            if following_cut not in stretch_keys:
                stretch_keys[following_cut] = timeline.sources(t0)[0]
            key = stretch_keys[following_cut]
            # A held register only rises, so an interval starting where the run ended
            # means no energy passed in between: the run goes on.
            if run_from is not None and key == run_key and e0 == run_to:
                run_to = e1
            else:
                close_run()
                run_key, run_from, run_to = key, e0, e1
            continue
        close_run()
        run_from = None
        rise, span = _wh(e1) - _wh(e0), _seconds(t1 - t0)
        for a, b in timeline.pieces(t0, t1):
            key = timeline.sources(a)[0]
            energy_wh[key] = energy_wh.get(key, Fraction(0)) + rise * _seconds(b - a) / span
    close_run()
    return energy_wh


def price_session(terms: TariffTerms, usage: Usage) -> Bill:
    """The cost of ``usage`` at ``terms``, line by line (rounding in the module docstring)."""
    start = usage.started_at
    time_end = (usage.charging_until if terms.time_price_basis == TimeBasis.CHARGING
                else usage.connected_until)
    latest = max(usage.points[-1][0], usage.connected_until)
    timeline = _Timeline(terms, start, latest)

    energy_wh = _energy_by_source(timeline, usage.points)

    time_seconds = _durations(timeline, start, time_end, dimension=1)
    idle_seconds: dict[int | None, Fraction] = {}
    if usage.charging_ended_at is not None:
        idle_from = max(usage.charging_ended_at, start) + timedelta(
            minutes=terms.idle_grace_minutes)
        idle_seconds = _durations(timeline, idle_from, usage.connected_until, dimension=2)

    lines: list[BillLine | None] = []
    for key in _in_order(energy_wh):
        price = _window_price(terms, key, "energy_price_per_kwh")
        kwh = energy_wh[key] / _WH_PER_KWH
        lines.append(_line(terms, TariffDimension.ENERGY, key, kwh, "kWh", price,
                           f"{_number(kwh, 2, 1)} kWh × "
                           f"{_unit_amount(price, terms.currency)}"))
    basis = "charging" if terms.time_price_basis == TimeBasis.CHARGING else "connected"
    for key in _in_order(time_seconds):
        price = _window_price(terms, key, "time_price_per_minute")
        minutes = time_seconds[key] / _SECONDS_PER_MINUTE
        lines.append(_line(terms, TariffDimension.TIME, key, minutes, "min", price,
                           f"{_number(minutes, 1, 0)} min {basis} × "
                           f"{_unit_amount(price, terms.currency)}"))
    if terms.session_fee:
        lines.append(BillLine(TariffDimension.FLAT, "Session fee", Decimal(1), "session",
                              terms.session_fee * _CENTI, terms.session_fee))
    lines.extend(_idle_lines(terms, idle_seconds))

    charged = tuple(line for line in lines if line is not None)
    total = sum(line.amount for line in charged)
    rate = Fraction(terms.vat_rate_basis_points, 10000)
    return Bill(currency=terms.currency, lines=charged, total=total,
                vat=round_half_up(total * rate / (1 + rate)),
                vat_rate_basis_points=terms.vat_rate_basis_points)


def _durations(timeline: _Timeline, start: datetime, end: datetime,
               dimension: int) -> dict[int | None, Fraction]:
    seconds: dict[int | None, Fraction] = {}
    if end <= start:
        return seconds
    for a, b in timeline.pieces(start, end):
        key = timeline.sources(a)[dimension]
        seconds[key] = seconds.get(key, Fraction(0)) + _seconds(b - a)
    return seconds


def _in_order(amounts: Mapping[int | None, Fraction]) -> list[int | None]:
    """Base prices first, then windows in the tariff's order."""
    return sorted(amounts, key=lambda key: -1 if key is None else key)


def _line(terms: TariffTerms, kind: TariffDimension, key: int | None, quantity: Fraction,
          unit: str, price: int, description: str) -> BillLine | None:
    """A line for ``quantity`` units at ``price`` (1/100 minor unit), or ``None`` when it
    costs exactly nothing."""
    exact = quantity * price / _CENTI
    if exact == 0:
        return None
    window = None if key is None else terms.windows[key].name
    if window:
        description = f"{description} ({window})"
    places = 3 if unit == "kWh" else 2
    return BillLine(kind, description, _decimal(quantity, places), unit, price,
                    round_half_up(exact), window)


def _idle_lines(terms: TariffTerms, idle_seconds: Mapping[int | None, Fraction]
                ) -> list[BillLine | None]:
    grace = f" (after {terms.idle_grace_minutes} free)" if terms.idle_grace_minutes else ""
    lines = []
    for key in _in_order(idle_seconds):
        price = _window_price(terms, key, "idle_fee_per_minute")
        minutes = idle_seconds[key] / _SECONDS_PER_MINUTE
        lines.append(_line(terms, TariffDimension.PARKING_TIME, key, minutes, "min", price,
                           f"{_number(minutes, 1, 0)} min idle{grace} × "
                           f"{_unit_amount(price, terms.currency)}"))
    charged = [line for line in lines if line is not None]
    cap = terms.idle_fee_cap
    if cap is None or sum(line.amount for line in charged) <= cap:
        return lines
    minutes = sum(idle_seconds.values(), Fraction(0)) / _SECONDS_PER_MINUTE
    return [BillLine(TariffDimension.PARKING_TIME,
                     f"{_number(minutes, 1, 0)} min idle{grace}, capped at "
                     f"{format_money(cap, terms.currency)}",
                     _decimal(minutes, 2), "min", None, cap)]


def estimate(terms: TariffTerms, energy_wh: float, minutes: float, idle_minutes: float = 0,
             start: datetime | None = None) -> Bill:
    """The bill for an example session: ``energy_wh`` delivered evenly over ``minutes`` of
    charging, then ``idle_minutes`` plugged in after charging ended (the grace period is
    taken from those). Without ``start`` the base prices apply and windows are ignored;
    with it (UTC-aware) the windows apply as they would to a real session."""
    if min(energy_wh, minutes, idle_minutes) < 0:
        raise ValueError("an example session cannot use negative energy or time")
    if start is None:
        terms = replace(terms, windows=())
        start = datetime(2000, 1, 3, tzinfo=UTC)
    charging_end = start + timedelta(minutes=minutes)
    return price_session(terms, Usage(
        points=((start, 0), (charging_end, energy_wh)),
        charging_ended_at=charging_end,
        unplugged_at=charging_end + timedelta(minutes=idle_minutes)))


def price_summary(terms: TariffTerms) -> list[str]:
    """The prices in AFIR order for pages and stickers: per kWh, per minute, per session,
    then idle fee, price windows and the VAT note, e.g. ``["€0.39/kWh", "€0.35 per
    session", "€0.10/min idle after 30 min", "incl. 21% VAT"]``. Prices at zero are
    left out; a tariff with no price at all reads "Free"."""
    currency = terms.currency
    basis = "charging" if terms.time_price_basis == TimeBasis.CHARGING else "connected"
    items = []
    if terms.energy_price_per_kwh:
        items.append(format_unit_price(terms.energy_price_per_kwh, currency, "kWh"))
    if terms.time_price_per_minute:
        items.append(f"{format_unit_price(terms.time_price_per_minute, currency, 'min')} "
                     f"{basis}")
    if terms.session_fee:
        items.append(f"{format_money(terms.session_fee, currency)} per session")
    if terms.idle_fee_per_minute:
        items.append(_idle_text(terms, terms.idle_fee_per_minute))
    for window in terms.windows:
        prices = []
        if window.energy_price_per_kwh is not None:
            prices.append(format_unit_price(window.energy_price_per_kwh, currency, "kWh"))
        if window.time_price_per_minute is not None:
            prices.append(f"{format_unit_price(window.time_price_per_minute, currency, 'min')}"
                          f" {basis}")
        if window.idle_fee_per_minute is not None:
            prices.append(_idle_text(terms, window.idle_fee_per_minute))
        heading = f"{window.label} ({window.when})" if window.label else window.when
        items.append(f"{heading}: {', '.join(prices)}")
    if not items:
        return ["Free"]
    rate = _number(Fraction(terms.vat_rate_basis_points, 100), 2, 0)
    items.append(f"incl. {rate}% VAT")
    return items


def _idle_text(terms: TariffTerms, price: int) -> str:
    if not price:
        return "no idle fee"
    text = f"{format_unit_price(price, terms.currency, 'min')} idle"
    if terms.idle_grace_minutes:
        text += f" after {terms.idle_grace_minutes} min"
    if terms.idle_fee_cap is not None:
        text += f" (max {format_money(terms.idle_fee_cap, terms.currency)})"
    return text


def format_unit_price(price_centi_minor: int, currency: str, unit: str) -> str:
    """A unit price in 1/100 minor units with its unit: ``(3900, "EUR", "kWh")`` is
    "€0.39/kWh" and ``(3950, ...)`` "€0.395/kWh" (two extra decimals when needed)."""
    return f"{_unit_amount(price_centi_minor, currency)}/{unit}"


def _unit_amount(price_centi_minor: int, currency: str) -> str:
    digits = minor_digits(currency)
    major = Fraction(price_centi_minor, _CENTI * 10 ** digits)
    return with_currency(_number(major, digits + 2, digits), currency)


def _decimal(value: Fraction, places: int) -> Decimal:
    return Decimal(round_half_up(value * 10 ** places)).scaleb(-places)


def _number(value: Fraction, most: int, least: int) -> str:
    """``value`` rounded half up to ``most`` decimals, trailing zeros dropped down to
    ``least`` decimals."""
    text = f"{_decimal(value, most):.{most}f}"
    if most > least:
        whole, _, decimals = text.partition(".")
        decimals = decimals.rstrip("0").ljust(least, "0")
        text = f"{whole}.{decimals}" if decimals else whole
    return text


def _days_text(days: Iterable[int]) -> str:
    """Weekdays as short names, runs joined: {0..4} is "Mon–Fri", {0, 2} is "Mon, Wed",
    {5, 6, 0} is "Sat–Mon"."""
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == 6:
        runs = runs[1:-1] + [runs[-1] + runs[0]]
    return ", ".join(_DAY_NAMES[run[0]] if len(run) == 1
                     else f"{_DAY_NAMES[run[0]]}–{_DAY_NAMES[run[-1]]}" for run in runs)
