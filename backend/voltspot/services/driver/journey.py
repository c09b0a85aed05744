"""The driver's journey: find a plug, see its price, start with a card hold, follow the
session, stop it, get the receipt. Drivers have no account: a session is reached through
its unguessable token."""

from __future__ import annotations

import contextlib
import logging
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from voltspot.db import Database
from voltspot.domain.availability import Availability, plug_availability, station_online
from voltspot.domain.evse_ids import EvseIdError, normalise_evse_id, url_safe
from voltspot.domain.meter import SOC
from voltspot.domain.money import format_money
from voltspot.domain.pricing import Bill, TariffTerms, price_summary
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import ChargingSession, Connector, MeterSample, Site, Station, Tariff, utcnow
from voltspot.services.charger_control import ChargerControl, ChargerError, ChargerUnreachable
from voltspot.services.charging import lifecycle
from voltspot.services.charging.billing import bill_for, terms_of
from voltspot.services.charging.commands import ask_to_start
from voltspot.services.charging.lifecycle import fail_session
from voltspot.services.errors import Conflict, NotFound, ServiceError
from voltspot.services.payments.gateways.base import (
    HoldState,
    PaymentDeclined,
    PaymentGateway,
    PaymentUnavailable,
)

log = logging.getLogger(__name__)


class PlugUnavailable(ServiceError):
    """The plug cannot start a session now; the message says why and what to do."""


@dataclass(frozen=True)
class PlugView:
    connector_pk: int
    evse_id: str
    url_id: str
    number: int
    connector_type: str
    max_power_kw: float
    availability: Availability
    heard_at: datetime | None
    terms: TariffTerms | None = None

    @property
    def label(self) -> str:
        return f"Plug {self.number} · {self.connector_type} · {self.max_power_kw:g} kW"

    @property
    def price_lines(self) -> list[str]:
        return price_summary(self.terms) if self.terms else []


@dataclass(frozen=True)
class SiteView:
    id: int
    name: str
    address: str
    city: str
    latitude: float | None
    longitude: float | None
    help_phone: str
    opening_hours: str
    plugs: list[PlugView]
    terms: TariffTerms | None
    distance_km: float | None = None
    price_lines: list[str] = field(default_factory=list)

    @property
    def free(self) -> int:
        return sum(p.availability == Availability.FREE for p in self.plugs)

    @property
    def summary(self) -> tuple[str, str]:
        """The availability pill: (words, tone)."""
        if self.free:
            return f"{self.free} of {len(self.plugs)} free", "free"
        states = {p.availability for p in self.plugs}
        if states == {Availability.OFFLINE}:
            return "Offline", "offline"
        if states <= {Availability.OUT_OF_ORDER, Availability.OFFLINE}:
            return "Out of order", "out-of-order"
        return "In use", "in-use"

    @property
    def max_power_kw(self) -> float:
        return max((p.max_power_kw for p in self.plugs), default=0)

    @property
    def connector_types(self) -> list[str]:
        return sorted({p.connector_type for p in self.plugs})


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    radius = 6371.0
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlam = math.radians(lat2 - lat1), math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlam / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))


def _claimed(session: Session, connector_pks: list[int]) -> set[int]:
    if not connector_pks:
        return set()
    return set(session.scalars(select(ChargingSession.claimed_connector_pk).where(
        ChargingSession.claimed_connector_pk.in_(connector_pks))))


def _site_view(site: Site, stations: list[Station], tariffs: dict[int, Tariff],
               claimed: set[int], now: datetime, distance: float | None = None) -> SiteView:
    plugs = []
    for station in stations:
        online = station_online(station.connected, station.last_seen_at,
                                station.heartbeat_interval, now)
        for connector in station.connectors:
            if connector.evse_id is None:
                continue
            plugs.append(PlugView(
                connector_pk=connector.id, evse_id=connector.evse_id,
                url_id=url_safe(connector.evse_id), number=connector.connector_id,
                connector_type=str(connector.connector_type),
                max_power_kw=connector.max_power_w / 1000,
                availability=plug_availability(online, connector.status,
                                               connector.id in claimed),
                heard_at=station.last_seen_at,
                terms=terms_of(tariffs[connector.tariff_id], site)
                if connector.tariff_id in tariffs else None))
    # The site's headline price: its first priced plug's (each plug page shows its own).
    terms = next((plug.terms for plug in plugs if plug.terms), None)
    return SiteView(id=site.id, name=site.name, address=site.address, city=site.city,
                    latitude=site.latitude, longitude=site.longitude,
                    help_phone=site.help_phone, opening_hours=site.opening_hours,
                    plugs=plugs, terms=terms, distance_km=distance,
                    price_lines=price_summary(terms) if terms else [])


