"""Tariffs: what a session costs. Amounts in integer minor units of ``currency``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from voltspot.models.base import Base, utcnow


class Tariff(Base):
    """Prices are VAT included. Unit prices carry four decimals of the minor unit
    (``energy_price_per_kwh = 3900`` means 39.00 cents per kWh) because real tariffs such
    as €0.395/kWh do not fit whole cents; session totals are rounded to whole minor units.
    """

    __tablename__ = "tariffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    energy_price_per_kwh: Mapped[int] = mapped_column(default=0)
    time_price_per_minute: Mapped[int] = mapped_column(default=0)
    time_price_basis: Mapped[str] = mapped_column(String(16), default="charging")
    session_fee: Mapped[int] = mapped_column(default=0)
    idle_fee_per_minute: Mapped[int] = mapped_column(default=0)
    idle_grace_minutes: Mapped[int] = mapped_column(default=0)
    idle_fee_cap: Mapped[int | None]
    vat_rate_basis_points: Mapped[int] = mapped_column(default=2100)
    hold_amount: Mapped[int] = mapped_column(default=5000)
    windows: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
