"""What every version's incoming-message translator shares: each message handed to one
service use case, run on the service side as its own unit of work
(:class:`~voltspot.services.station_messages.StationMessages`)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ocpp.exceptions import PropertyConstraintViolationError

from voltspot.config import Settings
from voltspot.db import Database
from voltspot.domain.meter import MeterValueError, normalise, plausible_register
from voltspot.domain.statuses import Registration
from voltspot.group_commit import GroupCommitter
from voltspot.services.charger_control import ChargerControl
from voltspot.services.charging.lifecycle import MeterReading
from voltspot.services.station_messages import StationMessages
from voltspot.services.stations import registry as stations


class StationHandlers:
    """Base of the ``on_<action>`` handlers for one connected charger. Handlers translate
    payloads and answers only: ``self._messages`` runs each use case (in its own
    transaction, or group-committed for the frequent meter values)."""

    def __init__(self, charge_point_id: str, station_id: int, db: Database,
                 committer: GroupCommitter, settings: Settings,
                 control: ChargerControl) -> None:
        self.charge_point_id = charge_point_id
        self.station_id = station_id
        self._settings = settings
        self._messages = StationMessages(charge_point_id, db, committer, control)
        # The registration the station last booted with (read once when it sends before
        # booting over this connection).
        self._registration: Registration | None = None

    @property
    def registration(self) -> Registration:
        """The station's registration: the last boot's answer over this connection, else
        the one stored."""
        if self._registration is None:
            self._registration = self._messages.run(stations.registration_of)
        return self._registration

    def refuses_commands(self) -> bool:
        """True for a Rejected station: the CSMS sends it nothing (2.0.1 B03.FR.08)."""
        return self.registration == Registration.REJECTED

    def check_admitted(self, action: str) -> None:
        """Raise the CallError for ``action`` when the station's registration does not
        let it send that message; every message is let through unless a version says
        otherwise."""


# The most connectors a station has (as registering one allows): an id beyond it, or
# below 0, is refused before anything is looked up. Whether this station has the plug is
# the service's rule (:func:`voltspot.services.stations.registry.has_plug`).
MAX_CONNECTORS = stations.MAX_CONNECTORS
# The most connectors one 2.0.1 EVSE has (one plug to drivers; several cables at most).
MAX_EVSE_CONNECTORS = 8


def checked_connector(connector_id: int, field: str = "connectorId") -> int:
    """``connector_id`` when a station can have it (0, the station itself, to
    :data:`MAX_CONNECTORS`); else PropertyConstraintViolation."""
    if not 0 <= connector_id <= MAX_CONNECTORS:
        raise PropertyConstraintViolationError(
            description=f"{field} {connector_id} is not one of this station's connectors")
    return connector_id


def checked_evse_connector(connector_id: int) -> int:
    """A 2.0.1 ``connectorId`` within an EVSE (1 to :data:`MAX_EVSE_CONNECTORS`); else
    PropertyConstraintViolation."""
    if not 1 <= connector_id <= MAX_EVSE_CONNECTORS:
        raise PropertyConstraintViolationError(
            description=f"connectorId {connector_id} is not one of this EVSE's connectors")
    return connector_id


def refused_connector(field: str, connector_id: int) -> PropertyConstraintViolationError:
    """The CallError for a status about a connector (or EVSE) the station does not have."""
    return PropertyConstraintViolationError(
        description=f"{field} {connector_id} is not one of this station's connectors")


def checked_register(value_wh: float, field: str) -> int:
    """``value_wh`` when an energy meter can show it; else PropertyConstraintViolation
    (the charger is told, nothing reaches a bill or the database)."""
    if not plausible_register(value_wh):
        raise PropertyConstraintViolationError(
            description=f"{field} {value_wh:.0f} Wh is not a reading an energy meter shows")
    return int(value_wh)


def checked_readings(readings: Iterable[MeterReading]) -> list[MeterReading]:
    """``readings`` when every number in them is finite and every energy register one a
    meter can show (see :func:`checked_register`); else PropertyConstraintViolation.
    Values that are not numbers at all are left to the meter service, which skips them."""
    readings = list(readings)
    for reading in readings:
        for raw in reading.sampled_values:
            try:
                if not math.isfinite(float(raw.get("value"))):
                    raise PropertyConstraintViolationError(
                        description=f"{raw.get('value')!r:.40} is not a finite number")
            except (TypeError, ValueError):
                continue
            try:
                sample = normalise(reading.timestamp, **raw)
            except (MeterValueError, TypeError):
                continue
            if sample.measurand.startswith("Energy.") and sample.unit in ("Wh", "varh"):
                checked_register(sample.value, sample.measurand)
    return readings
