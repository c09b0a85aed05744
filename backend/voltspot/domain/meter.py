"""Meter values: unit normalisation and energy totals that survive misbehaving meters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

ENERGY_REGISTER = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
SOC = "SoC"

# Multiplier from a reported unit to the unit we store for that quantity.
_TO_BASE_UNIT = {
    "Wh": ("Wh", 1.0),
    "kWh": ("Wh", 1000.0),
    "varh": ("varh", 1.0),
    "kvarh": ("varh", 1000.0),
    "W": ("W", 1.0),
    "kW": ("W", 1000.0),
    "VA": ("VA", 1.0),
    "kVA": ("VA", 1000.0),
    "var": ("var", 1.0),
    "kvar": ("var", 1000.0),
    "A": ("A", 1.0),
    "V": ("V", 1.0),
    "Celsius": ("Celsius", 1.0),
    "Fahrenheit": ("Fahrenheit", 1.0),
    "K": ("K", 1.0),
    "Percent": ("Percent", 1.0),
}

# OCPP 1.6 defaults when a sampled value omits them (spec §7.45, SampledValue).
DEFAULT_MEASURAND = ENERGY_REGISTER
_DEFAULT_UNIT = {"SoC": "Percent", "Current.Import": "A", "Current.Export": "A",
                 "Current.Offered": "A", "Voltage": "V", "Frequency": "Hz",
                 "Temperature": "Celsius", "Power.Factor": "Percent"}


@dataclass(frozen=True)
class Sample:
    """One normalised sampled value."""

    taken_at: datetime
    measurand: str
    value: float
    unit: str
    phase: str | None = None
    context: str | None = None
    location: str | None = None

    @property
    def is_total_energy_register(self) -> bool:
        """True for the whole-meter import register (not a per-phase reading)."""
        return self.measurand == ENERGY_REGISTER and self.phase is None

    @property
    def is_total_power(self) -> bool:
        return self.measurand == POWER and self.phase is None


class MeterValueError(ValueError):
    """A sampled value that cannot be read (not a number, unknown unit)."""


# The largest energy register Voltspot keeps (its columns are 32-bit: 2.1 GWh, decades of
# a busy fast charger); a register is never negative.
MAX_REGISTER_WH = 2**31 - 1

# What a plug of unknown power is taken to deliver: the largest AC plugs (3 × 32 A).
UNKNOWN_PLUG_POWER_W = 22000

# A register may rise by the plug's full power over the time between two readings, and
# by this much more: chargers stamp readings late, buffer them offline and round.
REGISTER_TOLERANCE = timedelta(hours=1)


def plausible_register(value_wh: float) -> bool:
    """True for an energy register a meter can show (0 to :data:`MAX_REGISTER_WH` Wh)."""
    return 0 <= value_wh <= MAX_REGISTER_WH


def allowed_rise_wh(elapsed: timedelta, max_power_w: float) -> float:
    """The most a register can rise in ``elapsed`` on a plug of ``max_power_w`` (plus
    :data:`REGISTER_TOLERANCE`); more is a faulty reading, not energy delivered."""
    hours = (max(elapsed, timedelta(0)) + REGISTER_TOLERANCE).total_seconds() / 3600
    return max_power_w * hours


def normalise(taken_at: datetime, value: str, measurand: str | None = None,
              unit: str | None = None, phase: str | None = None, context: str | None = None,
              location: str | None = None, format: str | None = None) -> Sample:
    """Turn one OCPP sampled value into a :class:`Sample` in base units (Wh, W, A, V, %).

    Missing measurand and unit take the OCPP defaults (energy register in Wh). Raises
    :class:`MeterValueError` for a value that is not a number or an unknown unit; a
    ``SignedData`` value is not a number we can read and raises too.
    """
    measurand = measurand or DEFAULT_MEASURAND
    unit = unit or _DEFAULT_UNIT.get(measurand, "Wh")
    if format == "SignedData":
        raise MeterValueError("signed meter data is kept in the frame log, not as a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MeterValueError(f"{measurand} value {value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise MeterValueError(f"{measurand} value {value!r} is not a finite number")
    base_unit, factor = _TO_BASE_UNIT.get(unit, (unit, 1.0))
    if unit not in _TO_BASE_UNIT and unit != "Hz":
        raise MeterValueError(f"unit {unit!r} is not an OCPP unit")
    return Sample(taken_at=taken_at, measurand=measurand, value=number * factor,
                  unit=base_unit, phase=phase, context=context, location=location)


@dataclass(frozen=True)
class RegisterReading:
    """What a new energy-register reading does to a session's totals. ``billed`` is False
    for a reading that was set aside (see :func:`apply_register`)."""

    max_register_wh: int
    energy_wh: int
    anomaly: str | None
    billed: bool = True


def apply_register(meter_start_wh: int | None, max_register_wh: int | None,
                   reading_wh: float, allowed_rise: float | None = None) -> RegisterReading:
    """Fold one energy-register reading into a session's totals.

    Energy is the highest register seen minus the start reading, so a reading that arrives
    out of order, or a register that goes backwards, never lowers the total; a backwards
    register is reported as an anomaly for the owner to see, and otherwise ignored. A
    reading above the highest so far by more than ``allowed_rise`` Wh (more power than the
    plug delivers, see :func:`allowed_rise_wh`) is an anomaly too, and is not billed: the
    totals stay as they were, and a later plausible reading (the stop's) sets them.
    """
    reading = int(round(reading_wh))
    start = meter_start_wh if meter_start_wh is not None else reading
    highest_so_far = max(x for x in (max_register_wh, start) if x is not None)
    if allowed_rise is not None and reading - highest_so_far > allowed_rise:
        return RegisterReading(
            max_register_wh=highest_so_far, energy_wh=highest_so_far - start,
            anomaly=(f"energy register jumped from {highest_so_far} Wh to {reading} Wh, "
                     f"more than the plug can deliver; not billed"), billed=False)
    anomaly = None
    if reading < start:
        anomaly = f"energy register {reading} Wh is below the start reading {start} Wh"
    elif max_register_wh is not None and reading < max_register_wh:
        anomaly = (f"energy register went backwards from {max_register_wh} Wh to {reading} Wh")
    highest = max(highest_so_far, reading)
    return RegisterReading(max_register_wh=highest, energy_wh=highest - start, anomaly=anomaly)


def billable_points(points: list[tuple[datetime, float]], max_power_w: float
                    ) -> list[tuple[datetime, float]]:
    """Register readings ``(time, Wh)`` in time order without those that rose above the
    highest before them faster than the plug can deliver (see :func:`allowed_rise_wh`):
    the readings a bill is made of. The first reading (the start) is always kept."""
    ordered = sorted(points, key=lambda point: point[0])
    kept = ordered[:1]
    highest_at, highest = kept[0] if kept else (None, 0.0)
    for at, value in ordered[1:]:
        if value - highest > allowed_rise_wh(at - highest_at, max_power_w):
            continue
        kept.append((at, value))
        if value >= highest:
            highest_at, highest = at, value
    return kept