def _load_sites(session: Session, site_ids: list[int], now: datetime,
                distances: dict[int, float] | None = None) -> list[SiteView]:
    sites = {s.id: s for s in session.scalars(select(Site).where(Site.id.in_(site_ids)))}
    stations = session.scalars(
        select(Station).where(Station.site_id.in_(site_ids))
        .options(selectinload(Station.connectors))).all()
    by_site: dict[int, list[Station]] = {}
    for station in stations:
        by_site.setdefault(station.site_id, []).append(station)
    connector_pks = [c.id for s in stations for c in s.connectors]
    tariff_ids = {c.tariff_id for s in stations for c in s.connectors if c.tariff_id}
    tariffs = {t.id: t for t in session.scalars(select(Tariff).where(Tariff.id.in_(tariff_ids)))}
    claimed = _claimed(session, connector_pks)
    distances = distances or {}
    return [_site_view(sites[i], by_site.get(i, []), tariffs, claimed, now, distances.get(i))
            for i in site_ids if i in sites]


@dataclass(frozen=True)
class SpotFilters:
    free_only: bool = False
    connector_type: str | None = None
    min_power_kw: float | None = None

    def accepts(self, site: SiteView) -> bool:
        plugs = site.plugs
        if self.connector_type:
            plugs = [p for p in plugs if p.connector_type == self.connector_type]
        if self.min_power_kw:
            plugs = [p for p in plugs if p.max_power_kw >= self.min_power_kw]
        if self.free_only:
            plugs = [p for p in plugs if p.availability == Availability.FREE]
        return bool(plugs)


def find_spots(db: Database, *, near: tuple[float, float] | None = None, query: str = "",
               filters: SpotFilters = SpotFilters(), limit: int = 30) -> list[SiteView]:
    """Sites for a driver: nearest first when ``near`` (lat, lon) is known, else matching
    ``query`` on name, city or address; then ``filters``. At most ``limit`` sites."""
    with db.session() as session:
        return _find_spots(session, near, query, filters, limit)


def _find_spots(session: Session, near: tuple[float, float] | None, query: str,
                filters: SpotFilters, limit: int) -> list[SiteView]:
    now = utcnow()
    # Filters drop sites after they are loaded, so load spares only when filtering.
    candidates = limit * 3 if filters != SpotFilters() else limit
    statement = select(Site.id, Site.latitude, Site.longitude)
    if query.strip():
        pattern = f"%{query.strip()}%"
        statement = statement.where(or_(Site.name.ilike(pattern), Site.city.ilike(pattern),
                                        Site.address.ilike(pattern)))
    if near is None:
        ids = [row.id for row in session.execute(statement.order_by(Site.name)
                                                 .limit(candidates))]
        views = _load_sites(session, ids, now)
    else:
        lat, lon = near
        rows: list = []
        # Widen a bounding box until enough sites are inside: an index range scan instead
        # of measuring the distance to every site.
        for degrees in (0.1, 0.5, 2.0, 10.0, 180.0):
            boxed = statement.where(Site.latitude.between(lat - degrees, lat + degrees),
                                    Site.longitude.between(lon - degrees * 2, lon + degrees * 2))
            rows = session.execute(boxed.limit(limit * 20)).all()
            if len(rows) >= candidates:
                break
        distances = {i: _distance_km(lat, lon, la, lo) for i, la, lo in rows}
        nearest = sorted(distances, key=distances.get)[:candidates]
        views = sorted(_load_sites(session, nearest, now, distances),
                       key=lambda v: v.distance_km)
    return [v for v in views if filters.accepts(v)][:limit]


def site_view(db: Database, site_id: int) -> SiteView:
    """The site page: every plug with its state and price; raises :class:`NotFound`."""
    with db.session() as session:
        return _site(session, site_id)


def _site(session: Session, site_id: int) -> SiteView:
    views = _load_sites(session, [site_id], utcnow())
    if not views:
        raise NotFound("We could not find that charging site.")
    return views[0]


