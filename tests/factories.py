"""Model rows for tests, built in one place: owners, sites with stations and plugs,
tariffs, and charging sessions and station events as the reports read them. Each factory
commits its rows in its own transaction (unless it is handed a session) and returns plain
ids or small records, so a test never holds ORM rows across sessions."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.support.owner import PASSWORD
from voltspot.db import Database
from voltspot.domain.statuses import ConnectorStatus, PaymentState, SessionStatus
from voltspot.models import (
    ChargingSession,
    Connector,
    IdToken,
    Site,
    Station,
    StationEvent,
    StationEventKind,
    Tariff,
)
from voltspot.services.charging.lifecycle import new_session_token
from voltspot.services.owner.accounts import Viewer, create_owner
from voltspot.services.reports.totals import count_closed_session
from voltspot.services.stations.registry import register_station


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- owners ------------------------------------------------------------------------------

@dataclass
class OwnerAccount:
    id: int
    email: str


def make_owner(db: Database, admin: bool = False) -> OwnerAccount:
    """A new owner who signs in with ``tests.support.owner.PASSWORD``."""
    email = f"owner-{uuid.uuid4().hex[:8]}@example.org"
    with db.session() as session:
        owner = create_owner(session, email, PASSWORD, admin=admin)
        return OwnerAccount(owner.id, email)


# --- stations, sites and plugs -----------------------------------------------------------

_station_numbers = itertools.count(1)


@dataclass
class RegisteredStation:
    charge_point_id: str
    password: str


def make_station(db: Database, *, connectors: int = 2, site_name: str = "Test site",
                 charge_point_id: str | None = None) -> RegisteredStation:
    """A station registered as the operator registers one (unique id unless given), with
    ``connectors`` plugs, on the site named ``site_name``; returns its id and password."""
    charge_point_id = charge_point_id or f"CP-{next(_station_numbers)}-{uuid.uuid4().hex[:6]}"
    with db.session() as session:
        _, password = register_station(session, site_name=site_name,
                                       charge_point_id=charge_point_id, connectors=connectors)
    return RegisteredStation(charge_point_id, password)


@dataclass
class SiteInfo:
    id: int
    name: str
    charge_point_ids: list[str]
    connector_ids: list[int]
    evse_ids: list[str]


def make_site(db: Database, owner_id: int, stations: int = 1, plugs: int = 2,
              currency: str = "EUR", help_phone: str = "+31 20 123 4567") -> SiteInfo:
    """A site of ``owner_id`` with ``stations`` stations of ``plugs`` plugs each; stations
    and plugs in the order the owner page lists them (by charge point id, then number)."""
    name = f"Site {uuid.uuid4().hex[:8]}"
    with db.session() as session:
        cp_ids = []
        for _ in range(stations):
            cp_id = f"CP-{uuid.uuid4().hex[:10]}"
            station, _ = register_station(session, site_name=name, charge_point_id=cp_id,
                                          connectors=plugs)
            cp_ids.append(cp_id)
        site = station.site
        site.owner_id, site.currency, site.help_phone = owner_id, currency, help_phone
        session.flush()
        connectors = session.scalars(
            select(Connector).join(Connector.station).where(Station.site_id == site.id)
            .order_by(Station.charge_point_id, Connector.connector_id)).all()
        return SiteInfo(site.id, name, sorted(cp_ids), [c.id for c in connectors],
                        [c.evse_id for c in connectors])


@dataclass
class Place:
    """An owner with one site and its stations (charge point id -> station id)."""

    viewer: Viewer
    site_id: int
    stations: dict[str, int]


def make_place(db: Database, *, stations: int = 1, connectors: int = 2,
               timezone: str = "Europe/Amsterdam", owner_id: int | None = None) -> Place:
    """A new owner (unless ``owner_id``) with a site holding ``stations`` stations."""
    tag = uuid.uuid4().hex[:8]
    with db.session() as session:
        if owner_id is None:
            owner_id = create_owner(session, f"rep-{tag}@example.org", None).id
        site = Site(name=f"Site {tag}", owner_id=owner_id, timezone=timezone)
        session.add(site)
        session.flush()
        made = {}
        for n in range(1, stations + 1):
            station = Station(charge_point_id=f"R{n}-{tag}", site_id=site.id)
            station.connectors = [Connector(connector_id=c) for c in range(1, connectors + 1)]
            session.add(station)
            session.flush()
            made[station.charge_point_id] = station.id
        return Place(Viewer(owner_id, False), site.id, made)


# --- cards ------------------------------------------------------------------------------

def make_card(db: Database, id_tag: str | None = None, *, billing: str = "invoice",
              **fields: object) -> str:
    """A registered RFID card (billed by invoice unless ``billing`` says "free"; other
    ``fields`` are IdToken columns: blocked, expires_at, parent_id_tag, owner_id ...);
    returns its idTag, unique unless given, in capitals as the owner page stores it."""
    id_tag = (id_tag or f"C{uuid.uuid4().hex[:12]}").upper()
    with db.session() as session:
        session.add(IdToken(id_tag=id_tag, billing=billing, **fields))
    return id_tag


# --- tariffs -----------------------------------------------------------------------------

def make_tariff(db: Database, owner_id: int | None, **values: object) -> int:
    """A tariff of ``owner_id``: €0.39/kWh, €0.35 per session, €50 hold, 21 % VAT unless
    ``values`` (column names) say otherwise; returns its id."""
    columns = dict(name=f"Tariff {uuid.uuid4().hex[:6]}", currency="EUR",
                   energy_price_per_kwh=3900, session_fee=35, hold_amount=5000,
                   vat_rate_basis_points=2100, windows=[], owner_id=owner_id)
    columns.update(values)
    with db.session() as session:
        tariff = Tariff(**columns)
        session.add(tariff)
        session.flush()
        return tariff.id


def price_plugs(db: Database, charge_point_id: str, tariff_id: int) -> list[str]:
    """Give every plug of the station the tariff; returns the plugs' EVSE ids as URLs carry
    them (``NL-VSP-E12-1``)."""
    with db.session() as session:
        stored = session.scalar(select(Station).where(
            Station.charge_point_id == charge_point_id))
        for connector in stored.connectors:
            connector.tariff_id = tariff_id
        return [c.evse_id.replace("*", "-") for c in stored.connectors]


def priced_plugs(db: Database, charge_point_id: str) -> list[str]:
    """Give every plug of the station a new tariff (€0.39/kWh, €0.35 per session, €50 hold,
    21 % VAT); returns the plugs' EVSE ids as :func:`price_plugs` does."""
    return price_plugs(db, charge_point_id, make_tariff(db, None, name=f"T-{charge_point_id}"))


