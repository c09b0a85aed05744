"""The smart-charging intents of :class:`~voltspot.services.charger_control.ChargerControl`:
what a charging limit is, and the outcomes a charger's answers are read into (setting and
clearing a limit answer a plain :class:`CommandOutcome`).

Version-neutral: the 1.6 and 2.0.1 messages are built in ``voltspot.ocpp.v16.smart_charging``
and ``voltspot.ocpp.v201.smart_charging``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from voltspot.domain.load import NOMINAL_VOLTAGE
from voltspot.services.charger_control import CommandOutcome


class LimitPurpose(StrEnum):
    """What a limit is for (the OCPP chargingProfilePurpose, by intent)."""

    # The running transaction on one plug (TxProfile): the allocator's figure.
    TRANSACTION = "transaction"
    # Every transaction on a plug (plug 0: the whole station) until a transaction limit
    # arrives (TxDefaultProfile): the safe fallback when Voltspot is unreachable.
    PLUG_DEFAULT = "plug_default"
    # The whole station (ChargePointMaxProfile / ChargingStationMaxProfile): its own cap.
    STATION_MAX = "station_max"


class RateUnit(StrEnum):
    """The unit a charger takes limits in."""

    AMPS = "A"
    WATTS = "W"


# Stable profile ids, so that a new limit replaces the last one of the same purpose and
# plug instead of piling up (chargers hold only a few profiles).
_PROFILE_ID_BASE = {
    LimitPurpose.STATION_MAX: 1000,
    LimitPurpose.PLUG_DEFAULT: 2000,
    LimitPurpose.TRANSACTION: 3000,
}


@dataclass(frozen=True)
class ChargingLimit:
    """A limit to install on a charger.

    ``amps`` per phase on ``phases`` phases (sent as watts when ``unit`` is W, at the
    nominal voltage); ``plug`` 0 means the whole station (the only plug a STATION_MAX
    limit takes). A TRANSACTION limit names the charger's transaction id. ``relative``
    sends a Relative profile (no start time) for chargers that reject Absolute ones.
    """

    purpose: LimitPurpose
    amps: float
    plug: int = 0
    phases: int = 3
    charger_transaction_id: str | None = None
    stack_level: int = 0
    unit: RateUnit = RateUnit.AMPS
    relative: bool = False

    @property
    def profile_id(self) -> int:
        return _PROFILE_ID_BASE[self.purpose] + self.plug

    @property
    def value(self) -> float:
        """The limit in ``unit``, one decimal (watts: whole)."""
        if self.unit is RateUnit.WATTS:
            return float(int(self.amps * NOMINAL_VOLTAGE * self.phases))
        return round(self.amps, 1)


@dataclass(frozen=True)
class SchedulePeriod:
    """From ``start_s`` seconds after the schedule's start: ``limit`` in the schedule's unit."""

    start_s: int
    limit: float
    phases: int | None = None


@dataclass(frozen=True)
class CompositeSchedule(CommandOutcome):
    """What the charger says it will really do on a plug (all its limits combined)."""

    unit: RateUnit | None = None
    periods: tuple[SchedulePeriod, ...] = ()

    def limit_now_amps(self, phases: int = 3) -> float | None:
        """The limit of the first period, in amps per phase; None without a schedule."""
        if not self.periods or self.unit is None:
            return None
        first = self.periods[0]
        if self.unit is RateUnit.WATTS:
            return first.limit / (NOMINAL_VOLTAGE * (first.phases or phases))
        return first.limit


@dataclass(frozen=True)
class SmartChargingSettings(CommandOutcome):
    """A charger's smart-charging abilities as it reported them.

    ``supported``: it has smart charging at all; ``units``: the rate units it takes;
    ``max_stack_level`` and ``max_profiles``: None when it did not say.
    """

    supported: bool = True
    units: tuple[RateUnit, ...] = (RateUnit.AMPS,)
    max_stack_level: int | None = None
    max_profiles: int | None = None

    @property
    def unit(self) -> RateUnit:
        """The unit to send limits in: amps when it takes them (the allocator's unit)."""
        return RateUnit.AMPS if RateUnit.AMPS in self.units or not self.units else self.units[0]
