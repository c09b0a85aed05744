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
from voltspot.models import (
    ChargingSession,
    Connector,
    IdToken,
    OcpiPartner,
    OcpiSession,
    Site,
    Station,
    utcnow,
)
from voltspot.services.charging.billing import bill_for
from voltspot.services.messages import N_
from voltspot.services.owner.accounts import Viewer, scope_sites
from voltspot.services.owner.facts import local_moment
from voltspot.services.owner.problems import open_problems
from voltspot.services.owner.session_words import who
from voltspot.services.owner.stickers import stale_stickers

# Offline for longer than this many heartbeats is worth an alert (a blip is not).
OFFLINE_ALERT_HEARTBEATS = 3


@dataclass(frozen=True)
class Alert:
    """Something on the owner's network that needs them, with the one action that
    resolves it. ``kind`` says which action the board offers: ``offline`` (what to check
    at the station, and its page), ``fault`` (restart the station, sent from the board),
    ``session`` (open the session), ``problem`` (a driver's report: mark it handled),
    ``stickers`` (printed stickers show an old price: print the site's new sheet)."""

    text: str
    action_label: str
    charge_point_id: str | None = None
    session_id: int | None = None
    kind: str = "station"
    hint: str | None = None
    problem_id: int | None = None
    at: datetime | None = None
    site_id: int | None = None


@dataclass(frozen=True)
class PlugTile:
    """One plug on the board; while a session runs on it: the session, who charges
    (card holder or "App driver"), since when, and its cost so far (minor units)."""

    connector_id: int
    status: str
    error_code: str | None
    power_kw: float | None
    energy_kwh: float | None
    session_id: int | None = None
    driver: str | None = None
    started_at: datetime | None = None
    cost_so_far: int | None = None
    currency: str | None = None


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
            [SessionStatus.STARTING, SessionStatus.CHARGING, SessionStatus.SUSPENDED,
             SessionStatus.FINISHING])).order_by(ChargingSession.id))}
    tags = [s.id_tag for s in running.values() if s.id_tag]
    holders = dict(session.execute(select(IdToken.id_tag, IdToken.holder_name).where(
        IdToken.id_tag.in_(tags))).all()) if tags else {}
    # Roaming sessions' partners (their drivers are the partners', not card holders).
    partner_of = dict(session.execute(
        select(OcpiSession.session_id, OcpiPartner.name)
        .join(OcpiPartner, OcpiPartner.id == OcpiSession.partner_id)
        .where(OcpiSession.session_id.in_([s.id for s in running.values()]))).all()
    ) if running else {}
    alerts: list[Alert] = []
    tiles = []
    online_count = 0
    for station in stations:
        online = station_online(station.connected, station.last_seen_at,
                                station.heartbeat_interval, now)
        online_count += online
        silence = timedelta(seconds=(station.heartbeat_interval or 300) * OFFLINE_ALERT_HEARTBEATS)
        if not online and (station.last_seen_at is None or now - station.last_seen_at > silence):
            alerts.append(Alert(
                N_("%(station)s has been offline since %(when)s.",
                   station=station.charge_point_id, when=_when(station.last_seen_at, timezone)),
                N_("Open the station"), station.charge_point_id, kind="offline",
                hint=N_("Check at the station that it has power and a network connection; it "
                        "reconnects by itself. If it was reset to factory settings, enter its "
                        "address and a new password again (on its page).")))
        plugs = []
        for connector in station.connectors:
            if connector.status == ConnectorStatus.FAULTED:
                alerts.append(Alert(N_("%(station)s plug %(number)s reports a fault (%(code)s).",
                                       station=station.charge_point_id,
                                       number=connector.connector_id, code=connector.error_code),
                                    N_("Restart the station"), station.charge_point_id,
                                    kind="fault" if online else "offline"))
            charging = running.get((station.id, connector.connector_id))
            plugs.append(_plug_tile(session, connector, charging, holders, partner_of, now))
        tiles.append(StationTile(station.charge_point_id, station.site.name, online,
                                 station.last_seen_at, plugs))
    for failed in session.scalars(select(ChargingSession).where(
            in_scope, ChargingSession.status == SessionStatus.FAILED,
            ChargingSession.created_at >= since, ChargingSession.origin == "driver")):
        alerts.append(Alert(N_("A driver's start failed: %(why)s.",
                               why=N_(failed.failure_reason or "")),
                            N_("See the session"), session_id=failed.id, kind="session"))
    for stuck in session.scalars(select(ChargingSession).where(
            in_scope, ChargingSession.payment_error.is_not(None),
            ChargingSession.payment_state.in_([PaymentState.TO_SETTLE, PaymentState.TO_RELEASE]))):
        alerts.append(Alert(N_("A payment keeps failing: %(why)s.", why=stuck.payment_error),
                            N_("See the session"), session_id=stuck.id, kind="session"))
    for stale in stale_stickers(session, station_ids):
        count = len(stale.evse_ids)
        plugs = ", ".join(stale.evse_ids)
        alerts.append(Alert(
            N_("1 printed sticker at %(site)s now shows an old price: %(plugs)s.",
               site=stale.site_name, plugs=plugs) if count == 1 else
            N_("%(count)s printed stickers at %(site)s now show an old price: %(plugs)s.",
               count=count, site=stale.site_name, plugs=plugs),
            N_("Print the new sheet"), kind="stickers", site_id=stale.site_id))
    for problem in open_problems(session, station_ids):
        alerts.append(Alert(
            N_("A driver reports a problem at %(station)s plug %(number)s (%(when)s): "
               "“%(message)s”", station=problem.charge_point_id, number=problem.plug_number,
               when=_when(problem.reported_at, timezone), message=problem.message),
            N_("Mark as handled"), problem.charge_point_id,
            kind="problem", problem_id=problem.id, at=problem.reported_at))
    return Board(energy_kwh_today=energy / 1000, sessions_today=count, revenue_today=revenue,
                 stations_online=online_count, stations_total=len(stations), alerts=alerts,
                 stations=tiles, updated_at=now)


def _plug_tile(session: Session, connector: Connector, charging: ChargingSession | None,
               holders: dict[str, str], partner_of: dict[int, str], now: datetime
               ) -> PlugTile:
    status = plug_words(connector.status)[0]
    if charging is None:
        return PlugTile(connector.connector_id, status, connector.error_code, None, None)
    bill = bill_for(session, charging, now)
    return PlugTile(
        connector.connector_id, status, connector.error_code,
        power_kw=(charging.power_w or 0) / 1000, energy_kwh=charging.energy_wh / 1000,
        session_id=charging.id, driver=who(charging.id_tag, holders.get(charging.id_tag or ""),
                                              partner_of.get(charging.id)),
        started_at=charging.started_at or charging.requested_at or charging.created_at,
        cost_so_far=bill.total if bill else None, currency=bill.currency if bill else None)


def _when(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return N_("it was added (never connected)")
    return local_moment(moment, timezone, "%d %b %H:%M")


__all__ = ["Board", "live_board"]


def live_board(db: Database, viewer: Viewer) -> Board:
    """The board for ``viewer``'s sites at this moment. "Today" is midnight in the
    timezone of the viewer's first site (UTC without sites)."""
    with db.session() as session:
        return _live_board(session, viewer)
