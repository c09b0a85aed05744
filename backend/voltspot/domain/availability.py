"""What a driver is told about a plug: free, in use, offline or out of order."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from voltspot.domain.statuses import ConnectorStatus

# A station is trusted as online for this many heartbeat intervals after it was last heard.
HEARTBEATS_OF_GRACE = 2
MIN_GRACE = timedelta(seconds=90)


class Availability(StrEnum):
    FREE = "Free"
    IN_USE = "In use"
    OFFLINE = "Offline"
    OUT_OF_ORDER = "Out of order"
    UNKNOWN = "Unknown"

    @property
    def tone(self) -> str:
        return {"Free": "free", "In use": "in-use", "Offline": "offline",
                "Out of order": "out-of-order"}.get(self.value, "unknown")


def station_online(connected: bool, last_seen_at: datetime | None,
                   heartbeat_interval: int | None, now: datetime) -> bool:
    """Online: its socket is open and it has been heard within a couple of heartbeats.

    A half-open socket keeps ``connected`` true, so silence decides too: a charger that
    stopped heart-beating is never shown as free.
    """
    if not connected or last_seen_at is None:
        return False
    grace = max(MIN_GRACE, timedelta(seconds=(heartbeat_interval or 300) * HEARTBEATS_OF_GRACE))
    return now - last_seen_at <= grace


def plug_availability(online: bool, status: ConnectorStatus, claimed: bool) -> Availability:
    """A plug as a driver sees it. ``claimed``: a driver's session holds it right now."""
    if not online:
        return Availability.OFFLINE
    if status in (ConnectorStatus.FAULTED, ConnectorStatus.UNAVAILABLE):
        return Availability.OUT_OF_ORDER
    if claimed or status not in (ConnectorStatus.AVAILABLE, ConnectorStatus.PREPARING):
        return Availability.IN_USE
    return Availability.FREE
