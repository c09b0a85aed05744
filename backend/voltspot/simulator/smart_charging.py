"""The charging profiles a simulated charger holds, and the power they allow.

Shared by the 1.6 and 2.0.1 chargers (each translates its own message shapes into
:meth:`ProfileStore.install`). Rules, as both versions define them: per purpose the
profile with the highest stack level applies; a transaction profile applies to its
transaction only and replaces the default profile while it runs; a plug's own default
replaces the station-wide one (plug 0); the station maximum caps everything; every limit
is a schedule of periods from its start (Absolute: ``start_schedule``; Relative: when it
was installed). No protocol, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from voltspot.simulator.car import PHASES, VOLTAGE_V

TX = "tx"
DEFAULT = "default"
STATION_MAX = "max"
PURPOSES = {
    "TxProfile": TX,
    "TxDefaultProfile": DEFAULT,
    "ChargePointMaxProfile": STATION_MAX,
    "ChargingStationMaxProfile": STATION_MAX,
}


@dataclass(frozen=True)
class Period:
    start_s: float
    limit: float
    phases: int


@dataclass(frozen=True)
class Profile:
    """One installed profile, its limits in their unit ("A" per phase or "W")."""

    id: int
    purpose: str
    plug: int
    stack_level: int
    unit: str
    periods: tuple[Period, ...]
    starts_at: float
    transaction_id: str | None = None
    duration_s: float | None = None

    def limit_w(self, at: float) -> float | None:
        """The power it allows at ``at`` (epoch seconds); None outside its schedule."""
        elapsed = at - self.starts_at
        if elapsed < 0 or (self.duration_s is not None and elapsed >= self.duration_s):
            return None
        current = None
        for period in self.periods:
            if period.start_s <= elapsed:
                current = period
        if current is None:
            return None
        if self.unit == "W":
            return current.limit
        return current.limit * VOLTAGE_V * current.phases

    def boundaries(self) -> list[float]:
        ends = [self.starts_at + period.start_s for period in self.periods]
        if self.duration_s is not None:
            ends.append(self.starts_at + self.duration_s)
        return ends


def _epoch(text: str | None, default: float) -> float:
    if not text:
        return default
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class ProfileStore:
    """A charger's profiles. ``reject`` refuses every profile (a charger without working
    smart charging); ``ignore`` accepts them and goes on at full power (a faulty one);
    ``stack_level_zero_only`` refuses any other stack level; ``max_profiles`` bounds how
    many it holds; ``refuse_in_start`` refuses a start request that carries a profile
    (firmware that takes profiles only on their own)."""

    max_power_w: float
    reject: bool = False
    ignore: bool = False
    stack_level_zero_only: bool = False
    max_stack_level: int = 8
    max_profiles: int = 16
    refuse_in_start: bool = False
    profiles: dict[int, Profile] = field(default_factory=dict)

    def install(self, *, purpose: str, plug: int, profile_id: int, stack_level: int,
                kind: str, schedule: dict[str, Any], now: float,
                transaction_id: str | None = None) -> bool:
        """Keep a profile (snake_case schedule as the library hands it over); False when
        the charger refuses it."""
        if self.reject or purpose not in PURPOSES:
            return False
        if stack_level > self.max_stack_level or (self.stack_level_zero_only and stack_level):
            return False
        if PURPOSES[purpose] == TX and transaction_id is None:
            return False
        unit = str(schedule.get("charging_rate_unit", "A"))
        periods = tuple(Period(float(p.get("start_period", 0)), float(p["limit"]),
                               int(p.get("number_phases") or PHASES))
                        for p in schedule.get("charging_schedule_period") or [])
        if not periods or unit not in ("A", "W"):
            return False
        starts_at = now if kind == "Relative" else _epoch(schedule.get("start_schedule"), now)
        duration = schedule.get("duration")
        new = Profile(profile_id, PURPOSES[purpose], plug, stack_level, unit, periods,
                      starts_at, transaction_id, float(duration) if duration else None)
        # Same purpose, plug and stack level replaces, as the specification says.
        for old in list(self.profiles.values()):
            if (old.purpose, old.plug, old.stack_level) == (new.purpose, new.plug,
                                                            new.stack_level):
                del self.profiles[old.id]
        if profile_id not in self.profiles and len(self.profiles) >= self.max_profiles:
            return False
        self.profiles[profile_id] = new
        return True

    def clear(self, *, profile_id: int | None = None, plug: int | None = None,
              purpose: str | None = None, stack_level: int | None = None) -> bool:
        """Remove matching profiles; True when any matched."""
        kind = PURPOSES.get(purpose) if purpose else None
        doomed = [p.id for p in self.profiles.values()
                  if (profile_id is None or p.id == profile_id)
                  and (plug is None or p.plug == plug)
                  and (kind is None or p.purpose == kind)
                  and (stack_level is None or p.stack_level == stack_level)]
        for key in doomed:
            del self.profiles[key]
        return bool(doomed)

    def end_transaction(self, transaction_id: str) -> None:
        """A transaction's profiles end with it."""
        for key in [p.id for p in self.profiles.values() if p.transaction_id == transaction_id]:
            del self.profiles[key]

    def _best(self, purpose: str, plug: int, at: float, transaction_id: str | None
              ) -> float | None:
        candidates = sorted(
            (p for p in self.profiles.values()
             if p.purpose == purpose and p.plug == plug
             and (purpose != TX or p.transaction_id == transaction_id)),
            key=lambda p: -p.stack_level)
        for profile in candidates:
            value = profile.limit_w(at)
            if value is not None:
                return value
        return None

    def limit_w(self, plug: int, transaction_id: str | None, at: float) -> float:
        """The power the charger allows on ``plug`` at ``at`` (epoch seconds)."""
        limit = self.max_power_w
        if self.ignore:
            return limit
        station = self._best(STATION_MAX, 0, at, None)
        if station is not None:
            limit = min(limit, station)
        tx = self._best(TX, plug, at, transaction_id) if transaction_id else None
        if tx is None:
            tx = self._best(DEFAULT, plug, at, None)
        if tx is None:
            tx = self._best(DEFAULT, 0, at, None)
        if tx is not None:
            limit = min(limit, tx)
        return max(limit, 0.0)

    def composite(self, plug: int, transaction_id: str | None, duration_s: int, unit: str,
                  now: float) -> list[dict[str, Any]]:
        """The combined schedule for ``duration_s`` from ``now``: snake_case periods in
        ``unit`` ("A" per phase on three phases, or "W")."""
        moments = sorted({now, *(t for p in self.profiles.values() for t in p.boundaries()
                                 if now < t < now + duration_s)})
        periods: list[dict[str, Any]] = []
        for moment in moments:
            watts = self.limit_w(plug, transaction_id, moment)
            limit = watts if unit == "W" else math.floor(
                watts / (VOLTAGE_V * PHASES) * 10) / 10
            if periods and periods[-1]["limit"] == limit:
                continue
            periods.append({"start_period": int(moment - now), "limit": limit,
                            "number_phases": PHASES})
        return periods