# --- sessions and station events ---------------------------------------------------------

def add_session(session, station_id: int, started_at: datetime | None, *,
                minutes: float = 60, connector_id: int = 1, energy_wh: int = 10_000,
                cost: int | None = None, currency: str | None = None,
                charging_minutes: float | None = None, id_tag: str | None = None,
                payment_state: PaymentState = PaymentState.NONE,
                status: SessionStatus = SessionStatus.COMPLETED,
                stop_reason: str | None = "EVDisconnected",
                created_at: datetime | None = None) -> ChargingSession:
    """A session on ``station_id``, in the caller's ``session``; ``minutes`` from start to
    stop (``None`` = still open). A closed one is counted in the report totals, as closing
    it through the services does."""
    stopped = None if minutes is None or started_at is None else started_at + timedelta(
        minutes=minutes)
    charging = ChargingSession(
        token=new_session_token(), station_id=station_id, connector_id=connector_id,
        status=status, started_at=started_at, stopped_at=stopped, energy_wh=energy_wh,
        cost=cost, currency=currency, id_tag=id_tag, payment_state=payment_state,
        stop_reason=stop_reason if stopped else None,
        created_at=created_at or started_at or datetime.now(UTC),
        charging_ended_at=None if charging_minutes is None
        else started_at + timedelta(minutes=charging_minutes))
    session.add(charging)
    session.flush()
    if stopped is not None:
        count_closed_session(session, charging)
    return charging


def add_event(session, station_id: int, at: datetime, kind: StationEventKind,
              connector_id: int | None = None, status: ConnectorStatus | None = None) -> None:
    """A station event (connection or status) in the caller's ``session``."""
    session.add(StationEvent(station_id=station_id, at=at, kind=kind,
                             connector_id=connector_id, status=status))
