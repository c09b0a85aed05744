"""The owner's charging sessions: the filtered table, its CSV export, one session's page
(meter readings, price lines, payment, and the station's OCPP log around it), and a
refund.

Each public function taking the :class:`Database` is one unit of work with its own
transaction and returns read models, never rows."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain import money
from voltspot.domain.meter import ENERGY_REGISTER, POWER, SOC
from voltspot.domain.money import AmountError, major_units
from voltspot.domain.spreadsheet import safe_cell
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import (
    ChargingSession,
    IdToken,
    MeterSample,
    OcpiCdr,
    OcpiPartner,
    OcpiSession,
    OcppFrame,
    Site,
    Station,
    utcnow,
)
from voltspot.services.charging.billing import bill_as_json, bill_for
from voltspot.services.errors import InvalidInput
from voltspot.services.messages import N_, Message
from voltspot.services.owner.accounts import Viewer, owned_session, scope_sites
from voltspot.services.owner.session_frames import plug_frames
from voltspot.services.payments import holds as payments
from voltspot.services.payments.gateways.base import PaymentGateway
from voltspot.services.reports.csv_format import BOM, CsvFormat
from voltspot.services.reports.picker import SiteChoice, reporting_timezone, site_choices
from voltspot.services.reports.sql import at

PLAIN = CsvFormat()

PAGE_SIZE = 50
# A session's OCPP log is its plug's frames from FRAMES_BEFORE before the session was
# asked for (a frame is logged as it arrives, a moment before the session is recorded) to
# FRAMES_AFTER after it ended (the charger's stop time may precede its message).
FRAMES_BEFORE = timedelta(seconds=5)
FRAMES_AFTER = timedelta(minutes=2)
MAX_FRAMES = 500
LIVE_AFTER_END = timedelta(seconds=30)
# The most of the station's frames read to find the plug's among them.
FRAME_WINDOW = 5000
# Payment states in the owner's words.
PAYMENT_WORDS = {
    PaymentState.NONE: N_("No payment"), PaymentState.AUTHORISING: N_("Authorising"),
    PaymentState.HELD: N_("Held"), PaymentState.TO_SETTLE: N_("Settling"),
    PaymentState.CAPTURED: N_("Paid"), PaymentState.TO_RELEASE: N_("Releasing"),
    PaymentState.RELEASED: N_("Released"), PaymentState.FAILED: N_("Failed"),
}


# --- Filters -------------------------------------------------------------------------

@dataclass(frozen=True)
class SessionFilters:
    """What the table shows: sessions created on local days ``first_day``..``last_day``
    (in the reporting time zone), on one site, one station (charge point id), for one
    RFID card (id tag), in one payment state, of one roaming partner's drivers.
    ``None`` means any."""

    first_day: date | None = None
    last_day: date | None = None
    site_id: int | None = None
    station: str | None = None
    id_tag: str | None = None
    payment_state: PaymentState | None = None
    partner_id: int | None = None

    def as_args(self) -> dict[str, str]:
        """The filters as query arguments (for links that keep them)."""
        values = {"from": self.first_day, "to": self.last_day, "site": self.site_id,
                  "station": self.station, "card": self.id_tag,
                  "payment": self.payment_state, "partner": self.partner_id}
        return {name: str(value) for name, value in values.items() if value is not None}


def parse_filters(args: Mapping[str, str]) -> tuple[SessionFilters, list[str]]:
    """Filters from query arguments, and a message for each value that could not be read
    (that filter is then left out, so the person sees more rather than nothing)."""
    problems: list[str] = []

    def text(name: str, longest: int) -> str | None:
        value = (args.get(name) or "").strip()
        return value[:longest] or None

    def day(name: str, not_a_date: str) -> date | None:
        value = text(name, 10)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            problems.append(Message(not_a_date, {"value": value}))
            return None

    site = text("site", 12)
    if site is not None and not site.isdigit():
        problems.append(N_("“%(value)s” is not a site, so all sites are shown.", value=site))
        site = None
    partner = text("partner", 12)
    if partner is not None and not partner.isdigit():
        problems.append(N_("“%(value)s” is not a roaming partner, so everyone's sessions are "
                           "shown.", value=partner))
        partner = None
    payment = text("payment", 16)
    if payment is not None and payment not in set(PaymentState):
        problems.append(N_("“%(value)s” is not a payment state, so all are shown.",
                           value=payment))
        payment = None
    filters = SessionFilters(
        first_day=day("from", N_("“%(value)s” is not a date (YYYY-MM-DD), so the first day "
                                 "is not set.")),
        last_day=day("to", N_("“%(value)s” is not a date (YYYY-MM-DD), so the last day is not "
                              "set.")),
        site_id=int(site) if site else None, station=text("station", 48),
        id_tag=text("card", 20), payment_state=PaymentState(payment) if payment else None,
        partner_id=int(partner) if partner else None)
    return filters, problems


@dataclass(frozen=True)
class FilterChoices:
    """The values the filter form offers."""

    sites: list[SiteChoice]
    stations: list[str]
    cards: list[tuple[str, str]]
    payment_states: list[str] = field(default_factory=lambda: [str(s) for s in PaymentState])
    # (id, name) of the roaming partners whose drivers charged at the viewer's sites.
    partners: list[tuple[int, str]] = field(default_factory=list)


def _filter_choices(session: Session, viewer: Viewer) -> FilterChoices:
    stations = session.scalars(scope_sites(viewer, select(Station.charge_point_id).join(
        Site, Station.site_id == Site.id)).order_by(Station.charge_point_id)).all()
    cards = select(IdToken.id_tag, IdToken.holder_name).order_by(IdToken.id_tag)
    if not viewer.is_admin:
        cards = cards.where(IdToken.owner_id == viewer.owner_id)
    partners = scope_sites(viewer, select(OcpiPartner.id, OcpiPartner.name).distinct()
                           .join(OcpiSession, OcpiSession.partner_id == OcpiPartner.id)
                           .join(ChargingSession, ChargingSession.id == OcpiSession.session_id)
                           .join(Station, ChargingSession.station_id == Station.id)
                           .join(Site, Station.site_id == Site.id)).order_by(OcpiPartner.name)
    return FilterChoices(site_choices(session, viewer), list(stations),
                         [tuple(row) for row in session.execute(cards).all()],
                         partners=[tuple(row) for row in session.execute(partners).all()])


def _filtered(viewer: Viewer, filters: SessionFilters, timezone: str, *columns: Any) -> Select:
    statement = scope_sites(viewer, select(*columns)
                            .join(Station, ChargingSession.station_id == Station.id)
                            .outerjoin(Site, Station.site_id == Site.id)
                            .outerjoin(IdToken, IdToken.id_tag == ChargingSession.id_tag)
                            # A roaming session's partner (who pays for it).
                            .outerjoin(OcpiSession, OcpiSession.session_id == ChargingSession.id)
                            .outerjoin(OcpiPartner, OcpiPartner.id == OcpiSession.partner_id))
    zone = ZoneInfo(timezone)
    if filters.first_day is not None:
        since = datetime.combine(filters.first_day, datetime.min.time(), tzinfo=zone)
        statement = statement.where(ChargingSession.created_at >= at(since))
    if filters.last_day is not None:
        until = datetime.combine(filters.last_day + timedelta(days=1), datetime.min.time(),
                                 tzinfo=zone)
        statement = statement.where(ChargingSession.created_at < at(until))
    if filters.site_id is not None:
        statement = statement.where(Station.site_id == filters.site_id)
    if filters.station is not None:
        statement = statement.where(Station.charge_point_id == filters.station)
    if filters.id_tag is not None:
        statement = statement.where(ChargingSession.id_tag == filters.id_tag)
    if filters.payment_state is not None:
        statement = statement.where(ChargingSession.payment_state == filters.payment_state)
    if filters.partner_id is not None:
        statement = statement.where(OcpiSession.partner_id == filters.partner_id)
    return statement


# --- The table -----------------------------------------------------------------------

@dataclass(frozen=True)
class SessionRow:
    id: int
    site_name: str
    timezone: str
    charge_point_id: str
    connector_id: int | None
    id_tag: str | None
    status: SessionStatus
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    energy_wh: int
    cost: int | None
    currency: str | None
    payment_state: PaymentState
    stop_reason: str | None
    failure_reason: str | None
    holder_name: str | None
    # The roaming partner whose driver charged (the eMSP pays); None: not roaming.
    roaming_partner: str | None

    @property
    def duration(self) -> timedelta | None:
        """From start to stop (to now while it runs); None before it started."""
        if self.started_at is None:
            return None
        return (self.stopped_at or utcnow()) - self.started_at


_ROW_COLUMNS = (
    ChargingSession.id, Site.name, Site.timezone, Station.charge_point_id,
    ChargingSession.connector_id, ChargingSession.id_tag, ChargingSession.status,
    ChargingSession.created_at, ChargingSession.started_at, ChargingSession.stopped_at,
    ChargingSession.energy_wh, ChargingSession.cost, ChargingSession.currency,
    ChargingSession.payment_state, ChargingSession.stop_reason, ChargingSession.failure_reason,
    IdToken.holder_name, OcpiPartner.name,
)


def _row(values: Any) -> SessionRow:
    fields = list(values)
    fields[1], fields[2] = fields[1] or "", fields[2] or "UTC"
    return SessionRow(*fields)


@dataclass(frozen=True)
class SessionPage:
    """One page of the table, newest first. ``older_than`` / ``newer_than`` are the
    session ids to page on with (None when there is nothing that way)."""

    rows: list[SessionRow]
    filters: SessionFilters
    timezone: str
    older_than: int | None
    newer_than: int | None


@dataclass(frozen=True)
class SessionsView:
    """The sessions page: one page of the table and the filter form's choices."""

    page: SessionPage
    choices: FilterChoices


