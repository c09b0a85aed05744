"""Sites, the stations on them and each station's connectors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voltspot.domain.statuses import ConnectorStatus, ConnectorType, Registration
from voltspot.models.base import Base, utcnow


class Site(Base):
    """A place with chargers: a hotel car park, a supermarket, a depot."""

    __tablename__ = "sites"
    # Find a spot: a bounding-box range scan on the position.
    __table_args__ = (Index("ix_sites_position", "latitude", "longitude"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="NL")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")
    # The tariff assigned to the whole site: plugs added to the site later get it too.
    tariff_id: Mapped[int | None] = mapped_column(ForeignKey("tariffs.id", ondelete="SET NULL"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    help_phone: Mapped[str] = mapped_column(String(40), default="")
    opening_hours: Mapped[str] = mapped_column(String(200), default="24/7")
    # OCPI: shown to roaming partners and in the public open-data feed.
    publish_to_roaming: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Who sells the charge, as printed on drivers' receipts.
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    vat_number: Mapped[str] = mapped_column(String(40), default="")

    stations: Mapped[list[Station]] = relationship(back_populates="site")


class Station(Base):
    """A charge point, known to chargers by ``charge_point_id`` (the last URL segment)."""

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_point_id: Mapped[str] = mapped_column(String(48), unique=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    registration: Mapped[Registration] = mapped_column(default=Registration.ACCEPTED)
    ocpp_version: Mapped[str | None] = mapped_column(String(8))
    # The version to pick when a charger offers several ("1.6" or "2.0.1"; None: newest).
    ocpp_version_preferred: Mapped[str | None] = mapped_column(String(8))
    boot_reason: Mapped[str | None] = mapped_column(String(32))
    # OCPP 2.0.1 device model as the charger reported it (GetBaseReport → NotifyReport):
    # "Component[/instance][@evse]:Variable[/instance]" → actual value.
    device_model: Mapped[dict | None] = mapped_column(JSON)
    device_model_at: Mapped[datetime | None]
    vendor: Mapped[str | None] = mapped_column(String(50))
    model: Mapped[str | None] = mapped_column(String(50))
    serial_number: Mapped[str | None] = mapped_column(String(50))
    firmware_version: Mapped[str | None] = mapped_column(String(50))
    iccid: Mapped[str | None] = mapped_column(String(50))
    imsi: Mapped[str | None] = mapped_column(String(50))
    meter_type: Mapped[str | None] = mapped_column(String(50))
    meter_serial_number: Mapped[str | None] = mapped_column(String(50))
    max_power_w: Mapped[int] = mapped_column(default=22000)
    # How many plugs the station has, when known: its owner's declaration, else what the
    # station reported (1.6 NumberOfConnectors, 2.0.1 its EVSEs). None: unknown, so its
    # status notifications may add plugs up to a cap (see services/stations/registry).
    plug_count: Mapped[int | None]
    heartbeat_interval: Mapped[int | None]
    connected: Mapped[bool] = mapped_column(default=False)
    connection_id: Mapped[str | None] = mapped_column(String(36))
    connected_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    last_boot_at: Mapped[datetime | None]
    status: Mapped[ConnectorStatus | None]
    error_code: Mapped[str | None] = mapped_column(String(32))
    status_at: Mapped[datetime | None]
    firmware_status: Mapped[str | None] = mapped_column(String(32))
    diagnostics_status: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    site: Mapped[Site | None] = relationship(back_populates="stations")
    connectors: Mapped[list[Connector]] = relationship(
        back_populates="station", order_by="Connector.connector_id", cascade="all, delete-orphan"
    )


class Connector(Base):
    """One plug of a station (OCPP 1.6 connectorId ≥ 1), reachable by its eMI3 EVSE id."""

    __tablename__ = "connectors"
    __table_args__ = (UniqueConstraint("station_id", "connector_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    connector_id: Mapped[int]
    evse_id: Mapped[str | None] = mapped_column(String(48), unique=True)
    connector_type: Mapped[ConnectorType] = mapped_column(default=ConnectorType.TYPE2)
    max_power_w: Mapped[int] = mapped_column(default=22000)
    tariff_id: Mapped[int | None] = mapped_column(ForeignKey("tariffs.id"))
    status: Mapped[ConnectorStatus] = mapped_column(default=ConnectorStatus.UNKNOWN)
    error_code: Mapped[str | None] = mapped_column(String(32))
    vendor_error_code: Mapped[str | None] = mapped_column(String(50))
    info: Mapped[str | None] = mapped_column(String(50))
    status_at: Mapped[datetime | None]
    # A cable fixed to the charger (True) or a socket the driver brings a cable for.
    tethered: Mapped[bool] = mapped_column(default=False)

    station: Mapped[Station] = relationship(back_populates="connectors")
