"""What stations did over time: connections opened and closed and every status they
reported, kept as history for the uptime report (the current state lives on
:class:`~voltspot.models.Station` and :class:`~voltspot.models.Connector`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from voltspot.domain.statuses import ConnectorStatus
from voltspot.models.base import Base, StrEnumText

CONNECTIONS_ONLY = "connector_id IS NULL"
FAULTED_ONLY = f"status = '{ConnectorStatus.FAULTED}'"


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
        # One stream's events in time order (a connector's statuses: its state when a
        # report period began, and when a fault cleared).
        Index("ix_station_events_stream", "station_id", "connector_id", "at", "id"),
        # Connection events and faults are few among the statuses of busy plugs; the
        # uptime report reads only them.
        Index("ix_station_events_connections", "station_id", "at", "id",
              postgresql_where=text(CONNECTIONS_ONLY), sqlite_where=text(CONNECTIONS_ONLY)),
        Index("ix_station_events_faults", "station_id", "at",
              postgresql_where=text(FAULTED_ONLY), sqlite_where=text(FAULTED_ONLY)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    at: Mapped[datetime]
    kind: Mapped[StationEventKind] = mapped_column(StrEnumText(StationEventKind))
    connector_id: Mapped[int | None]
    status: Mapped[ConnectorStatus | None]