def sessions_view(db: Database, viewer: Viewer, filters: SessionFilters, *,
                  before: int | None = None, after: int | None = None) -> SessionsView:
    """The sessions page for ``filters`` (one page, see :func:`_session_page`) with the
    filter form's choices."""
    with db.session() as session:
        return SessionsView(_session_page(session, viewer, filters, before=before, after=after),
                            _filter_choices(session, viewer))


def _session_page(session: Session, viewer: Viewer, filters: SessionFilters, *,
                  before: int | None = None, after: int | None = None,
                  page_size: int = PAGE_SIZE) -> SessionPage:
    """The viewer's sessions matching ``filters``, newest first (by creation, then id),
    ``page_size`` at a time: the newest, those older than session ``before``, or those
    newer than session ``after``. Keyset paging on (created_at, id): a deep page costs
    what the first does, and the date filter and the order use one index."""
    timezone = reporting_timezone(site_choices(session, viewer), filters.site_id)
    statement = _filtered(viewer, filters, timezone, *_ROW_COLUMNS)
    position = tuple_(ChargingSession.created_at, ChargingSession.id)
    cursor = before if after is None else after
    mark = None if cursor is None else session.execute(
        select(ChargingSession.created_at, ChargingSession.id)
        .where(ChargingSession.id == cursor)).first()
    if after is not None and mark is not None:
        statement = statement.where(position > tuple_(at(mark[0]), mark[1])).order_by(
            ChargingSession.created_at, ChargingSession.id)
    else:
        if before is not None and mark is not None:
            statement = statement.where(position < tuple_(at(mark[0]), mark[1]))
        statement = statement.order_by(ChargingSession.created_at.desc(),
                                       ChargingSession.id.desc())
    rows = [_row(r) for r in session.execute(statement.limit(page_size + 1)).all()]
    more = len(rows) > page_size
    rows = rows[:page_size]
    going_newer = after is not None and mark is not None
    if going_newer:
        rows.reverse()
    older = rows[-1].id if rows and (going_newer or more) else None
    newer = rows[0].id if rows and ((before is not None and mark is not None)
                                    or (going_newer and more)) else None
    return SessionPage(rows, filters, timezone, older, newer)


