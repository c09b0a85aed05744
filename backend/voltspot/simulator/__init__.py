"""Charge-point simulator: realistic OCPP 1.6J chargers for the demo, tests and benchmarks.

``SimulatedCharger`` is one charger; ``run_chargers`` / ``run`` drive a fleet of them.
"""

from voltspot.simulator.charger import (
    ChargerOffline,
    ConnectorUnavailable,
    SessionRefused,
    SimulatedCharger,
    SimulatorError,
    charging_power_w,
)
from voltspot.simulator.runner import charge_point_ids, run, run_chargers

__all__ = [
    "ChargerOffline",
    "ConnectorUnavailable",
    "SessionRefused",
    "SimulatedCharger",
    "SimulatorError",
    "charge_point_ids",
    "charging_power_w",
    "run",
    "run_chargers",
]
