"""What owners add to their network's record: drivers' problem reports, outages an owner
excluded from the reliability figures (with the reason), and the price each printed QR
sticker shows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from voltspot.models.base import Base, utcnow


class ProblemReport(Base):
    """A driver's "report a problem" about one plug; open until the owner handles it."""

    __tablename__ = "problem_reports"
    __table_args__ = (Index("ix_problem_reports_station_open", "station_id", "handled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    connector_pk: Mapped[int] = mapped_column(ForeignKey("connectors.id"))
    message: Mapped[str] = mapped_column(String(1000))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[datetime | None]


class OutageExclusion(Base):
    """An outage of one plug (``connector_id``; 0 for the whole station) that the owner
    excluded from the reliability figures: from ``start_at`` to ``end_at`` (UTC), for
    ``cause`` (one of services.reports.reliability.EXCLUSION_CAUSES) with ``reason``."""

    __tablename__ = "outage_exclusions"
    __table_args__ = (Index("ix_outage_exclusions_station", "station_id", "start_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    connector_id: Mapped[int]
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    cause: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StickerPrint(Base):
    """A sheet of QR stickers as printed: the plug and the price lines its sticker shows."""

    __tablename__ = "sticker_prints"
    __table_args__ = (Index("ix_sticker_prints_connector", "connector_pk", "printed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_pk: Mapped[int] = mapped_column(ForeignKey("connectors.id"))
    price_lines: Mapped[list] = mapped_column(JSON)
    printed_at: Mapped[datetime] = mapped_column(default=utcnow)