# --- CSV -------------------------------------------------------------------------------

CSV_HEADER = ("session_id", "site", "station", "connector", "card", "status", "started_at",
              "stopped_at", "energy_kwh", "cost", "currency", "payment_state", "stop_reason",
              "roaming_partner")
CSV_NUMBERS = {CSV_HEADER.index("energy_kwh"), CSV_HEADER.index("cost")}


def _local_iso(moment: datetime | None, timezone: str) -> str:
    return "" if moment is None else moment.astimezone(ZoneInfo(timezone)).isoformat(
        timespec="seconds")


def csv_lines(db: Database, viewer: Viewer, filters: SessionFilters,
              batch: int = 1000, fmt: CsvFormat = PLAIN) -> Iterator[str]:
    """The filtered sessions as CSV text, newest first, a header line first; yielded a
    batch of rows at a time so an export of any size streams (the transaction stays open
    while the lines are read). Times are ISO 8601 in the site's time zone (with its
    offset), energy in kWh, cost in major units; ``fmt`` chooses the separator, decimal
    mark and BOM (:mod:`voltspot.services.reports.csv_format`)."""
    with db.session() as session:
        yield from _csv_lines(session, viewer, filters, batch, fmt)


def _csv_lines(session: Session, viewer: Viewer, filters: SessionFilters, batch: int,
               fmt: CsvFormat) -> Iterator[str]:
    timezone = reporting_timezone(site_choices(session, viewer), filters.site_id)
    statement = _filtered(viewer, filters, timezone, *_ROW_COLUMNS).order_by(
        ChargingSession.created_at.desc(), ChargingSession.id.desc()
    ).execution_options(yield_per=batch)
    buffer = io.StringIO()
    if fmt.bom:
        buffer.write(BOM)
    writer = fmt.writer(buffer)
    writer.writerow(CSV_HEADER)
    for partition in session.execute(statement).partitions():
        for values in partition:
            row = _row(values)
            writer.writerow(fmt.row((
                row.id, safe_cell(row.site_name), safe_cell(row.charge_point_id),
                row.connector_id or "", safe_cell(row.id_tag), row.status,
                _local_iso(row.started_at, row.timezone),
                _local_iso(row.stopped_at, row.timezone), f"{row.energy_wh / 1000:.3f}",
                "" if row.cost is None or row.currency is None
                else major_units(row.cost, row.currency),
                row.currency or "", row.payment_state, safe_cell(row.stop_reason),
                safe_cell(row.roaming_partner)),
                CSV_NUMBERS))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


