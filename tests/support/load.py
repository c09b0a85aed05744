"""Load-management fixtures: a site with a limit and stations marked connected, charging
sessions on its plugs, the stored allocation per plug, and a ChargerControl with no socket
behind it (every command finds its station offline)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, Connector, PlugLoad, Site, SiteLoadSettings, Station
from voltspot.ocpp.control import OcppChargerControl
from voltspot.ocpp.registry import ConnectionRegistry
from voltspot.services.charging.lifecycle import new_session_token

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def make_load_site(db, *, amps: float, stations: int = 2, plugs: int = 2, connected: bool = True
          ) -> tuple[int, list[int]]:
    """A site with a limit and ``stations`` stations marked connected (no socket behind
    them: every command finds the station offline). Returns the site and connector ids."""
    tag = uuid.uuid4().hex[:8]
    with db.session() as session:
        site = Site(name=f"Load {tag}")
        session.add(site)
        session.flush()
        session.add(SiteLoadSettings(site_id=site.id, limit_amps=amps, phases=3, margin_amps=0,
                                     min_amps=6, hold_seconds=30, enabled=True))
        connectors = []
        for n in range(stations):
            station = Station(charge_point_id=f"AL{n}-{tag}", site_id=site.id,
                              connected=connected, connected_at=T0 - timedelta(hours=1))
            station.connectors = [Connector(connector_id=c, evse_id=f"NL*VSP*E{tag}{n}{c}".upper())
                                  for c in range(1, plugs + 1)]
            session.add(station)
            session.flush()
            connectors += [c.id for c in station.connectors]
        return site.id, connectors


def start_charging(db, connector_pk: int, minutes_ago: int, power_w: float | None = None) -> int:
    with db.session() as session:
        connector = session.get(Connector, connector_pk)
        started = T0 - timedelta(minutes=minutes_ago)
        charging = ChargingSession(
            token=new_session_token(), station_id=connector.station_id,
            connector_pk=connector.id, connector_id=connector.connector_id,
            status=SessionStatus.CHARGING, started_at=started, created_at=started,
            charger_transaction_id=str(1000 + connector_pk), power_w=power_w)
        session.add(charging)
        session.flush()
        return charging.id


def plug_loads(db, connectors: list[int]) -> dict[int, PlugLoad]:
    with db.session() as session:
        return {row.connector_pk: row for row in session.scalars(
            select(PlugLoad).where(PlugLoad.connector_pk.in_(connectors)))}


def offline_control() -> OcppChargerControl:
    return OcppChargerControl(ConnectionRegistry(), timeout=1)
