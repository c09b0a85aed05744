"""OCPP 2.0.1 transaction events onto the same sessions as 1.6 transactions.

A 2.0.1 charger names its own transactions and reports their life in numbered events
(Started, Updated, Ended), which may begin before anyone is authorised (the cable went
in), may arrive after a remote start's own answer, and are replayed after a reconnect.
:func:`record_transaction_event` folds each event once into the session it belongs to,
using the same building blocks as 1.6 (:mod:`voltspot.services.charging.lifecycle`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.orm import Session

from voltspot.db import insert_unless_present
from voltspot.domain.authorization import IdTagInfo
from voltspot.domain.meter import MeterValueError, normalise
from voltspot.domain.statuses import (
    AuthorizationStatus,
    ConnectorStatus,
    SessionStatus,
    session_status_for_connector,
    status_for_charging_state,
)
from voltspot.models import ChargingSession, MeterSample, Station, TransactionEvent, utcnow
from voltspot.services.charging import lifecycle as charging
from voltspot.services.stations import registry as stations
from voltspot.services.stations import status as status_service

log = logging.getLogger(__name__)

# idToken types a charger uses for drivers it let in itself (free vend, a key code it
# checked): nothing for the CSMS to look up.
_CHARGER_DECIDED = {"NoAuthorization"}

_CHARGING_NOW = {ConnectorStatus.CHARGING, ConnectorStatus.SUSPENDED_EV,
                 ConnectorStatus.SUSPENDED_EVSE}

# Trigger reasons of the routine meter-value events every charging transaction sends.
_PERIODIC = {"MeterValuePeriodic", "MeterValueClock"}


@dataclass(frozen=True)
class TransactionEventReport:
    """One TransactionEventRequest as the charger sent it (2.0.1 field names, snake_case)."""

    event_type: str
    timestamp: datetime
    trigger_reason: str
    seq_no: int
    charger_transaction_id: str
    evse_id: int | None = None
    evse_connector_id: int | None = None
    charging_state: str | None = None
    stopped_reason: str | None = None
    id_tag: str | None = None
    id_token_type: str | None = None
    remote_start_id: int | None = None
    readings: list[charging.MeterReading] = field(default_factory=list)


@dataclass(frozen=True)
class EventAnswer:
    """What the charger is told: the idToken's status when the event carried one, and the
    session's total cost (minor units) once it has ended and been billed."""

    id_tag_info: IdTagInfo | None
    cost: int | None = None
    currency: str | None = None
    replayed: bool = False


