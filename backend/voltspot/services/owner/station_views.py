"""What a site's stations and one station look like to their owner: connection, what
the station said at boot, its plugs with their last status, and a page of its OCPP log.

Read-only; each function opens its own transaction and returns frozen read models (no
database rows), so templates never reach the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from voltspot.db import Database
from voltspot.domain.availability import station_online
from voltspot.domain.statuses import Registration, SessionStatus, plug_words
from voltspot.models import ChargingSession, OcppFrame, Station, utcnow
from voltspot.services.messages import N_
from voltspot.services.owner.accounts import Viewer, owned_site, owned_station
from voltspot.services.owner.sites import SiteDetails, site_details

FRAMES_PER_PAGE = 50


@dataclass(frozen=True)
class PlugView:
    """One plug as its owner sees it. ``label``/``tone`` is the last status it reported
    ("Offline" while its station is)."""

    pk: int
    number: int
    connector_type: str
    max_power_kw: float
    evse_id: str | None
    label: str
    tone: str
    reported: str
    error_code: str | None
    status_at: datetime | None
    session_id: int | None = None


@dataclass(frozen=True)
class StationSummary:
    charge_point_id: str
    online: bool
    pending: bool
    last_seen_at: datetime | None
    vendor: str | None
    model: str | None
    plugs: list[PlugView]


@dataclass(frozen=True)
class StationDetails:
    """What a station said about itself (at boot and since) and how it connects."""

    charge_point_id: str
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    firmware_status: str | None
    ocpp_version: str | None
    ocpp_version_preferred: str | None
    connected: bool
    connected_at: datetime | None
    last_boot_at: datetime | None
    heartbeat_interval: int | None
    boot_reason: str | None
    device_model: dict | None
    device_model_at: datetime | None


def _running(session: Session, station_ids: list[int]) -> dict[int, int]:
    """The open session on each plug (by connector pk) of these stations."""
    rows = session.execute(
        select(ChargingSession.connector_pk, ChargingSession.id)
        .where(ChargingSession.station_id.in_(station_ids),
               ChargingSession.connector_pk.is_not(None),
               ChargingSession.status.not_in((SessionStatus.COMPLETED, SessionStatus.FAILED)))
        .order_by(ChargingSession.id)).all()
    return dict(rows)


def _plugs(station: Station, online: bool, running: dict[int, int]) -> list[PlugView]:
    plugs = []
    for connector in station.connectors:
        reported, tone = plug_words(connector.status)
        plugs.append(PlugView(
            pk=connector.id, number=connector.connector_id,
            connector_type=str(connector.connector_type),
            max_power_kw=connector.max_power_w / 1000, evse_id=connector.evse_id,
            label=reported if online else N_("Offline"), tone=tone if online else "offline",
            reported=reported,
            error_code=None if connector.error_code in (None, "NoError") else connector.error_code,
            status_at=connector.status_at, session_id=running.get(connector.id)))
    return plugs


def _summary(station: Station, now: datetime, running: dict[int, int]) -> StationSummary:
    online = station_online(station.connected, station.last_seen_at, station.heartbeat_interval,
                            now)
    return StationSummary(station.charge_point_id, online,
                          station.registration != Registration.ACCEPTED or station.site is None,
                          station.last_seen_at, station.vendor, station.model,
                          _plugs(station, online, running))


def _details(station: Station) -> StationDetails:
    return StationDetails(
        station.charge_point_id, station.vendor, station.model, station.serial_number,
        station.firmware_version, station.firmware_status,
        str(station.ocpp_version) if station.ocpp_version else None,
        station.ocpp_version_preferred, station.connected, station.connected_at,
        station.last_boot_at, station.heartbeat_interval, station.boot_reason,
        dict(station.device_model) if station.device_model else None, station.device_model_at)


@dataclass(frozen=True)
class SiteView:
    site: SiteDetails
    stations: list[StationSummary]


def site_overview(db: Database, viewer: Viewer, site_id: int) -> SiteView:
    """One of the viewer's sites with each of its stations, online or not, and its plugs.
    Raises :class:`NotFound`."""
    with db.session() as session:
        site = owned_site(session, viewer, site_id)
        rows = session.scalars(select(Station).where(Station.site_id == site.id)
                               .options(selectinload(Station.connectors),
                                        selectinload(Station.site))
                               .order_by(Station.charge_point_id)).all()
        now, running = utcnow(), _running(session, [station.id for station in rows])
        return SiteView(site_details(site), [_summary(station, now, running)
                                             for station in rows])


@dataclass(frozen=True)
class FrameView:
    id: int
    at: datetime
    direction: str
    frame: str


@dataclass(frozen=True)
class StationView:
    """Everything the station page shows. ``site`` is None for a pending station."""

    station: StationDetails
    site: SiteDetails | None
    summary: StationSummary
    frames: list[FrameView]
    older_frames_before: int | None
    timezone: str


def station_overview(db: Database, viewer: Viewer, charge_point_id: str,
                     frames_before: int | None = None) -> StationView:
    """One of the viewer's stations: connection, what it said at boot, its plugs and a page
    of its OCPP log, newest first (frames older than id ``frames_before`` when given).
    Raises :class:`NotFound`."""
    with db.session() as session:
        station = owned_station(session, viewer, charge_point_id)
        query = select(OcppFrame).where(OcppFrame.charge_point_id == charge_point_id)
        if frames_before is not None:
            query = query.where(OcppFrame.id < frames_before)
        rows = session.scalars(query.order_by(OcppFrame.id.desc())
                               .limit(FRAMES_PER_PAGE + 1)).all()
        frames = [FrameView(f.id, f.at, f.direction, f.frame) for f in rows[:FRAMES_PER_PAGE]]
        older = frames[-1].id if len(rows) > FRAMES_PER_PAGE else None
        site = station.site
        return StationView(_details(station), site_details(site) if site else None,
                           _summary(station, utcnow(), _running(session, [station.id])),
                           frames, older,
                           site.timezone if site else "UTC")
