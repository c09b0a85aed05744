"""Load management: a site's connection limit, its circuits, each station's and plug's
settings, the last allocation per plug (it survives restarts) and the site meter's readings.

Kept in tables of their own, one row per site / station / plug that the owner configured,
so a site without load management costs nothing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from voltspot.models.base import Base, StrEnumText, utcnow


class ProfileKind(StrEnum):
    """The chargingProfileKind Voltspot sends (some chargers only take one of them)."""

    ABSOLUTE = "Absolute"
    RELATIVE = "Relative"


class SiteLoadSettings(Base):
    """A site's grid connection and how it is shared.

    ``limit_amps`` per phase on ``phases`` phases is what the allocator uses; when the owner
    entered kilowatts, ``limit_kw`` keeps that figure and ``limit_amps`` is derived from it.
    ``margin_amps`` comes off every phase. A site meter reading older than
    ``meter_max_age_seconds`` is replaced by ``meter_fallback_amps`` of other load.
    """

    __tablename__ = "site_load_settings"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    limit_amps: Mapped[float]
    phases: Mapped[int] = mapped_column(default=3)
    limit_kw: Mapped[float | None]
    margin_amps: Mapped[float] = mapped_column(default=0.0)
    min_amps: Mapped[float] = mapped_column(default=6.0)
    # A plug's limit is raised (or a paused car resumed) only after it was held this long.
    hold_seconds: Mapped[int] = mapped_column(default=30)
    # The site meter: a hash of the key a meter presents; None when there is no meter.
    meter_key_hash: Mapped[str | None] = mapped_column(String(128))
    meter_max_age_seconds: Mapped[int] = mapped_column(default=120)
    meter_fallback_amps: Mapped[float] = mapped_column(default=0.0)
    # When the load loop last recomputed the site.
    computed_at: Mapped[datetime | None]
    # Raised by every change to the site's circuits or its stations' load settings (the
    # owner's, or what a charger said it takes): the load loop keeps the tree in memory
    # while this stays the same.
    tree_version: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LoadCircuit(Base):
    """A group of stations behind its own fuse, inside the site or inside another circuit."""

    __tablename__ = "load_circuits"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("load_circuits.id"))
    name: Mapped[str] = mapped_column(String(100))
    limit_amps: Mapped[float]
    phases: Mapped[int] = mapped_column(default=3)


class StationLoadSettings(Base):
    """A station's place in the tree, its own cap and what its charger accepts.

    ``rejects_profiles``, ``stack_level_zero_only`` and ``profile_kind`` are the owner's
    switches for what real chargers reject (``rejects_profiles`` is also set when the charger
    refuses a profile). ``charging_rate_unit``, ``max_stack_level`` and
    ``max_profiles_installed`` are what the charger reported (1.6 configuration keys or the
    2.0.1 SmartChargingCtrlr variables), read once and kept.
    """

    __tablename__ = "station_load_settings"

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    circuit_id: Mapped[int | None] = mapped_column(ForeignKey("load_circuits.id"), index=True)
    max_amps: Mapped[float | None]
    phases: Mapped[int] = mapped_column(default=3)
    rejects_profiles: Mapped[bool] = mapped_column(default=False)
    stack_level_zero_only: Mapped[bool] = mapped_column(default=False)
    profile_kind: Mapped[ProfileKind] = mapped_column(
        StrEnumText(ProfileKind), default=ProfileKind.ABSOLUTE
    )
    charging_rate_unit: Mapped[str | None] = mapped_column(String(8))
    max_stack_level: Mapped[int | None]
    max_profiles_installed: Mapped[int | None]
    settings_read_at: Mapped[datetime | None]
    fallback_amps: Mapped[float | None]
    fallback_installed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))


class PlugLoad(Base):
    """One plug's priority and the last limit Voltspot decided for it.

    ``amps`` / ``since`` feed the hysteresis and hold time of the next recompute; ``applied_*``
    say whether the charger took it. Recomputed from the database after a restart.
    """

    __tablename__ = "plug_loads"

    connector_pk: Mapped[int] = mapped_column(ForeignKey("connectors.id"), primary_key=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    priority: Mapped[int] = mapped_column(default=0)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("charging_sessions.id"))
    amps: Mapped[float | None]
    target_amps: Mapped[float | None]
    paused: Mapped[bool] = mapped_column(default=False)
    pause_reason: Mapped[str | None] = mapped_column(String(32))
    since: Mapped[datetime | None]
    drawn_amps: Mapped[float | None]
    applied_amps: Mapped[float | None]
    applied_at: Mapped[datetime | None]
    apply_error: Mapped[str | None] = mapped_column(String(300))
    # Since when the car has drawn clearly more than its charger was told to allow.
    over_limit_since: Mapped[datetime | None]


class SiteMeterReading(Base):
    """The building's other load at a moment, per phase, as its meter posted it."""

    __tablename__ = "site_meter_readings"
    __table_args__ = (Index("ix_site_meter_readings_site_taken", "site_id", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    l1_amps: Mapped[float]
    l2_amps: Mapped[float]
    l3_amps: Mapped[float]


class SiteLoadSample(Base):
    """A site's power at a minute: the limit, what its cars were allowed and what they
    drew (W), for the owner's chart of the day. One row per site per minute at most."""

    __tablename__ = "site_load_samples"

    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), primary_key=True)
    at: Mapped[datetime] = mapped_column(primary_key=True)
    limit_w: Mapped[int]
    allocated_w: Mapped[int]
    drawn_w: Mapped[int]