@dataclass(frozen=True)
class PlugPage:
    site: SiteView
    plug: PlugView

    @property
    def hold_text(self) -> str | None:
        return hold_sentence(self.plug.terms) if self.plug.terms else None


def hold_sentence(terms: TariffTerms) -> str:
    """The one sentence that explains the card hold before a driver starts."""
    return (f"We hold {format_money(terms.hold_amount, terms.currency)} on your card and "
            "take only what you use; the rest is released when you stop.")


def _connector_by_evse(session: Session, evse_text: str) -> Connector:
    try:
        evse_id = normalise_evse_id(evse_text)
    except EvseIdError:
        raise NotFound(f"“{evse_text}” is not a charger code. It looks like NL*VSP*E12*1 "
                       "and is printed under the QR code.") from None
    connector = session.scalar(select(Connector).where(Connector.evse_id == evse_id))
    if connector is None:
        raise NotFound(f"We do not know the charger {evse_id}. Check the code under the "
                       "QR code and try again.")
    return connector


def plug_page(db: Database, evse_text: str) -> PlugPage:
    """What the sticker's QR code opens: the plug, its state and its full price; raises
    :class:`NotFound` for a code that is not an EVSE id or names no plug we know."""
    with db.session() as session:
        return _plug_page(session, evse_text)


def _plug_page(session: Session, evse_text: str) -> PlugPage:
    connector = _connector_by_evse(session, evse_text)
    site = _site(session, connector.station.site_id)
    plug = next(p for p in site.plugs if p.connector_pk == connector.id)
    return PlugPage(site, plug)


def new_id_tag() -> str:
    """The idTag a driver's session uses at the charger (OCPP 1.6: at most 20 characters)."""
    return "VS" + secrets.token_hex(9).upper()


def start_session(db: Database, gateway: PaymentGateway, control: ChargerControl,
                  evse_text: str, start_key: str) -> str:
    """Start charging at a plug for a driver; returns the session token.

    ``start_key`` comes with the page the driver tapped on: the same key again (a double
    tap, a retried request) returns the same session. Raises :class:`PlugUnavailable`
    before any hold when the plug is offline, out of order or taken (a second phone), and
    :class:`PaymentDeclined` when the hold fails. A charger that rejects or does not answer
    the start leaves the session failed with the hold released; the page says so.
    """
    if not 8 <= len(start_key) <= 64:
        raise PlugUnavailable("This page is out of date. Reload it and tap Start again.")
    with db.session() as session:
        existing = session.scalar(select(ChargingSession.token).where(
            ChargingSession.start_key == start_key))
        if existing:
            return existing
        page = _plug_page(session, evse_text)
        _check_startable(page)
        connector = session.get(Connector, page.plug.connector_pk)
        terms = page.plug.terms
        charging = lifecycle.new_session(
            session, station_id=connector.station_id,
            connector_pk=connector.id, connector_id=connector.connector_id,
            id_tag=new_id_tag(), status=SessionStatus.CREATED, origin="driver",
            tariff_id=connector.tariff_id, price=terms.to_dict(), currency=terms.currency,
            hold_amount=terms.hold_amount, start_key=start_key,
            claimed_connector_pk=connector.id, payment_state=PaymentState.AUTHORISING)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            return _taken_or_same(db, start_key)
        token, session_id = charging.token, charging.id
        description = f"Charging at {page.site.name}, {page.plug.evse_id}"
        metadata = {"session_token": token, "evse_id": page.plug.evse_id}
    try:
        hold = gateway.hold(terms.hold_amount, terms.currency, description,
                            idempotency_key=f"hold-{token}", metadata=metadata)
    except (PaymentDeclined, PaymentUnavailable) as refused:
        with db.session() as session:
            lifecycle.hold_refused(session.get(ChargingSession, session_id), str(refused))
        raise
    with db.session() as session:
        lifecycle.hold_placed(session.get(ChargingSession, session_id), hold.reference,
                              hold.confirmed)
    if hold.confirmed:
        ask_charger(db, control, session_id)
    return token


@dataclass(frozen=True)
class PaymentForm:
    """What the payment page needs for the driver to confirm the card hold."""

    publishable_key: str
    client_secret: str
    amount: int
    currency: str