def record_transaction_event(session: Session, charge_point_id: str,
                             event: TransactionEventReport, *,
                             station_id: int | None = None,
                             follows_on: bool = False) -> EventAnswer:
    """Fold one TransactionEvent into its session and say what to answer.

    An event already processed (same transaction and seqNo: a replay after a reconnect)
    changes nothing. Events may come in any order a real charger sends them: an Updated
    or Ended whose Started was lost opens the session itself; a Started(RemoteStart) may
    precede the cable; a transaction that began at plug-in is joined to the driver's
    session when the remote start's event names its ``remoteStartId``. ``station_id``,
    when the caller knows it, spares the routine meter-value event a station lookup;
    ``follows_on`` says the event is known to be new, which spares it the check: a
    charger sends a transaction's events in order, each after the answer to the one
    before, so what follows an event recorded as new over the same connection is new too.
    """
    if station_id is None:
        station_id = stations.get_station(session, charge_point_id).id
    charging_session = _by_charger_id(session, station_id, event.charger_transaction_id)
    if charging_session is not None and _reuses_id(charging_session, event):
        _retire_id(session, station_id, charging_session)
        charging_session = None
    info = _token_info(session, charge_point_id, station_id, charging_session, event)
    if follows_on and charging_session is not None:
        _record_processed(session, station_id, event)
    elif _already_processed(session, station_id, event) and not _ends_open(charging_session,
                                                                           event):
        log.info("%s: transaction %s event %s replayed; already recorded", charge_point_id,
                 event.charger_transaction_id, event.seq_no)
        return replace(_answer(info, charging_session, event), replayed=True)
    if charging_session is not None and charging_session.stopped_at is not None:
        # A closed session changes only by explicit corrections, never by a late event.
        log.warning("%s: %s event %s for transaction %s after it ended; not applied",
                    charge_point_id, event.event_type, event.seq_no,
                    event.charger_transaction_id)
        return _answer(info, charging_session, event)
    id_tag = None if event.id_token_type in _CHARGER_DECIDED else event.id_tag
    asked = _asking_session(session, station_id, event)
    if asked is not None and id_tag is None:
        # The remote start's event names its remoteStartId but not the token: it runs
        # under the token the CSMS sent.
        id_tag, info = asked.id_tag, IdTagInfo(AuthorizationStatus.ACCEPTED)
    if charging_session is None:
        charging_session = charging.begin_transaction(
            session, session.get(Station, station_id), connector_id=event.evse_id,
            timestamp=event.timestamp, id_tag=id_tag, id_tag_info=info if id_tag else None,
            meter_start_wh=_begin_register(event), joins=asked,
            authorised=id_tag is not None or event.id_token_type in _CHARGER_DECIDED)
        charging_session.charger_transaction_id = event.charger_transaction_id
        session.flush()  # the event's meter values find the session by its key
        if event.event_type != "Started":
            log.warning("%s: %s event for transaction %s whose start we never saw; "
                        "recorded from here", charge_point_id, event.event_type,
                        event.charger_transaction_id)
    elif asked is not None and asked.id != charging_session.id:
        charging_session = _adopt(session, session.get(Station, station_id), asked,
                                  charging_session, event.timestamp, info)
    elif id_tag is not None and charging_session.id_tag is None:
        charging.authorise_transaction(session, session.get(Station, station_id),
                                       charging_session, id_tag=id_tag, id_tag_info=info,
                                       at=event.timestamp)
    if charging_session.connector_id is None and event.evse_id is not None:
        charging.assign_connector(session, session.get(Station, station_id), charging_session,
                                  event.evse_id, event.timestamp)
    if event.evse_connector_id is not None:
        charging_session.evse_connector_id = event.evse_connector_id
    if event.readings:
        charging.record_meter_values(session, charge_point_id,
                                     charging_session.connector_id or 0,
                                     charging_session.transaction_id, event.readings,
                                     station_id=station_id)
    _follow_charging_state(session, charge_point_id, charging_session, event)
    if event.event_type == "Ended" and charging_session.stopped_at is None:
        charging.close_transaction(session, charging_session, meter_stop=_end_register(event),
                                   at=event.timestamp, reason=event.stopped_reason or "Local")
    return _answer(info, charging_session, event)


def _answer(info: IdTagInfo | None, charging_session: ChargingSession | None,
            event: TransactionEventReport) -> EventAnswer:
    """totalCost goes with the Ended event only: the bill, or 0 for a session Voltspot
    does not bill (a free card, an unpriced plug); 2.0.1 reads an omitted totalCost as
    "not free"."""
    if event.event_type != "Ended" or charging_session is None:
        return EventAnswer(info)
    if charging_session.price is None:
        return EventAnswer(info, 0, None)
    return EventAnswer(info, charging_session.cost, charging_session.currency)


# A charger replays unanswered events after it reconnects, which may be days after a long
# outage; beyond this an event is not expected again and its record is dropped.
REPLAY_WINDOW = timedelta(days=30)


def forget_old_events(session: Session, now: datetime) -> int:
    """Drop the records of events older than :data:`REPLAY_WINDOW`; returns how many."""
    return session.execute(delete(TransactionEvent).where(
        TransactionEvent.at < now - REPLAY_WINDOW)).rowcount


# Where :func:`load_by_charger_ids` leaves the sessions it read, in ``session.info``, by
# (station id, charger transaction id).
_LOADED = "voltspot.sessions_by_charger_id"


def load_by_charger_ids(session: Session, keys: list[tuple[int, str]]) -> None:
    """Read the sessions of many (station id, charger transaction id) pairs in one query,
    for :func:`record_transaction_event` to find in ``session`` (a group-commit batch's
    read-ahead: each 2.0.1 event would look its session up on its own)."""
    loaded = session.info.setdefault(_LOADED, {})
    wanted = set(keys) - loaded.keys()
    if not wanted:
        return
    for found in session.scalars(select(ChargingSession).where(
            tuple_(ChargingSession.station_id, ChargingSession.charger_transaction_id)
            .in_(wanted))):
        loaded[(found.station_id, found.charger_transaction_id)] = found


def _by_charger_id(session: Session, station_id: int,
                   charger_transaction_id: str) -> ChargingSession | None:
    key = (station_id, charger_transaction_id)
    found = session.info.get(_LOADED, {}).get(key)
    # What was read ahead, unless this batch has since given its id away (a reused id
    # retired) or deleted it (a transaction adopted by a remote start): then ask again.
    if found is not None and found in session \
            and (found.station_id, found.charger_transaction_id) == key:
        return found
    return session.scalar(select(ChargingSession).where(
        ChargingSession.station_id == station_id,
        ChargingSession.charger_transaction_id == charger_transaction_id))


