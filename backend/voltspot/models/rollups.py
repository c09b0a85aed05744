"""Running totals of closed charging sessions per UTC hour, which the owners' reports read
instead of the sessions themselves.

A closed session counts once, in the UTC hour its charging started and under the currency
it was billed in (``""`` when it has no cost): how many sessions, their energy and what
they cost. A local day, week, month or hour of day in a time zone whose offset is a whole
number of hours is made of whole UTC hours, so the reports fold these rows exactly as
they would fold the sessions. Sessions still open are never counted here; the reports add
them from ``charging_sessions`` (the partial index below finds them).

The totals are kept by :mod:`voltspot.services.reports.totals` (see ``count_closed_session``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from voltspot.models.base import Base
from voltspot.models.charging import ChargingSession


class HourTotals:
    """The figures both tables hold for one hour and currency."""

    hour_start: Mapped[datetime]
    # The currency the sessions' cost is in; "" for sessions without a cost.
    currency: Mapped[str] = mapped_column(String(3))
    sessions: Mapped[int]
    energy_wh: Mapped[int] = mapped_column(BigInteger)
    # The sum of the sessions' cost (VAT included), minor units of ``currency``.
    revenue: Mapped[int] = mapped_column(BigInteger)


class SiteHourTotal(HourTotals, Base):
    """Closed sessions of one site's stations (the site the station was on when the
    session closed, or the one that adopted it since) per UTC hour and currency: what an
    owner's report reads."""

    __tablename__ = "site_hour_totals"
    __table_args__ = (PrimaryKeyConstraint("site_id", "hour_start", "currency"),)

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))


class NetworkHourTotal(HourTotals, Base):
    """Closed sessions of every station, with or without a site, per UTC hour and
    currency: what an admin's report of all sites reads."""

    __tablename__ = "network_hour_totals"
    __table_args__ = (PrimaryKeyConstraint("hour_start", "currency"),)


# The open sessions a report adds to the totals: few, however long the history.
Index("ix_charging_sessions_open_started", ChargingSession.started_at,
      postgresql_where=ChargingSession.stopped_at.is_(None),
      sqlite_where=ChargingSession.stopped_at.is_(None))
