"""The one home of a charging session's life: every change of its state or its payment's
state is made here, checked against the tables of :mod:`voltspot.domain.sessions`
(create, authorise, start, follow the plug, close, fail, settle); and the sessions as
chargers report them: authorisation, start, meter values, stop.

These functions work inside the caller's transaction (they take an open ``Session``);
the services that call them own the unit of work."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, bindparam, func, or_, select, tuple_, update
from sqlalchemy.orm import Session

from voltspot.domain.authorization import IdTagInfo, card_status
from voltspot.domain.meter import (
    MeterValueError,
    Sample,
    allowed_rise_wh,
    apply_register,
    normalise,
)
from voltspot.domain.sessions import check_payment, check_status
from voltspot.domain.statuses import (
    AuthorizationStatus,
    ConnectorStatus,
    PaymentState,
    Registration,
    SessionStatus,
    session_status_for_connector,
)
from voltspot.group_commit import insert_rows
from voltspot.models import (
    ChargingSession,
    Connector,
    IdToken,
    MeterSample,
    Station,
    StationEvent,
    StationEventKind,
    Tariff,
    utcnow,
)
from voltspot.services.charging.billing import bill_as_json, bill_for, plug_power_w, terms_of
from voltspot.services.charging.metered import MeteredSession, metered_session
from voltspot.services.messages import N_
from voltspot.services.reports.totals import count_closed_session, uncount_closed_session
from voltspot.services.stations.registry import find_station, get_station, load_stations

log = logging.getLogger(__name__)

OPEN_STATES = [s for s in SessionStatus if s.is_open]


def new_session_token() -> str:
    """An unguessable handle for a session (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def new_session(session: Session, *, status: SessionStatus,
                payment_state: PaymentState = PaymentState.NONE, **fields: Any
                ) -> ChargingSession:
    """Add a new session in ``status`` (one the state machine lets a session begin in)
    with a fresh token unless ``fields`` give one; not flushed."""
    charging = ChargingSession(status=check_status(None, status),
                               payment_state=check_payment(None, payment_state),
                               **{"token": new_session_token(), **fields})
    session.add(charging)
    read_ahead = _read_ahead(session, charging.station_id)
    if read_ahead is not None:
        read_ahead.append(charging)
    return charging


# Where :func:`load_open_sessions` leaves what it read, in ``session.info``: by station
# id, the station's sessions that are open or wait for their transaction, and those
# added since in the session (see ``new_session``).
_OPEN_BY_STATION = "voltspot.lifecycle.open_by_station"


def load_open_sessions(session: Session, charge_point_ids: list[str]) -> None:
    """Read the stations (as :func:`~voltspot.services.stations.registry.load_stations`
    does) and their sessions that are open or wait for their transaction, in one query,
    for :func:`running_on`, :func:`starting_session` and a start's look for the stale
    transactions it closes to find without a query each: a group-commit batch's
    read-ahead for its chargers' statuses and starts (on PostgreSQL each query is a
    round trip, and a reconnect storm's starts paid three)."""
    load_stations(session, charge_point_ids)
    by_station = session.info.setdefault(_OPEN_BY_STATION, {})
    wanted = []
    for charge_point_id in charge_point_ids:
        station = find_station(session, charge_point_id)
        if station is not None and station.id not in by_station:
            by_station[station.id] = []
            wanted.append(station.id)
    if wanted:
        for charging in session.scalars(_OPEN_OR_WAITING, {"ids": wanted}):
            by_station[charging.station_id].append(charging)


# Built once: a superset of what each reader of the read-ahead asks for, which filters it.
_OPEN_OR_WAITING = select(ChargingSession).where(
    ChargingSession.station_id.in_(bindparam("ids", expanding=True)),
    or_(ChargingSession.stopped_at.is_(None),
        and_(ChargingSession.transaction_id.is_(None),
             ChargingSession.status.in_([SessionStatus.STARTING, SessionStatus.AUTHORISED]))))


def _read_ahead(session: Session, station_id: int | None) -> list[ChargingSession] | None:
    """The sessions :func:`load_open_sessions` read for the station (with those added
    since), as they are now in the session; None when it did not read them."""
    if station_id is None:
        return None
    return session.info.get(_OPEN_BY_STATION, {}).get(station_id)


def _move(charging: ChargingSession, status: SessionStatus) -> None:
    charging.status = check_status(charging.status, status)


def _pay(charging: ChargingSession, state: PaymentState) -> None:
    charging.payment_state = check_payment(charging.payment_state, state)


def hold_placed(charging: ChargingSession, reference: str, confirmed: bool) -> None:
    """The provider took the hold request under ``reference``; when it is ``confirmed``
    the money is held and the session is authorised (else the driver confirms it)."""
    charging.payment_reference = reference
    if confirmed:
        _pay(charging, PaymentState.HELD)
        _move(charging, SessionStatus.AUTHORISED)


def hold_refused(charging: ChargingSession, reason: str) -> None:
    """The provider refused the hold: the session fails, nothing is held."""
    _fail(charging, reason)
    _pay(charging, PaymentState.FAILED)


def record_hold_outcome(session: Session, session_id: int, held: bool) -> bool:
    """The provider says the hold of a session still authorising is there (``held``) or
    will never be: the session is authorised, or failed. Compare-and-set, so that of
    several processes and requests learning it at once exactly one returns True (and
    starts the charger)."""
    target = check_payment(PaymentState.AUTHORISING,
                           PaymentState.HELD if held else PaymentState.FAILED)
    won = session.execute(
        update(ChargingSession)
        .where(ChargingSession.id == session_id,
               ChargingSession.payment_state == PaymentState.AUTHORISING)
        .values(payment_state=target)).rowcount
    if won:
        charging = session.get(ChargingSession, session_id)
        if held:
            _move(charging, SessionStatus.AUTHORISED)
        else:
            _fail(charging, str(N_("The card payment was not completed")))
    return bool(won)


def claim_start(session: Session, session_id: int) -> bool:
    """Move an authorised session to starting, recording when the charger was asked;
    compare-and-set, so only one caller gets True and sends the remote start."""
    check_status(SessionStatus.AUTHORISED, SessionStatus.STARTING)
    return bool(session.execute(
        update(ChargingSession)
        .where(ChargingSession.id == session_id,
               ChargingSession.status == SessionStatus.AUTHORISED)
        .values(status=SessionStatus.STARTING, requested_at=utcnow())).rowcount)


def to_start(session: Session) -> list[int]:
    """Authorised sessions whose charger nobody has asked yet (their hold was confirmed
    by a process that holds no charger connections), oldest first."""
    return list(session.scalars(select(ChargingSession.id).where(
        ChargingSession.status == SessionStatus.AUTHORISED,
        ChargingSession.requested_at.is_(None),
        ChargingSession.transaction_id.is_(None)).order_by(ChargingSession.id)))


def capture_now(charging: ChargingSession, cost: int, notice: str) -> None:
    """Take what a still-open session cost so far (its hold is about to lapse)."""
    charging.cost = cost
    _pay(charging, PaymentState.TO_SETTLE)
    charging.notice = notice


def settled(charging: ChargingSession, captured: int | None) -> None:
    """The provider carried out the recorded intent: ``captured`` minor units were taken
    (None: the hold was released)."""
    if captured is None:
        _pay(charging, PaymentState.RELEASED)
        charging.amount_captured = 0
    else:
        _pay(charging, PaymentState.CAPTURED)
        charging.amount_captured = captured
    charging.payment_error = None


def authorize(session: Session, charge_point_id: str, id_tag: str) -> IdTagInfo:
    """Answer Authorize: a registered card by its state; a tag our own remote start handed
    to this station is accepted; anything else is Invalid. A pending station
    authorises nobody."""
    station = get_station(session, charge_point_id)
    if station.registration != Registration.ACCEPTED:
        return IdTagInfo(AuthorizationStatus.INVALID)
    card = _card(session, id_tag)
    # A card works at its owner's stations only (cards without an owner work everywhere).
    if card is not None and (card.owner_id is None or station.site is None
                             or station.site.owner_id in (None, card.owner_id)):
        return IdTagInfo(card_status(card.blocked, card.expires_at, utcnow()),
                         expiry_date=card.expires_at, parent_id_tag=card.parent_id_tag)
    if starting_session(session, station, id_tag, None) is not None:
        return IdTagInfo(AuthorizationStatus.ACCEPTED)
    return IdTagInfo(AuthorizationStatus.INVALID)


def _card(session: Session, id_tag: str) -> IdToken | None:
    # Cards are stored in capitals; OCPP idTags are case-insensitive.
    tag = id_tag.strip().upper()
    found = session.info.setdefault(_CARDS_FOUND, {})
    card = found.get(tag)
    if card is None:
        card = session.scalar(select(IdToken).where(IdToken.id_tag == tag))
        if card is not None:
            found[tag] = card
    return card


# The cards ``_card`` found in a session, by tag: a StartTransaction asks up to three
# times, and a group-commit batch's starts often share a card (a fleet's). Kept as the
# session's own objects, so what the session changes on a card shows; a tag not found is
# asked again (a card may be added to the session meanwhile).
_CARDS_FOUND = "voltspot.lifecycle.cards_found"


def starting_session(session: Session, station: Station, id_tag: str,
                      connector_id: int | None) -> ChargingSession | None:
    """A session we asked this station to start for ``id_tag`` that has no transaction yet."""
    read_ahead = _read_ahead(session, station.id)
    if read_ahead is not None:
        candidates = sorted(
            (charging for charging in read_ahead if charging.id_tag == id_tag
             and charging.status in (SessionStatus.STARTING, SessionStatus.AUTHORISED)
             and charging.transaction_id is None), key=_by_id)
    else:
        candidates = list(session.scalars(select(ChargingSession).where(
            ChargingSession.station_id == station.id,
            ChargingSession.id_tag == id_tag,
            ChargingSession.status.in_([SessionStatus.STARTING, SessionStatus.AUTHORISED]),
            ChargingSession.transaction_id.is_(None)).order_by(ChargingSession.id)))
    for candidate in candidates:
        if connector_id is None or candidate.connector_id in (None, connector_id):
            return candidate
    return None


# The transactionId a charger is given for a transaction that was not recorded.
NOT_RECORDED = 0


@dataclass(frozen=True)
class StartResult:
    transaction_id: int
    id_tag_info: IdTagInfo


@dataclass(frozen=True)
class StartReport:
    """What identifies a 1.6 StartTransaction sent again after a reconnect: the same
    connector, tag, start time and meter reading (see :func:`start_transaction`)."""

    charge_point_id: str
    connector_id: int
    id_tag: str
    timestamp: datetime
    meter_start: int


# A batch's read-ahead for its starts (see load_starts): each start's identity (station
# id, connector, tag, time, meter) → the session it repeats, None when none; and the ids
# taken from the sessions' sequence for its new sessions.
_STARTS_SEEN = "voltspot.lifecycle.starts_seen"
_RESERVED_SESSION_IDS = "voltspot.lifecycle.reserved_session_ids"


def load_starts(session: Session, starts: list[StartReport]) -> None:
    """A group-commit batch's read-ahead for its 1.6 StartTransactions: what
    :func:`load_open_sessions` reads for their stations, the sessions any of them repeats
    in one query, and on PostgreSQL an id for each new session in one more (a storm's
    starts paid a round trip for each, twice: nearly a third of the writer's time)."""
    load_open_sessions(session, [start.charge_point_id for start in starts])
    wanted = set()
    for start in starts:
        station = find_station(session, start.charge_point_id)
        if station is not None:
            wanted.add((station.id, start.connector_id, start.id_tag, start.timestamp,
                        start.meter_start))
    seen: dict[tuple[Any, ...], ChargingSession | None] = session.info.setdefault(
        _STARTS_SEEN, {})
    wanted -= seen.keys()
    if wanted:
        repeated = session.scalars(select(ChargingSession).where(
            tuple_(*_START_IDENTITY).in_(list(wanted))))
        seen.update(dict.fromkeys(wanted))
        for charging in repeated:
            identity = _start_identity(charging)
            if seen.get(identity) is None:
                seen[identity] = charging
    if session.get_bind().dialect.name == "postgresql":
        # Taken from the end: reversed, the batch's new sessions are numbered in order.
        session.info.setdefault(_RESERVED_SESSION_IDS, []).extend(reversed(
            session.scalars(_NEXT_SESSION_IDS, {"count": len(starts)}).all()))


_START_IDENTITY = (ChargingSession.station_id, ChargingSession.connector_id,
                   ChargingSession.id_tag, ChargingSession.charger_started_at,
                   ChargingSession.meter_start_wh)


def _start_identity(charging: ChargingSession) -> tuple[Any, ...]:
    return tuple(getattr(charging, column.key) for column in _START_IDENTITY)


def _repeated_start(session: Session, identity: tuple[Any, ...]) -> ChargingSession | None:
    """The session an earlier report of the start ``identity`` (see
    :data:`_START_IDENTITY`) recorded, if any: from the batch's read-ahead when it has
    the start (:func:`load_starts`), else read."""
    seen = session.info.get(_STARTS_SEEN)
    if seen is not None and identity in seen:
        return seen[identity]
    return session.scalar(select(ChargingSession).where(
        *(column == value for column, value in zip(_START_IDENTITY, identity, strict=True))))


def start_transaction(session: Session, charge_point_id: str, *, connector_id: int,
                      id_tag: str, meter_start: int, timestamp: datetime,
                      reservation_id: int | None = None,
                      unknown_tags_first: bool = False) -> StartResult | None:
    """Record an OCPP 1.6 transaction the station started and assign its transactionId.

    The same StartTransaction sent again after a reconnect (same connector, tag, start
    time and meter reading) returns the first transactionId and creates nothing. A
    station that is not Accepted gets :data:`NOT_RECORDED` and Invalid, and nothing is
    recorded. A
    transaction whose tag is not accepted is still recorded (it may have happened offline,
    and the energy was delivered); the charger is told the tag's status so it can stop.

    ``unknown_tags_first``: a tag that is none of our cards and no start of ours records
    nothing and returns None, so that the caller can ask roaming partners about it first
    (outside any transaction) and then record the transaction without this flag.
    """
    station = get_station(session, charge_point_id)
    if station.registration != Registration.ACCEPTED:
        # Nothing is recorded for a station the operator has not let in; its charger is
        # told the tag is invalid, so it stops.
        log.warning("%s: StartTransaction from a %s station; not recorded", charge_point_id,
                    station.registration)
        return StartResult(NOT_RECORDED, IdTagInfo(AuthorizationStatus.INVALID))
    identity = (station.id, connector_id, id_tag, timestamp, meter_start)
    duplicate = _repeated_start(session, identity)
    if duplicate is not None and duplicate.transaction_id is not None:
        return StartResult(duplicate.transaction_id,
                           IdTagInfo(duplicate.id_tag_status or AuthorizationStatus.ACCEPTED))
    info = authorize(session, charge_point_id, id_tag)
    if unknown_tags_first and not info.accepted and _card(session, id_tag) is None:
        return None
    charging = begin_transaction(
        session, station, connector_id=connector_id, timestamp=timestamp, id_tag=id_tag,
        id_tag_info=info, meter_start_wh=meter_start,
        joins=starting_session(session, station, id_tag, connector_id))
    charging.reservation_id = reservation_id
    charging.charger_transaction_id = str(charging.transaction_id)
    if _STARTS_SEEN in session.info:
        # The same start again later in the batch repeats this one (not yet in the table).
        session.info[_STARTS_SEEN][identity] = charging
    return StartResult(charging.transaction_id, info)


def begin_transaction(session: Session, station: Station, *, connector_id: int | None,
                      timestamp: datetime, id_tag: str | None, id_tag_info: IdTagInfo | None,
                      meter_start_wh: int | None, joins: ChargingSession | None = None,
                      authorised: bool | None = None) -> ChargingSession:
    """Record that the station started a transaction on ``connector_id`` (whatever the OCPP
    version) and return its session, flushed, with ``transaction_id`` set.

    ``joins`` is the session that asked for it (a driver's or an operator's remote start);
    without one a new session of origin "charger" is created. ``authorised`` (default:
    whether there is an ``id_tag``) is False for a 2.0.1 transaction that began at plug-in,
    before anyone was authorised (see :func:`authorise_transaction`); a 2.0.1 charger that
    lets drivers in itself (free vend) starts authorised transactions without a tag.
    ``connector_id`` is None for a 2.0.1 transaction authorised before the cable told
    which EVSE (see :func:`assign_connector`). Another transaction still open on the
    connector that began earlier is closed: its stop was lost and the charger has moved on.
    """
    if authorised is None:
        authorised = id_tag is not None
    status = SessionStatus.CHARGING if authorised else SessionStatus.STARTING
    charging = joins
    if charging is None:
        charging = new_session(session, status=status, station_id=station.id,
                               id_tag=id_tag, origin="charger")
    charging.started_at = timestamp
    charging.charger_started_at = timestamp
    charging.meter_start_wh = meter_start_wh
    charging.max_register_wh = meter_start_wh
    if charging.id is None:
        _number(session, charging)
    charging.transaction_id = charging.id
    if connector_id is not None:
        assign_connector(session, station, charging, connector_id, timestamp)
    if authorised:
        _authorised(session, station, charging, id_tag, id_tag_info)
    _move(charging, status)
    if id_tag_info is not None and not id_tag_info.accepted:
        log.warning("%s: transaction %s started with %s tag %r", station.charge_point_id,
                    charging.transaction_id, id_tag_info.status, id_tag)
    return charging


def _number(session: Session, charging: ChargingSession) -> None:
    """Give a new session its id (a charger's transaction id is its session's). On
    PostgreSQL from the table's sequence, so that the session is inserted once, with
    all a start sets on it, among the batch's other inserts: flushing it to learn the id
    cost an INSERT and then an UPDATE, a round trip each; a batch's starts take ids
    :func:`load_starts` reserved for them, one query for all. SQLite runs in-process:
    the flush costs no round trip."""
    if session.get_bind().dialect.name != "postgresql":
        session.flush()
        return
    reserved = session.info.get(_RESERVED_SESSION_IDS)
    charging.id = reserved.pop() if reserved else session.scalar(_NEXT_SESSION_ID)
    # What the insert would fill in is read before it (energy_wh, created_at …).
    for key, default in _SESSION_DEFAULTS:
        if getattr(charging, key) is None:
            setattr(charging, key, default.arg(None) if default.is_callable else default.arg)


_NEXT_SESSION_ID = select(func.nextval(func.pg_get_serial_sequence("charging_sessions", "id")))
_NEXT_SESSION_IDS = _NEXT_SESSION_ID.select_from(
    func.generate_series(1, bindparam("count", type_=Integer)))
_SESSION_DEFAULTS = tuple((column.key, column.default)
                          for column in ChargingSession.__table__.columns
                          if column.default is not None)


def assign_connector(session: Session, station: Station, charging: ChargingSession,
                     connector_id: int, at: datetime) -> None:
    """The transaction runs on ``connector_id``: priced at its tariff when already
    authorised. Another transaction still open there that began before ``at`` is closed
    at its last reading: its stop was lost and the charger has moved on."""
    connector = _connector(station, connector_id)
    charging.connector_id = connector_id
    charging.connector_pk = connector.id if connector else None
    read_ahead = _read_ahead(session, station.id)
    if read_ahead is not None:
        stales = [other for other in read_ahead if other.connector_id == connector_id
                  and other is not charging and other.transaction_id is not None
                  and other.stopped_at is None and other.started_at is not None
                  and other.started_at < at]
    else:
        stales = list(session.scalars(select(ChargingSession).where(
            ChargingSession.station_id == station.id,
            ChargingSession.connector_id == connector_id,
            ChargingSession.id != charging.id,
            ChargingSession.transaction_id.is_not(None),
            ChargingSession.stopped_at.is_(None),
            ChargingSession.started_at < at)))
    for stale in stales:
        _close(stale, stale.max_register_wh, stale.last_sample_at or at,
               "SupersededByNewTransaction", session)
    if charging.status.has_transaction:
        _authorised(session, station, charging, charging.id_tag,
                    IdTagInfo(charging.id_tag_status) if charging.id_tag_status else None)


def authorise_transaction(session: Session, station: Station, charging: ChargingSession, *,
                          id_tag: str | None, id_tag_info: IdTagInfo | None,
                          at: datetime) -> None:
    """A transaction that began at plug-in is now authorised (a 2.0.1 charger whose
    transactions start when the cable goes in). Billing starts here, from the newest
    register reading: the driver pays from the moment they were accepted, as with a
    1.6 charger, not for the time the car stood plugged in before."""
    charging.started_at = max(at, charging.started_at or at)
    if charging.max_register_wh is not None:
        charging.meter_start_wh = charging.max_register_wh
        charging.energy_wh = 0
    charging.id_tag = id_tag
    _authorised(session, station, charging, id_tag, id_tag_info)
    if charging.status in (SessionStatus.STARTING, SessionStatus.AUTHORISED):
        _move(charging, SessionStatus.CHARGING)


def _authorised(session: Session, station: Station, charging: ChargingSession,
                id_tag: str | None, info: IdTagInfo | None) -> None:
    charging.id_tag_status = info.status if info else None
    connector = _connector(station, charging.connector_id)
    card = _card(session, id_tag) if id_tag else None
    free = card is not None and card.billing == "free"
    if (charging.price is None and not free and connector is not None
            and connector.tariff_id is not None):
        # A card or free-vend session is priced like a driver's: at the plug's tariff as it
        # is when charging starts.
        tariff = session.get(Tariff, connector.tariff_id)
        charging.tariff_id = tariff.id
        charging.price = terms_of(tariff, station.site).to_dict()
        charging.currency = tariff.currency


def _connector(station: Station, connector_id: int | None) -> Connector | None:
    return next((c for c in station.connectors if c.connector_id == connector_id), None)


@dataclass(frozen=True)
class MeterReading:
    """One OCPP MeterValue: a timestamp and its sampled values as the charger sent them
    (snake_case keys: value, measurand, unit, phase, context, location, format)."""

    timestamp: datetime
    sampled_values: list[dict]


def record_meter_values(session: Session, charge_point_id: str, connector_id: int,
                        transaction_id: int | None, readings: Iterable[MeterReading], *,
                        station_id: int | None = None) -> None:
    """Store every readable sample and update the session's live energy, power and SoC.

    Samples go with the transaction given, else (none given) with the connector's running
    session; samples naming a transaction this station does not have are kept for the
    station alone, never applied to another session. A value that cannot be read is
    logged and skipped; the others are still kept.
    ``station_id``, when the caller already knows it, saves looking the station up on
    this path that every charger takes every few seconds.
    """
    if station_id is None:
        station_id = get_station(session, charge_point_id).id
    charging = _session_for_samples(session, station_id, connector_id, transaction_id)
    rows = []
    samples = []
    for reading in readings:
        for raw in reading.sampled_values:
            try:
                sample = normalise(reading.timestamp, **raw)
            except MeterValueError as error:
                log.warning("%s: connector %s: skipped a sampled value: %s",
                            charge_point_id, connector_id, error)
                continue
            except TypeError:
                log.warning("%s: connector %s: sampled value with unknown fields %s",
                            charge_point_id, connector_id, sorted(raw))
                continue
            rows.append({
                "station_id": station_id, "session_id": charging.id if charging else None,
                "connector_id": connector_id, "taken_at": sample.taken_at,
                "measurand": sample.measurand, "value": sample.value, "unit": sample.unit,
                "phase": sample.phase, "context": sample.context, "location": sample.location})
            samples.append(sample)
            if charging is not None:
                _apply_sample(charging, sample, charge_point_id)
    if isinstance(charging, MeteredSession) and not charging.store():
        # Read ahead before another write of this batch changed it: apply them again to
        # the session as it is now.
        charging = session.get(ChargingSession, charging.id)
        for sample in samples if charging is not None else ():
            _apply_sample(charging, sample, charge_point_id)
    if rows:
        # One executemany for the whole group-commit batch: every MeterValues of every charger.
        insert_rows(session, MeterSample.__table__, rows)


def _session_for_samples(session: Session, station_id: int, connector_id: int,
                         transaction_id: int | None
                         ) -> ChargingSession | MeteredSession | None:
    if transaction_id is not None:
        # Our transaction ids are the sessions' primary keys: what the batch read ahead,
        # else a lookup by key (no query when the session is already in this batch).
        found = metered_session(session, transaction_id) \
            or session.get(ChargingSession, transaction_id)
        if (found is not None and found.station_id == station_id
                and found.transaction_id == transaction_id):
            return found
        return None
    if connector_id == 0:
        return None
    return running_on(session, station_id, connector_id)


def _apply_sample(charging: ChargingSession | MeteredSession, sample: Sample,
                  charge_point_id: str) -> None:
    if charging.stopped_at is not None:
        return  # a closed session changes only by explicit corrections (a late stop)
    if sample.is_total_energy_register and sample.context == "Transaction.Begin":
        _start_reading(charging, sample.value)
        return
    is_newest = charging.last_sample_at is None or sample.taken_at >= charging.last_sample_at
    if sample.is_total_energy_register and charging.meter_start_wh is None:
        # A 2.0.1 transaction whose Started carried no Transaction.Begin reading: energy
        # counts from the first register reading.
        charging.meter_start_wh = int(round(sample.value))
    if sample.is_total_energy_register:
        result = apply_register(charging.meter_start_wh, charging.max_register_wh, sample.value,
                                _allowed_rise(charging, sample.value, sample.taken_at))
        charging.max_register_wh = result.max_register_wh
        if charging.stopped_at is None:
            charging.energy_wh = result.energy_wh
        if result.anomaly:
            charging.meter_anomaly = result.anomaly[:200]
            log.warning("%s: transaction %s: %s", charge_point_id, charging.transaction_id,
                        result.anomaly)
    elif is_newest and sample.is_total_power:
        charging.power_w = sample.value
    elif is_newest and sample.measurand == "SoC":
        charging.soc_percent = sample.value
    if is_newest:
        charging.last_sample_at = sample.taken_at


def _start_reading(charging: ChargingSession | MeteredSession, value_wh: float) -> None:
    """The transaction's start reading (context Transaction.Begin) is its start, also when
    it comes late: a 2.0.1 charger with empty TxStartedMeasurands sends it only with
    Ended, after readings that began counting from the first periodic one. A session
    billed from its authorisation (the car plugged in first) keeps that start."""
    if charging.started_at is not None and charging.charger_started_at is not None \
            and charging.started_at > charging.charger_started_at:
        return
    start = int(round(value_wh))
    highest = max(start, charging.max_register_wh if charging.max_register_wh is not None
                  else start)
    charging.meter_start_wh = start
    charging.max_register_wh = highest
    charging.energy_wh = highest - start


# No plug delivers less: rises below this bound need no look-up of the plug's power.
_SMALLEST_PLUG_W = 3700


def _allowed_rise(charging: ChargingSession | MeteredSession, reading_wh: float, at: datetime
                  ) -> float | None:
    """How far the register may rise above its highest so far by ``at`` (None: no
    limit, before there is a start)."""
    highest = charging.max_register_wh if charging.max_register_wh is not None \
        else charging.meter_start_wh
    if highest is None:
        return None
    since = charging.last_sample_at or charging.charger_started_at or at
    if reading_wh - highest <= allowed_rise_wh(at - since, _SMALLEST_PLUG_W):
        return None
    return allowed_rise_wh(at - since, plug_power_w(charging))


def stop_transaction(session: Session, charge_point_id: str, *, transaction_id: int,
                     meter_stop: int, timestamp: datetime, reason: str | None = None,
                     id_tag: str | None = None,
                     transaction_data: Iterable[MeterReading] = ()) -> IdTagInfo | None:
    """Close a transaction; always succeeds so the charger can empty its queue.

    An unknown transaction id is logged and answered. The meter values sent with the stop
    are stored. A stop reading below what the meter already showed is flagged and the
    energy total keeps the highest reading. A repeated StopTransaction changes nothing.
    """
    station = get_station(session, charge_point_id)
    charging = session.scalar(select(ChargingSession).where(
        ChargingSession.transaction_id == transaction_id,
        ChargingSession.station_id == station.id))
    info = authorize(session, charge_point_id, id_tag) if id_tag else None
    if charging is None:
        log.warning("%s: StopTransaction for unknown transaction %s (meter %s Wh, reason %s)",
                    charge_point_id, transaction_id, meter_stop, reason)
        return info
    transaction_data = list(transaction_data)
    if transaction_data:
        record_meter_values(session, charge_point_id, charging.connector_id or 0,
                            transaction_id, transaction_data, station_id=station.id)
    if charging.stopped_at is None:
        _close(charging, meter_stop, timestamp, reason or "Local", session)
    elif charging.stop_reason == ENDED_WITHOUT_STOP:
        _correct_close(charging, meter_stop, timestamp, reason or "Local", session)
    return info


def close_transaction(session: Session, charging: ChargingSession, *, meter_stop: int | None,
                      at: datetime, reason: str) -> None:
    """Close an open transaction at ``at`` with its final register reading (None: the
    highest reading seen), bill it and mark its card hold to be settled."""
    _close(charging, meter_stop, at, reason, session)


def _close(charging: ChargingSession, meter_stop: int | None, at: datetime, reason: str,
           session: Session) -> None:
    if meter_stop is not None:
        result = apply_register(charging.meter_start_wh, charging.max_register_wh, meter_stop,
                                _allowed_rise(charging, meter_stop, at))
        charging.max_register_wh = result.max_register_wh
        charging.energy_wh = result.energy_wh
        if result.anomaly:
            charging.meter_anomaly = result.anomaly[:200]
    charging.meter_stop_wh = meter_stop
    charging.stopped_at = at
    charging.stop_reason = reason
    _move(charging, SessionStatus.COMPLETED)
    charging.power_w = 0.0
    charging.claimed_connector_pk = None
    session.flush()
    bill = bill_for(session, charging, at)
    if bill is not None:
        charging.cost, charging.bill = bill.total, bill_as_json(bill)
    if charging.payment_state == PaymentState.HELD:
        _pay(charging, PaymentState.TO_SETTLE)
    count_closed_session(session, charging)


# A transaction the charger never stopped (the demo restarted, a stop lost): closed by
# :func:`close_abandoned` with this stop reason, until a late stop corrects it.
ENDED_WITHOUT_STOP = "NoStopFromCharger"
ENDED_WITHOUT_STOP_NOTICE = ("Ended without a stop from the charger: billed to its last "
                             "meter reading")
# How long a plug may report Available (no car) under a running transaction, or a
# rebooted station stay silent about it, before the transaction is taken as over.
ABANDONED_AFTER = timedelta(minutes=2)


def close_abandoned(session: Session, now: datetime,
                    grace: timedelta = ABANDONED_AFTER) -> int:
    """Close the transactions no stop will come for: their plug has reported Available
    (no car) for ``grace`` since they started, or their station booted again ``grace``
    ago and has said nothing of them since. Each is closed at its last reading, billed to
    it and flagged (:data:`ENDED_WITHOUT_STOP`); a StopTransaction that arrives later
    still corrects it. Returns how many were closed."""
    cutoff = now - grace
    activity = func.coalesce(ChargingSession.last_sample_at, ChargingSession.started_at)
    abandoned = session.scalars(
        select(ChargingSession)
        .join(Station, Station.id == ChargingSession.station_id)
        .outerjoin(Connector, Connector.id == ChargingSession.connector_pk)
        .where(ChargingSession.transaction_id.is_not(None),
               ChargingSession.stopped_at.is_(None),
               or_(and_(Connector.status == ConnectorStatus.AVAILABLE,
                        Connector.status_at > ChargingSession.started_at,
                        Connector.status_at < cutoff),
                   and_(Station.last_boot_at < cutoff, Station.last_boot_at > activity)))
        .order_by(ChargingSession.id)).all()
    for charging in abandoned:
        log.warning("%s: transaction %s was never stopped by its charger; closed at its "
                    "last reading", charging.station.charge_point_id, charging.transaction_id)
        _close(charging, None, charging.last_sample_at or charging.started_at or now,
               ENDED_WITHOUT_STOP, session)
        charging.notice = ENDED_WITHOUT_STOP_NOTICE
    return len(abandoned)


def _correct_close(charging: ChargingSession, meter_stop: int, at: datetime, reason: str,
                   session: Session) -> None:
    """The late stop of a transaction closed without one: its reading, time and reason
    replace the guessed ones, and the bill (and the report totals) follow, while the
    payment has not been taken yet."""
    if charging.payment_state not in (PaymentState.NONE, PaymentState.TO_SETTLE):
        log.warning("%s: late stop for transaction %s after its payment was settled; "
                    "kept as billed", charging.station.charge_point_id,
                    charging.transaction_id)
        return
    uncount_closed_session(session, charging)
    result = apply_register(charging.meter_start_wh, charging.max_register_wh, meter_stop,
                            _allowed_rise(charging, meter_stop, at))
    charging.max_register_wh = result.max_register_wh
    charging.energy_wh = result.energy_wh
    charging.meter_stop_wh = meter_stop
    charging.stopped_at = at
    charging.stop_reason = reason
    charging.notice = None
    session.flush()
    bill = bill_for(session, charging, at)
    if bill is not None:
        charging.cost, charging.bill = bill.total, bill_as_json(bill)
    count_closed_session(session, charging)


def running_on(session: Session, station_id: int, connector_id: int
               ) -> ChargingSession | None:
    """The transaction running on the station's connector, if any (the newest, should a
    lost stop have left an older one open)."""
    read_ahead = _read_ahead(session, station_id)
    if read_ahead is not None:
        return max((charging for charging in read_ahead
                    if charging.connector_id == connector_id
                    and charging.transaction_id is not None and charging.stopped_at is None),
                   key=_by_id, default=None)
    return session.scalar(select(ChargingSession).where(
        ChargingSession.station_id == station_id,
        ChargingSession.connector_id == connector_id,
        ChargingSession.transaction_id.is_not(None),
        ChargingSession.stopped_at.is_(None)).order_by(ChargingSession.id.desc()).limit(1))


def _by_id(charging: ChargingSession) -> tuple[bool, int]:
    # As the database orders them; one not yet flushed (no id) comes last.
    return (charging.id is None, charging.id or 0)


def connector_status_changed(session: Session, charge_point_id: str, connector_id: int,
                             status: ConnectorStatus, at: datetime) -> None:
    """Follow a connector's new status in its running session: suspended or finishing
    marks the end of charging (idle time starts), charging again clears it, and a fault
    ends the session, billed up to its last reading. A plug back to Available with no
    transaction ends the remote starts waiting on it (see :func:`_give_up_starts`)."""
    station_id = get_station(session, charge_point_id).id
    running = running_on(session, station_id, connector_id)
    if running is None:
        if status == ConnectorStatus.AVAILABLE:
            _give_up_starts(session, charge_point_id, station_id, connector_id, at)
        return
    if status == ConnectorStatus.FAULTED:
        log.warning("%s: connector %s faulted during transaction %s; session ended",
                    charge_point_id, connector_id, running.transaction_id)
        _close(running, running.max_register_wh, running.last_sample_at or at,
               "ConnectorFault", session)
        return
    session_status = session_status_for_connector(status)
    if session_status is None:
        return
    _move(running, session_status)
    if session_status == SessionStatus.CHARGING:
        running.charging_ended_at = None
    elif status in (ConnectorStatus.SUSPENDED_EV, ConnectorStatus.FINISHING):
        running.charging_ended_at = running.charging_ended_at or at


def _give_up_starts(session: Session, charge_point_id: str, station_id: int,
                    connector_id: int, at: datetime) -> None:
    """A plug that went back to Available after the remote start asked for it (it showed
    something else since, Preparing for the cable) has given up waiting for the car, as
    a charger does after its ConnectionTimeOut: the start has failed, now."""
    waiting = session.scalars(select(ChargingSession).where(
        ChargingSession.station_id == station_id,
        ChargingSession.connector_id == connector_id,
        ChargingSession.status == SessionStatus.STARTING,
        ChargingSession.transaction_id.is_(None),
        ChargingSession.requested_at < at)).all()
    for charging in waiting:
        left_available = session.scalar(select(StationEvent.id).where(
            StationEvent.station_id == station_id,
            StationEvent.kind == StationEventKind.STATUS,
            StationEvent.connector_id == connector_id,
            StationEvent.status != ConnectorStatus.AVAILABLE,
            StationEvent.at >= charging.requested_at, StationEvent.at < at).limit(1))
        if left_available is not None:
            log.info("%s: connector %s is Available again; the remote start of session %s "
                     "failed", charge_point_id, connector_id, charging.id)
            fail_session(charging, N_("The charger stopped waiting for the car"))


def fail_session(charging: ChargingSession, reason: str) -> None:
    """End a session that never started charging: it frees the plug and its hold is to
    be released (by :func:`voltspot.services.payments.holds.settle_pending`). Raises
    :class:`~voltspot.domain.sessions.ForbiddenTransition` for a session that charged
    (see :func:`voltspot.domain.sessions.can_fail`). A session that failed already keeps
    its first reason: a charger's late refusal after the driver cancelled changes nothing."""
    if charging.status == SessionStatus.FAILED:
        return
    _fail(charging, reason)
    if charging.payment_state in (PaymentState.HELD, PaymentState.AUTHORISING):
        _pay(charging, PaymentState.TO_RELEASE)


def _fail(charging: ChargingSession, reason: str) -> None:
    _move(charging, SessionStatus.FAILED)
    charging.failure_reason = reason
    charging.claimed_connector_pk = None


def expire_unstarted(session: Session, older_than: timedelta) -> int:
    """Fail sessions asked to start longer than ``older_than`` ago whose car never
    started charging; returns how many."""
    cutoff = utcnow() - older_than
    stale = session.scalars(select(ChargingSession).where(
        ChargingSession.status.in_([SessionStatus.STARTING, SessionStatus.AUTHORISED]),
        ChargingSession.transaction_id.is_(None),
        ChargingSession.requested_at < cutoff)).all()
    for charging in stale:
        fail_session(charging, str(N_("no car was plugged in in time")))
    return len(stale)