def runs_under(session: Session, station_id: int, charger_transaction_id: str,
               id_tag: str) -> bool:
    """True when the charger's transaction is already recorded under ``id_tag`` (a later
    event repeating its token has nothing new to authorise)."""
    return session.scalar(select(ChargingSession.id).where(
        ChargingSession.station_id == station_id,
        ChargingSession.charger_transaction_id == charger_transaction_id,
        ChargingSession.id_tag == id_tag)) is not None


def _ends_open(charging_session: ChargingSession | None,
               event: TransactionEventReport) -> bool:
    """An Ended for a session still open is applied even when its seqNo was seen: a
    charger that numbered its events from 0 again after a reboot must still be able to end
    its transaction, and ending is done once either way."""
    return (event.event_type == "Ended" and charging_session is not None
            and charging_session.stopped_at is None)


def _reuses_id(finished: ChargingSession, event: TransactionEventReport) -> bool:
    """A Started after the transaction of that id had ended: the charger counts its ids
    again (some restart from 1 after a reset), so this is a new transaction."""
    return (event.event_type == "Started" and finished.stopped_at is not None
            and event.timestamp >= finished.stopped_at)


def _retire_id(session: Session, station_id: int, finished: ChargingSession) -> None:
    """Free a reused charger transaction id: the old session keeps it with its own id
    appended, and its processed events are forgotten."""
    old_id = finished.charger_transaction_id
    suffix = f"~{finished.id}"
    finished.charger_transaction_id = old_id[:36 - len(suffix)] + suffix
    session.execute(delete(TransactionEvent).where(
        TransactionEvent.station_id == station_id,
        TransactionEvent.charger_transaction_id == old_id))
    session.flush()
    log.warning("transaction id %s reused by station %s after it ended; recorded as a new "
                "transaction", old_id, station_id)


def _record_processed(session: Session, station_id: int,
                      event: TransactionEventReport) -> None:
    # Written with the batch's other rows at commit: no round trip of its own.
    session.add(TransactionEvent(
        station_id=station_id, charger_transaction_id=event.charger_transaction_id,
        seq_no=event.seq_no, event_type=event.event_type,
        trigger_reason=event.trigger_reason, at=event.timestamp))


def _already_processed(session: Session, station_id: int,
                       event: TransactionEventReport) -> bool:
    """Record the event as processed; True when it already was. One statement: this runs
    for every meter-value event of every 2.0.1 charger."""
    # RETURNING, not rowcount: psycopg reports -1 for ON CONFLICT DO NOTHING either way.
    recorded = session.execute(insert_unless_present(session, TransactionEvent).values(
        station_id=station_id, charger_transaction_id=event.charger_transaction_id,
        seq_no=event.seq_no, event_type=event.event_type,
        trigger_reason=event.trigger_reason, at=event.timestamp)
        .returning(TransactionEvent.id))
    return recorded.scalar() is None


def _token_info(session: Session, charge_point_id: str, station_id: int,
                known: ChargingSession | None,
                event: TransactionEventReport) -> IdTagInfo | None:
    """idTokenInfo for the event's idToken: a token the transaction already runs under
    keeps the answer it had (an app session's token is not a card, and must not be
    turned down on its second event)."""
    if event.id_tag is None:
        return None
    if event.id_token_type in _CHARGER_DECIDED:
        return IdTagInfo(AuthorizationStatus.ACCEPTED)
    if known is not None and known.id_tag == event.id_tag and known.id_tag_status:
        return IdTagInfo(known.id_tag_status)
    if event.remote_start_id is not None:
        asked = _asking_session(session, station_id, event)
        if asked is not None and asked.id_tag == event.id_tag:
            return IdTagInfo(AuthorizationStatus.ACCEPTED)
    return charging.authorize(session, charge_point_id, event.id_tag)


def _asking_session(session: Session, station_id: int,
                    event: TransactionEventReport) -> ChargingSession | None:
    """The remote start this event answers: by its remoteStartId (our session id), else a
    start waiting on this EVSE for the same token."""
    if event.remote_start_id is not None:
        asked = session.get(ChargingSession, event.remote_start_id)
        if (asked is not None and asked.station_id == station_id
                and asked.transaction_id is None
                and asked.status in (SessionStatus.STARTING, SessionStatus.AUTHORISED)):
            return asked
        return None
    if event.id_tag is None:
        return None
    return charging.starting_session(session, session.get(Station, station_id),
                                     event.id_tag, event.evse_id)