def payment_form(db: Database, gateway: PaymentGateway, token: str) -> PaymentForm | None:
    """The form for a session waiting for the driver to confirm its hold, else None."""
    with db.session() as session:
        charging = session.scalar(select(ChargingSession).where(ChargingSession.token == token))
        if (charging is None or charging.payment_state != PaymentState.AUTHORISING
                or not charging.payment_reference or gateway.publishable_key is None):
            return None
        reference, amount, currency = (charging.payment_reference, charging.hold_amount,
                                       charging.currency)
    secret = gateway.client_secret(reference)
    if secret is None:
        return None
    return PaymentForm(gateway.publishable_key, secret, amount, currency)


def confirm_hold(db: Database, gateway: PaymentGateway, control: ChargerControl | None,
                 token: str) -> None:
    """The driver says they confirmed the hold on the payment page, or the provider's
    webhook says so: ask the provider for the truth and, once the money is held, start
    the charger. Safe to call any number of times, in any order: only the first call that
    sees the hold starts the charger. ``control`` None: this process holds no charger
    connections (the command line), so it only records the hold and leaves the start to
    the server (see :func:`voltspot.services.payments.reconcile.start_confirmed`)."""
    with db.session() as session:
        charging = session.scalar(select(ChargingSession).where(ChargingSession.token == token))
        if charging is None:
            raise NotFound("This session link is not valid.")
        if charging.payment_state != PaymentState.AUTHORISING or not charging.payment_reference:
            return
        reference, session_id = charging.payment_reference, charging.id
    state = gateway.hold_state(reference)
    if state == HoldState.PENDING:
        return
    held = state == HoldState.HELD
    with db.session() as session:
        won = lifecycle.record_hold_outcome(session, session_id, held)
    if won and held and control is not None:
        ask_charger(db, control, session_id)


def ask_charger(db: Database, control: ChargerControl, session_id: int) -> None:
    """Move an authorised session to starting and send the remote start (once)."""
    with db.session() as session:
        started = lifecycle.claim_start(session, session_id)
        token = session.get(ChargingSession, session_id).token
    if not started:
        return
    with contextlib.suppress(ChargerUnreachable, ChargerError):
        # A refusal or silence has failed the session; its page tells the driver.
        ask_to_start(db, control, token)


def _check_startable(page: PlugPage) -> None:
    help_line = f" or call {page.site.help_phone}" if page.site.help_phone else ""
    others = [p for p in page.site.plugs
              if p.availability == Availability.FREE and p.connector_pk != page.plug.connector_pk]
    try_other = f"Try plug {others[0].number}{help_line}." if others else (
        f"Please try again later{help_line}.")
    if page.plug.terms is None:
        raise PlugUnavailable("This plug has no price set yet, so it cannot be started from "
                              f"a phone. {try_other}")
    availability = page.plug.availability
    if availability == Availability.OFFLINE:
        raise PlugUnavailable("This charger is offline, so we did not hold anything on your "
                              f"card. {try_other}")
    if availability == Availability.OUT_OF_ORDER:
        raise PlugUnavailable("This plug is out of order, so we did not hold anything on "
                              f"your card. {try_other}")
    if availability == Availability.IN_USE:
        raise PlugUnavailable("Someone else is using this plug right now, so we did not hold "
                              f"anything on your card. {try_other}")


def _taken_or_same(db: Database, start_key: str) -> str:
    with db.session() as session:
        existing = session.scalar(select(ChargingSession.token).where(
            ChargingSession.start_key == start_key))
    if existing:
        return existing
    raise PlugUnavailable("Someone else has just started this plug, so we did not hold "
                          "anything on your card. Please pick another plug.")


@dataclass(frozen=True)
class LiveSession:
    """Everything the live page and the receipt show."""

    token: str
    status: SessionStatus
    site: SiteView
    plug: PlugView
    online: bool
    energy_wh: int
    power_w: float | None
    soc_percent: float | None
    minutes_to_80: int | None
    started_at: datetime | None
    stopped_at: datetime | None
    requested_at: datetime | None
    plug_in_deadline: datetime | None
    bill: Bill | None
    currency: str | None
    hold_amount: int | None
    amount_captured: int | None
    amount_refunded: int
    refund_reason: str | None
    payment_state: PaymentState
    failure_reason: str | None
    stop_reason: str | None
    notice: str | None
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def elapsed(self) -> timedelta | None:
        if self.started_at is None:
            return None
        return (self.stopped_at or self.updated_at) - self.started_at


