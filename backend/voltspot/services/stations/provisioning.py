"""Configure a 2.0.1 charger after it boots: the meter values billing needs, and a read
of its device model for the owner's station page."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from voltspot.db import Database
from voltspot.domain.device_model import SAMPLED_DATA_CTRLR, SAMPLING_VARIABLES, sampling_to_set
from voltspot.domain.statuses import Registration
from voltspot.models import utcnow
from voltspot.services.charger_control import ChargerControl, ChargerError, ChargerUnreachable
from voltspot.services.stations.registry import get_station

log = logging.getLogger(__name__)

# A pending station boots again every interval; its device model is read at most this often.
REPORT_AGAIN_AFTER = timedelta(hours=1)


def configure_after_boot(db: Database, control: ChargerControl, charge_point_id: str, *,
                         sample_interval_s: int) -> None:
    """Set the sampled measurands and interval a charger lacks, then ask for its full
    device model (it arrives as NotifyReport messages). Allowed while the station is
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
        _configure_sampling(control, charge_point_id, sample_interval_s)
        if not fresh:
            answer = control.send(charge_point_id, "GetBaseReport", {
                "requestId": secrets.randbelow(2**31), "reportBase": "FullInventory"})
            if answer.get("status") not in ("Accepted", "EmptyResultSet"):
                log.warning("%s: GetBaseReport answered %s", charge_point_id,
                            answer.get("status"))
    except (ChargerUnreachable, ChargerError) as error:
        log.warning("%s: could not configure after boot: %s", charge_point_id, error)


def _configure_sampling(control: ChargerControl, charge_point_id: str,
                        sample_interval_s: int) -> None:
    answer = control.send(charge_point_id, "GetVariables", {"getVariableData": [
        {"component": {"name": SAMPLED_DATA_CTRLR}, "variable": {"name": name}}
        for name in SAMPLING_VARIABLES]})
    current: dict[str, str | None] = {}
    for result in answer.get("getVariableResult", []):
        name = result.get("variable", {}).get("name")
        if result.get("attributeStatus") == "Accepted":
            current[name] = result.get("attributeValue", "")
    for name, choices in sampling_to_set(current, sample_interval_s).items():
        for value in choices:
            reply = control.send(charge_point_id, "SetVariables", {"setVariableData": [{
                "component": {"name": SAMPLED_DATA_CTRLR}, "variable": {"name": name},
                "attributeValue": value}]})
            status = (reply.get("setVariableResult") or [{}])[0].get("attributeStatus")
            if status in ("Accepted", "RebootRequired"):
                log.info("%s: set %s.%s to %s", charge_point_id, SAMPLED_DATA_CTRLR, name,
                         value)
                break
            if status in ("UnknownComponent", "UnknownVariable", "NotSupportedAttributeType"):
                log.warning("%s: has no %s.%s (%s); meter values may be missing",
                            charge_point_id, SAMPLED_DATA_CTRLR, name, status)
                break
        else:
            log.warning("%s: rejected every value for %s.%s; meter values may be missing",
                        charge_point_id, SAMPLED_DATA_CTRLR, name)