# --- One session ------------------------------------------------------------------------

@dataclass(frozen=True)
class MeterPoint:
    taken_at: datetime
    power_w: float | None
    energy_wh: float | None
    soc_percent: float | None


@dataclass(frozen=True)
class FrameLine:
    at: datetime
    direction: str
    frame: str


@dataclass(frozen=True)
class SessionFacts:
    """What the session page shows of the session itself. ``has_price``: a price was
    frozen for it (a tariff applied)."""

    id: int
    status: str
    origin: str
    id_tag: str | None
    connector_id: int | None
    created_at: datetime
    started_at: datetime | None
    stopped_at: datetime | None
    energy_wh: int
    meter_anomaly: str | None
    stop_reason: str | None
    failure_reason: str | None
    has_price: bool
    currency: str | None
    payment_state: str
    payment_reference: str | None
    hold_amount: int | None
    amount_captured: int | None
    amount_refunded: int
    refund_reason: str | None
    payment_error: str | None
    notice: str | None


def _facts(charging: ChargingSession) -> SessionFacts:
    return SessionFacts(
        charging.id, str(charging.status), charging.origin, charging.id_tag,
        charging.connector_id, charging.created_at, charging.started_at, charging.stopped_at,
        charging.energy_wh, charging.meter_anomaly, charging.stop_reason,
        charging.failure_reason, bool(charging.price), charging.currency,
        str(charging.payment_state), charging.payment_reference, charging.hold_amount,
        charging.amount_captured, charging.amount_refunded, charging.refund_reason,
        charging.payment_error, charging.notice)


@dataclass(frozen=True)
class RoamingFacts:
    """The roaming side of a session: the partner whose driver charged (the eMSP, who
    pays), the driver's token, how it was authorised, and where its CDR stands."""

    partner_name: str
    token_uid: str | None
    contract_id: str | None
    auth_method: str
    cdr_state: str


def _roaming(session: Session, charging: ChargingSession) -> RoamingFacts | None:
    found = session.execute(
        select(OcpiSession, OcpiPartner.name, OcpiCdr.id, OcpiCdr.acknowledged_at)
        .join(OcpiPartner, OcpiPartner.id == OcpiSession.partner_id)
        .outerjoin(OcpiCdr, OcpiCdr.session_id == OcpiSession.session_id)
        .where(OcpiSession.session_id == charging.id)).first()
    if found is None:
        return None
    roaming, partner_name, cdr_id, acknowledged_at = found
    if cdr_id is None:
        cdr_state = {SessionStatus.COMPLETED: "being made",
                     SessionStatus.FAILED: "none (it never charged)"}.get(
            charging.status, "due when the session ends")
    else:
        cdr_state = "sent" if acknowledged_at else "waiting to be sent"
    token = roaming.cdr_token or {}
    return RoamingFacts(partner_name, token.get("uid"), token.get("contract_id"),
                        roaming.auth_method, cdr_state)


@dataclass(frozen=True)
class SessionDetail:
    charging: SessionFacts
    site_name: str
    timezone: str
    charge_point_id: str
    evse_id: str | None
    meter: list[MeterPoint]
    bill: dict[str, Any] | None
    bill_is_live: bool
    frames: list[FrameLine]
    frames_from: datetime
    frames_until: datetime
    frames_cut: bool
    holder_name: str | None = None
    # Its page keeps following it a little after it ends: the charger's last messages
    # (StopTransaction, the plug's status) are logged a moment after the session closes.
    still_live: bool = False
    roaming: RoamingFacts | None = None


