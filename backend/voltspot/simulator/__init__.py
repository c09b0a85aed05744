"""Charge-point simulator: realistic OCPP 1.6J and 2.0.1 chargers for the demo, tests and
benchmarks.

``SimulatedCharger`` is one 1.6J charger, ``SimulatedCharger201`` one 2.0.1 charger;
``run_chargers`` / ``run`` drive a fleet of either.
"""

from voltspot.simulator.base import (
    ChargerOffline,
    ConnectorUnavailable,
    SessionRefused,
    SimulatorError,
)
from voltspot.simulator.car import charging_power_w
from voltspot.simulator.charger import SimulatedCharger
from voltspot.simulator.charger_v201 import SimulatedCharger201
from voltspot.simulator.runner import (
    OCPP_VERSIONS,
    charge_point_ids,
    make_chargers,
    run,
    run_chargers,
)

__all__ = [
    "OCPP_VERSIONS",
    "ChargerOffline",
    "ConnectorUnavailable",
    "SessionRefused",
    "SimulatedCharger",
    "SimulatedCharger201",
    "SimulatorError",
    "charge_point_ids",
    "charging_power_w",
    "make_chargers",
    "run",
    "run_chargers",
]
