"""Status notifications: the plug's state, and what it means for the session on it."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from voltspot.domain.statuses import ConnectorStatus, status_for_connector_status
from voltspot.models import utcnow
from voltspot.services.charging import lifecycle as charging
from voltspot.services.stations import registry as stations

log = logging.getLogger(__name__)


def record_status(session: Session, charge_point_id: str, connector_id: int,
                  status: ConnectorStatus, error_code: str, timestamp: datetime | None,
                  info: str | None = None, vendor_error_code: str | None = None) -> bool:
    """Store a StatusNotification and, when it is the newest for a connector, let the
    session running there follow it. Returns False, storing nothing, when the station
    cannot have that connector (see
    :func:`~voltspot.services.stations.registry.has_plug`)."""
    newest = stations.record_status(session, charge_point_id, connector_id, status,
                                    error_code, timestamp, info, vendor_error_code)
    if newest is None:
        return False
    if newest and connector_id != 0:
        charging.connector_status_changed(session, charge_point_id, connector_id, status,
                                          timestamp or utcnow())
    return True


def record_evse_status(session: Session, charge_point_id: str, evse_id: int,
                       connector_id: int, connector_status: str,
                       timestamp: datetime | None) -> bool:
    """Store a 2.0.1 StatusNotification for connector ``connector_id`` of ``evse_id`` (our
    connector number: an EVSE is one plug to drivers). While a car charges on one
    connector of the EVSE, what the station says about its other connectors (usually
    Unavailable: only one can be used at a time) does not change the plug. Returns False,
    storing nothing, when the station has no such EVSE (as :func:`record_status`)."""
    station = stations.get_station(session, charge_point_id)
    if not stations.has_plug(station, evse_id):
        log.warning("%s: status for EVSE %s refused: the station has %s",
                    stations.log_safe(charge_point_id), evse_id,
                    f"{station.plug_count} EVSEs" if station.plug_count is not None
                    else f"no more than {stations.MAX_LEARNT_PLUGS} EVSEs")
        return False
    in_use = charging.running_on(session, station.id, evse_id)
    if in_use is not None and in_use.evse_connector_id not in (None, connector_id):
        log.info("%s: EVSE %s connector %s is %s while connector %s charges; plug unchanged",
                 charge_point_id, evse_id, connector_id, connector_status,
                 in_use.evse_connector_id)
        return True
    current = next((c.status for c in station.connectors if c.connector_id == evse_id),
                   ConnectorStatus.UNKNOWN)
    status = status_for_connector_status(connector_status, current)
    error_code = "OtherError" if status == ConnectorStatus.FAULTED else "NoError"
    return record_status(session, charge_point_id, evse_id, status, error_code, timestamp)