def _soc_eta(session: Session, charging: ChargingSession) -> int | None:
    """Minutes until 80 % at the rate the battery has been filling in the last readings."""
    if charging.soc_percent is None or charging.soc_percent >= 80:
        return None
    readings = session.execute(
        select(MeterSample.taken_at, MeterSample.value).where(
            MeterSample.session_id == charging.id, MeterSample.measurand == SOC)
        .order_by(MeterSample.taken_at.desc()).limit(6)).all()
    if len(readings) < 2:
        return None
    (newest_at, newest), (oldest_at, oldest) = readings[0], readings[-1]
    minutes = (newest_at - oldest_at).total_seconds() / 60
    if minutes <= 0 or newest <= oldest:
        return None
    return max(1, round((80 - newest) / ((newest - oldest) / minutes)))


def live_session(db: Database, token: str, remote_start_timeout: int) -> LiveSession:
    """The session behind ``token`` as the driver sees it now; raises :class:`NotFound`."""
    now = utcnow()
    with db.session() as session:
        charging = session.scalar(select(ChargingSession).where(ChargingSession.token == token))
        if charging is None or charging.connector_pk is None:
            raise NotFound("This session link is not valid. Check that you opened the whole "
                           "link.")
        connector = session.get(Connector, charging.connector_pk)
        site = _site(session, connector.station.site_id)
        plug = next(p for p in site.plugs if p.connector_pk == connector.id)
        station = connector.station
        online = station_online(station.connected, station.last_seen_at,
                                station.heartbeat_interval, now)
        bill = bill_for(session, charging, now)
        deadline = (charging.requested_at + timedelta(seconds=remote_start_timeout)
                    if charging.requested_at and charging.transaction_id is None else None)
        return LiveSession(
            token=token, status=SessionStatus(charging.status), site=site, plug=plug,
            online=online, energy_wh=charging.energy_wh,
            power_w=charging.power_w if charging.status.is_open else None,
            soc_percent=charging.soc_percent, minutes_to_80=_soc_eta(session, charging),
            started_at=charging.started_at, stopped_at=charging.stopped_at,
            requested_at=charging.requested_at, plug_in_deadline=deadline, bill=bill,
            currency=charging.currency, hold_amount=charging.hold_amount,
            amount_captured=charging.amount_captured,
            amount_refunded=charging.amount_refunded or 0, refund_reason=charging.refund_reason,
            payment_state=PaymentState(charging.payment_state),
            failure_reason=charging.failure_reason, stop_reason=charging.stop_reason,
            notice=charging.notice, updated_at=now)


@dataclass(frozen=True)
class SessionPage:
    """The session page: the live session and, while the driver still has to confirm the
    card hold, the payment form."""

    live: LiveSession
    payment: PaymentForm | None


def session_page(db: Database, gateway: PaymentGateway, token: str,
                 remote_start_timeout: int) -> SessionPage:
    """What the session page behind ``token`` shows now; raises :class:`NotFound`."""
    return SessionPage(live_session(db, token, remote_start_timeout),
                       payment_form(db, gateway, token))


def stop_session(db: Database, control: ChargerControl, token: str) -> None:
    """The driver's Stop: a running session is stopped at the charger; one still waiting
    for the car is cancelled and its hold released. Raises :class:`Conflict` when the
    charger cannot be reached (the session keeps running; the driver may unplug)."""
    with db.session() as session:
        charging = session.scalar(select(ChargingSession).where(ChargingSession.token == token))
        if charging is None:
            raise NotFound("This session link is not valid.")
        if not charging.status.is_open:
            return
        if charging.transaction_id is None:
            fail_session(charging, "You cancelled before charging started")
            return
        charge_point_id = charging.station.charge_point_id
        charger_transaction_id = charging.charger_transaction_id
    try:
        accepted = control.stop_charging(charge_point_id, charger_transaction_id).accepted
    except (ChargerUnreachable, ChargerError):
        raise Conflict("We could not reach the charger to stop it. Unplug your car to end "
                       "the session; you pay only for the energy delivered.") from None
    if not accepted:
        raise Conflict("The charger refused to stop. Unplug your car to end the session; you "
                       "pay only for the energy delivered.")
