"""The simulated car's battery: how much power it draws and how its state of charge grows.

Shared by the OCPP 1.6J and 2.0.1 chargers; no protocol, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

VOLTAGE_V = 230.0
PHASES = 3
TAPER_START_SOC = 80.0
# Below 80 % the car takes full power; above, power falls linearly but never under this
# share of it, so the battery does reach 100 % in finite time.
MIN_TAPER_FRACTION = 0.1
# A car drawing less than this is treated as full (covers tiny configured powers too).
FULL_POWER_THRESHOLD_W = 100.0
# The least current a car charges with (IEC 61851).
MIN_CURRENT_A = 6.0

_INTEGRATION_STEP_S = 30.0


def charging_power_w(soc: float, max_power_w: float) -> float:
    """Power in W a car at ``soc`` percent draws from a charger offering ``max_power_w``.

    Full power below 80 %, then a linear taper towards 100 % floored at 10 % of full power;
    0 at 100 % or when the result is below ``FULL_POWER_THRESHOLD_W``.
    """
    if soc >= 100.0:
        return 0.0
    fraction = 1.0
    if soc > TAPER_START_SOC:
        fraction = max((100.0 - soc) / (100.0 - TAPER_START_SOC), MIN_TAPER_FRACTION)
    power = max_power_w * fraction
    return power if power >= FULL_POWER_THRESHOLD_W else 0.0


@dataclass
class Car:
    """A car's battery on a charger offering ``max_power_w``.

    ``sampled_at`` is the event-loop time of the last energy update; the charger owns it.
    """

    battery_wh: float
    soc: float
    max_power_w: float
    sampled_at: float
    # What the charger's charging profiles allow now (None: no limit).
    allowed_w: float | None = None

    @property
    def power_w(self) -> float:
        power = charging_power_w(self.soc, self.max_power_w)
        if self.allowed_w is None:
            return power
        if self.allowed_w < MIN_CURRENT_A * VOLTAGE_V * PHASES:
            # IEC 61851: below 6 A a car pauses (and resumes when allowed more).
            return 0.0
        return min(power, self.allowed_w)

    @property
    def full(self) -> bool:
        return charging_power_w(self.soc, self.max_power_w) == 0.0

    def charge(self, seconds: float) -> float:
        """Charge the battery for ``seconds`` of simulated time; return the Wh delivered."""
        delivered = 0.0
        remaining = seconds
        while remaining > 0 and not self.full:
            step = min(remaining, _INTEGRATION_STEP_S)
            room = (100.0 - self.soc) / 100.0 * self.battery_wh
            energy = self.power_w * step / 3600.0
            if energy >= room:
                energy, self.soc = room, 100.0
            else:
                self.soc += energy / self.battery_wh * 100.0
            delivered += energy
            remaining -= step
        return delivered
