"""Configure a charger after it boots: the meter values billing needs, and a read of its
device model (2.0.1) for the owner's station page; a 1.6 station nobody declared the plugs
of is asked how many it has."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from voltspot.db import Database
from voltspot.domain.clock import utcnow
from voltspot.domain.statuses import Registration
from voltspot.models import Station
from voltspot.services.charger_control import (
    ChargerControl,
    ChargerError,
    ChargerUnreachable,
    UnknownCommand,
)
from voltspot.services.stations.registry import get_station, record_plug_count

log = logging.getLogger(__name__)

# A pending station boots again every interval; its device model is read at most this often.
REPORT_AGAIN_AFTER = timedelta(hours=1)


def configure_after_boot(db: Database, control: ChargerControl, charge_point_id: str, *,
                         sample_interval_s: int) -> None:
    """Set the sampled measurands and interval a charger lacks, then ask for its full
    device model (it arrives as reports of its own). Allowed while the station is
    Pending (OCPP 2.0.1 B02). Never raises: a charger that cannot be configured is
    logged and keeps working with what it has."""
    with db.session() as session:
        station = get_station(session, charge_point_id)
        rejected = station.registration == Registration.REJECTED
        fresh = (station.device_model_at is not None
                 and utcnow() - station.device_model_at < REPORT_AGAIN_AFTER)
    if rejected:
        return  # a rejected station is sent nothing (OCPP 2.0.1 B03)
    try:
        metering = control.configure_metering(charge_point_id,
                                              sample_interval_s=sample_interval_s)
        for setting in metering.changed:
            log.info("%s: set %s", charge_point_id, setting)
        for setting in metering.missing:
            log.warning("%s: could not set %s; meter values may be missing", charge_point_id,
                        setting)
        if not fresh:
            report = control.request_device_report(charge_point_id)
            if not report.accepted:
                log.warning("%s: the device report request was answered %s",
                            charge_point_id, report.status)
    except (ChargerUnreachable, ChargerError, UnknownCommand) as error:
        log.warning("%s: could not configure after boot: %s", charge_point_id, error)


def read_plug_count(db: Database, control: ChargerControl, charge_point_id: str) -> None:
    """Ask an Accepted 1.6 station whose plug count is not known (its owner declared
    none) for its ``NumberOfConnectors`` setting and keep it as the count; a station
    whose count is known is sent nothing. Never raises: a station that does not answer
    keeps learning its plugs from its status notifications, up to the cap."""
    with db.session() as session:
        # Two columns, not the station and its plugs: every 1.6 boot of a storm asks.
        station = session.execute(select(Station.plug_count, Station.registration).where(
            Station.charge_point_id == charge_point_id)).first()
    if station is None:
        return  # removed since it booted: nothing to learn
    if station.plug_count is not None or station.registration != Registration.ACCEPTED:
        return
    try:
        read = control.read_settings(charge_point_id, [NUMBER_OF_CONNECTORS])
    except (ChargerUnreachable, ChargerError, UnknownCommand) as error:
        log.warning("%s: could not read %s: %s", charge_point_id, NUMBER_OF_CONNECTORS, error)
        return
    value = next((setting.value for setting in read.settings
                  if setting.key == NUMBER_OF_CONNECTORS), None)
    if value is None or not value.strip().isdigit():
        log.warning("%s: %s is %r, not a number of plugs", charge_point_id,
                    NUMBER_OF_CONNECTORS, value)
        return
    with db.session() as session:
        record_plug_count(session, charge_point_id, int(value), NUMBER_OF_CONNECTORS)


NUMBER_OF_CONNECTORS = "NumberOfConnectors"
