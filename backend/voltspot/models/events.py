"""What stations did over time: connections opened and closed and every status they
reported, kept as history for the uptime report (the current state lives on
:class:`~voltspot.models.Station` and :class:`~voltspot.models.Connector`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from voltspot.domain.statuses import ConnectorStatus
from voltspot.models.base import Base, StrEnumText


class StationEventKind(StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    STATUS = "status"


class StationEvent(Base):
    """One change in a station's life at ``at`` (UTC).

    Connection events have no ``connector_id``; a status event has the connector it is
    about (0 for the whole station) and the reported ``status``. A state lasts until the
    next event of the same stream (the connection, or one connector's status).
    """

    __tablename__ = "station_events"
    __table_args__ = (
        # The events of a period, and the last event of each stream before it.
        Index("ix_station_events_station_at", "station_id", "at"),
        Index("ix_station_events_station_connector_at", "station_id", "connector_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    at: Mapped[datetime]
    kind: Mapped[StationEventKind] = mapped_column(StrEnumText(StationEventKind))
    connector_id: Mapped[int | None]
    status: Mapped[ConnectorStatus | None]
