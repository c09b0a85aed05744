"""The owner's live board: today's figures, alerts, and every station with its plugs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from voltspot.db import Database
from voltspot.domain.availability import station_online
from voltspot.domain.statuses import (
    ConnectorStatus,
    PaymentState,
    SessionStatus,
    plug_words,
)
from voltspot.models import ChargingSession, Site, Station, utcnow
from voltspot.services.owner.accounts import Viewer, scope_sites

# Offline for longer than this many heartbeats is worth an alert (a blip is not).
OFFLINE_ALERT_HEARTBEATS = 3


@dataclass(frozen=True)
class Alert:
    text: str
    action_label: str
    charge_point_id: str | None = None
    session_id: int | None = None


@dataclass(frozen=True)
class PlugTile:
    connector_id: int
    status: str
    error_code: str | None
    power_kw: float | None
    energy_kwh: float | None


@dataclass(frozen=True)
class StationTile:
    charge_point_id: str
    site_name: str
    online: bool
    last_seen_at: datetime | None
    plugs: list[PlugTile]


@dataclass(frozen=True)
class Board:
    energy_kwh_today: float
    sessions_today: int
    revenue_today: dict[str, int]
    stations_online: int
    stations_total: int
    alerts: list[Alert]
    stations: list[StationTile]
    updated_at: datetime


def _midnight(timezone: str, now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(timezone))
    return datetime.combine(local.date(), time(), tzinfo=local.tzinfo)


def _live_board(session: Session, viewer: Viewer) -> Board:
    now = utcnow()
    stations = session.scalars(scope_sites(viewer, select(Station).join(Site).options(
        selectinload(Station.connectors), selectinload(Station.site))).order_by(
            Site.name, Station.charge_point_id)).all()
    timezone = stations[0].site.timezone if stations else "UTC"
    since = _midnight(timezone, now)
    station_ids = [s.id for s in stations]
    today = ChargingSession.started_at >= since
    in_scope = ChargingSession.station_id.in_(station_ids)
    energy, count = session.execute(select(func.coalesce(func.sum(ChargingSession.energy_wh), 0),
                                           func.count()).where(in_scope, today)).one()
    revenue = dict(session.execute(
        select(ChargingSession.currency, func.sum(ChargingSession.cost)).where(
            in_scope, today, ChargingSession.cost.is_not(None),
            ChargingSession.currency.is_not(None)).group_by(ChargingSession.currency)).all())
    running = {(s.station_id, s.connector_id): s for s in session.scalars(
        select(ChargingSession).where(in_scope, ChargingSession.status.in_(
            [SessionStatus.CHARGING, SessionStatus.SUSPENDED, SessionStatus.FINISHING])))}
    alerts: list[Alert] = []
    tiles = []
    online_count = 0
    for station in stations:
        online = station_online(station.connected, station.last_seen_at,
                                station.heartbeat_interval, now)
        online_count += online
        silence = timedelta(seconds=(station.heartbeat_interval or 300) * OFFLINE_ALERT_HEARTBEATS)
        if not online and (station.last_seen_at is None or now - station.last_seen_at > silence):
            alerts.append(Alert(f"{station.charge_point_id} has been offline since "
                                f"{_when(station.last_seen_at, timezone)}.",
                                "Check its power and network", station.charge_point_id))
        plugs = []
        for connector in station.connectors:
            if connector.status == ConnectorStatus.FAULTED:
                alerts.append(Alert(f"{station.charge_point_id} plug {connector.connector_id} "
                                    f"reports a fault ({connector.error_code}).",
                                    "Reset the station", station.charge_point_id))
            charging = running.get((station.id, connector.connector_id))
            plugs.append(PlugTile(
                connector.connector_id, plug_words(connector.status)[0], connector.error_code,
                power_kw=(charging.power_w or 0) / 1000 if charging else None,
                energy_kwh=charging.energy_wh / 1000 if charging else None))
        tiles.append(StationTile(station.charge_point_id, station.site.name, online,
                                 station.last_seen_at, plugs))
    for failed in session.scalars(select(ChargingSession).where(
            in_scope, ChargingSession.status == SessionStatus.FAILED,
            ChargingSession.created_at >= since, ChargingSession.origin == "driver")):
        alerts.append(Alert(f"A driver's start failed: {failed.failure_reason}.",
                            "See the session", session_id=failed.id))
    for stuck in session.scalars(select(ChargingSession).where(
            in_scope, ChargingSession.payment_error.is_not(None),
            ChargingSession.payment_state.in_([PaymentState.TO_SETTLE, PaymentState.TO_RELEASE]))):
        alerts.append(Alert(f"A payment keeps failing: {stuck.payment_error}.",
                            "See the session", session_id=stuck.id))
    return Board(energy_kwh_today=energy / 1000, sessions_today=count, revenue_today=revenue,
                 stations_online=online_count, stations_total=len(stations), alerts=alerts,
                 stations=tiles, updated_at=now)


def _when(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return "it was added (never connected)"
    return moment.astimezone(ZoneInfo(timezone)).strftime("%d %b %H:%M")


__all__ = ["Board", "live_board"]


def live_board(db: Database, viewer: Viewer) -> Board:
    """The board for ``viewer``'s sites at this moment. "Today" is midnight in the
    timezone of the viewer's first site (UTC without sites)."""
    with db.session() as session:
        return _live_board(session, viewer)