def join_remote_start(session: Session, charge_point_id: str, remote_start_id: int,
                      charger_transaction_id: str) -> None:
    """The charger answered a remote start naming a transaction it already runs (2.0.1:
    the cable went in first): the session that asked takes that transaction over, unless
    the transaction's own event has done so already."""
    station = stations.get_station(session, charge_point_id)
    plugged = _by_charger_id(session, station.id, charger_transaction_id)
    asked = session.get(ChargingSession, remote_start_id)
    if plugged is None or asked is None or asked.id == plugged.id \
            or asked.transaction_id is not None or not asked.status.is_open:
        return
    _adopt(session, station, asked, plugged, utcnow(),
           IdTagInfo(AuthorizationStatus.ACCEPTED))


def _adopt(session: Session, station: Station, asked: ChargingSession,
           plugged: ChargingSession, at: datetime,
           info: IdTagInfo | None) -> ChargingSession:
    """The driver's remote start joins a transaction the charger began at plug-in: the
    transaction (its charger id, readings so far) moves onto the driver's session, whose
    price and payment it now runs under; the placeholder is removed."""
    if plugged.id_tag is not None:
        log.warning("%s: remote start %s names transaction %s, which already runs for %r; "
                    "left as it is", station.charge_point_id, asked.id,
                    plugged.charger_transaction_id, plugged.id_tag)
        return plugged
    session.execute(update(MeterSample).where(MeterSample.session_id == plugged.id)
                    .values(session_id=asked.id))
    adopted = {
        "connector_id": plugged.connector_id, "connector_pk": plugged.connector_pk,
        "charger_started_at": plugged.charger_started_at,
        "max_register_wh": plugged.max_register_wh, "power_w": plugged.power_w,
        "soc_percent": plugged.soc_percent, "last_sample_at": plugged.last_sample_at,
        "charger_transaction_id": plugged.charger_transaction_id,
    }
    session.delete(plugged)
    session.flush()
    for name, value in adopted.items():
        setattr(asked, name, value)
    asked.started_at = asked.charger_started_at
    asked.meter_start_wh = plugged.meter_start_wh
    asked.transaction_id = asked.id
    charging.authorise_transaction(session, station, asked, id_tag=asked.id_tag,
                                   id_tag_info=info, at=at)
    session.flush()
    return asked


def _follow_charging_state(session: Session, charge_point_id: str,
                           charging_session: ChargingSession,
                           event: TransactionEventReport) -> None:
    """2.0.1 reports charging, paused and idle in the transaction, not in the connector
    status; the plug's status follows it so drivers and the owner see the same words as
    for a 1.6 charger."""
    if event.event_type == "Ended" and event.stopped_reason == "EVDisconnected":
        return  # the cable is out: the charger's StatusNotification says Available
    status = status_for_charging_state(event.charging_state,
                                       ended=event.event_type == "Ended")
    if status is None and event.event_type == "Ended" and charging_session.connector is not None \
            and charging_session.connector.status in _CHARGING_NOW:
        # Some firmware ends with Idle and sends no StatusNotification while the car is
        # still plugged in: a plug whose transaction ended is never shown as charging.
        status = ConnectorStatus.FINISHING
    if status is None or charging_session.connector_id is None:
        return
    if event.trigger_reason in _PERIODIC and \
            session_status_for_connector(status) == charging_session.status:
        return  # meter-value events repeat the state; spare them the plug's lookup
    if status == ConnectorStatus.PREPARING and charging_session.id_tag is not None \
            and charging_session.energy_wh > 0:
        status = ConnectorStatus.FINISHING
    plug = charging_session.connector
    if plug is not None and plug.status == status:
        return  # most events repeat the state; history keeps changes only
    status_service.record_status(session, charge_point_id, charging_session.connector_id,
                                 status, "NoError", event.timestamp)


def _begin_register(event: TransactionEventReport) -> int | None:
    return _register(event, "Transaction.Begin")


def _end_register(event: TransactionEventReport) -> int | None:
    return _register(event, "Transaction.End")


def _register(event: TransactionEventReport, context: str) -> int | None:
    """The energy register reading of ``context`` in the event, in Wh, if it has one."""
    for reading in event.readings:
        for raw in reading.sampled_values:
            if raw.get("context") == context and raw.get("phase") is None and \
                    (raw.get("measurand") or "Energy.Active.Import.Register") \
                    == "Energy.Active.Import.Register":
                try:
                    sample = normalise(reading.timestamp, **raw)
                except (MeterValueError, TypeError):
                    continue
                return int(round(sample.value))
    return None