def _meter(session: Session, charging: ChargingSession) -> list[MeterPoint]:
    """Power, energy delivered (from the session's start reading) and state of charge at
    each moment the charger sampled one of them."""
    readings: dict[datetime, dict[str, float]] = {}
    for taken_at, measurand, value in session.execute(
            select(MeterSample.taken_at, MeterSample.measurand, MeterSample.value)
            .where(MeterSample.session_id == charging.id,
                   MeterSample.measurand.in_((ENERGY_REGISTER, POWER, SOC)),
                   MeterSample.phase.is_(None))
            .order_by(MeterSample.taken_at, MeterSample.id)):
        readings.setdefault(taken_at, {})[measurand] = value
    start = charging.meter_start_wh
    points = []
    for taken_at, values in readings.items():
        register = values.get(ENERGY_REGISTER)
        energy = None if register is None else register - start if start is not None else None
        points.append(MeterPoint(taken_at, values.get(POWER), energy, values.get(SOC)))
    return points


def session_detail(db: Database, viewer: Viewer, session_id: int,
                   now: datetime | None = None) -> SessionDetail:
    """One of the viewer's sessions with everything its page shows; raises
    :class:`NotFound` for another owner's session. An open session's bill is its live
    cost so far."""
    with db.session() as session:
        return _session_detail(session, viewer, session_id, now or utcnow())


def _session_detail(session: Session, viewer: Viewer, session_id: int, now: datetime
                    ) -> SessionDetail:
    charging = owned_session(session, viewer, session_id)
    station = charging.station
    site = station.site
    timezone = site.timezone if site else "UTC"
    bill, live = charging.bill, False
    if bill is None and charging.status.is_open:
        current = bill_for(session, charging, now)
        bill, live = (bill_as_json(current), True) if current else (None, False)
    began = charging.requested_at or charging.started_at or charging.created_at
    ended = charging.stopped_at or (now if charging.status.is_open else began)
    frames_from, frames_until = began - FRAMES_BEFORE, ended + FRAMES_AFTER
    # Only the plug's conversation: the station's other plugs and its heartbeats are on
    # the station page. Read a bounded window, then keep this plug's frames.
    window = session.execute(
        select(OcppFrame.at, OcppFrame.direction, OcppFrame.frame)
        .where(OcppFrame.charge_point_id == station.charge_point_id,
               OcppFrame.at >= frames_from, OcppFrame.at <= frames_until)
        .order_by(OcppFrame.id).limit(FRAME_WINDOW)).all()
    frames = plug_frames(window, charging.connector_id or 0,
                         (charging.transaction_id, charging.charger_transaction_id))
    return SessionDetail(
        charging=_facts(charging), site_name=site.name if site else "", timezone=timezone,
        charge_point_id=station.charge_point_id,
        evse_id=charging.connector.evse_id if charging.connector else None,
        meter=_meter(session, charging), bill=bill, bill_is_live=live,
        frames=[FrameLine(*row) for row in frames[:MAX_FRAMES]], frames_from=frames_from,
        frames_until=frames_until, frames_cut=len(frames) > MAX_FRAMES,
        holder_name=None if charging.id_tag is None else session.scalar(
            select(IdToken.holder_name).where(IdToken.id_tag == charging.id_tag)),
        still_live=charging.status.is_open or (
            charging.stopped_at is not None and now - charging.stopped_at < LIVE_AFTER_END),
        roaming=_roaming(session, charging))


def minor_units(text: str, currency: str) -> int:
    """An amount typed in major units ("2.50", "2,50") as integer minor units; raises
    :class:`InvalidInput` for anything else."""
    try:
        return money.minor_units(text, currency)
    except AmountError:
        raise InvalidInput(N_("%(text)s is not an amount like %(example)s", text=repr(text),
                              example=Decimal("2.50"))) from None


def refund_session(db: Database, gateway: PaymentGateway, viewer: Viewer, session_id: int,
                   amount: str, reason: str) -> None:
    """Give the driver of one of the viewer's sessions back ``amount`` (as typed, in major
    units of the session's currency) for ``reason``. Raises :class:`NotFound` for another
    owner's session, :class:`InvalidInput` for an amount or reason that cannot be
    refunded, and :class:`PaymentDeclined` / :class:`PaymentUnavailable` from the
    provider (see :func:`voltspot.services.payments.holds.refund`)."""
    with db.session() as session:
        currency = owned_session(session, viewer, session_id).currency or "EUR"
    payments.refund(db, gateway, session_id, minor_units(amount, currency), reason)
