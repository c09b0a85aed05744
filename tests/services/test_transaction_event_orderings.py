"""OCPP 2.0.1 TransactionEvents in every order a charger sends them, folded into sessions
by the service itself against a real database, with no server or socket: in order, the
Started lost or late, replays by seqNo, offline queues, a reused transaction id.

The live-server tests in tests/ocpp/ cover the same orderings over the wire; these pin the
service's rules down one behaviour at a time and run in milliseconds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import RegisteredStation, make_card
from voltspot.domain.meter import ENERGY_REGISTER
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, MeterSample, Station
from voltspot.services.charging.lifecycle import MeterReading
from voltspot.services.charging.transactions import (
    EventAnswer,
    TransactionEventReport,
    record_transaction_event,
)

START = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def _event(event_type: str, transaction_id: str, seq_no: int, trigger: str, *,
           minutes: float = 0, energy_wh: int | None = None, context: str | None = None,
           **fields: object) -> TransactionEventReport:
    """An event ``minutes`` after START on EVSE 1, with an energy register reading when
    ``energy_wh`` is given (context: Transaction.Begin for Started, Transaction.End for
    Ended, else Sample.Periodic, unless ``context`` says otherwise)."""
    at = START + timedelta(minutes=minutes)
    readings = []
    if energy_wh is not None:
        context = context or {"Started": "Transaction.Begin",
                              "Ended": "Transaction.End"}.get(event_type, "Sample.Periodic")
        readings.append(MeterReading(at, [{"value": str(energy_wh), "unit": "Wh",
                                           "measurand": ENERGY_REGISTER, "context": context}]))
    fields.setdefault("evse_id", 1)
    return TransactionEventReport(event_type=event_type, timestamp=at, trigger_reason=trigger,
                                  seq_no=seq_no, charger_transaction_id=transaction_id,
                                  readings=readings, **fields)


def _record(db, station: RegisteredStation, event: TransactionEventReport) -> EventAnswer:
    """What the 2.0.1 handler does with one event: the service, in a transaction."""
    with db.session() as session:
        return record_transaction_event(session, station.charge_point_id, event)


def _sessions(db, station: RegisteredStation) -> list[ChargingSession]:
    with db.session() as session:
        return list(session.scalars(select(ChargingSession).join(Station).where(
            Station.charge_point_id == station.charge_point_id).order_by(ChargingSession.id)))


def _periodic_samples(db, charging_session: ChargingSession) -> int:
    with db.session() as session:
        return session.scalar(select(func.count(MeterSample.id)).where(
            MeterSample.session_id == charging_session.id,
            MeterSample.context == "Sample.Periodic"))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@pytest.fixture
def transaction_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def card(db) -> str:
    return make_card(db)


def _started(transaction_id: str, card: str, *, energy_wh: int = 1000,
             **fields: object) -> TransactionEventReport:
    return _event("Started", transaction_id, 0, "Authorized", energy_wh=energy_wh, id_tag=card,
                  id_token_type="ISO14443", charging_state="Charging", **fields)


def _updated(transaction_id: str, seq_no: int, minutes: float, energy_wh: int
             ) -> TransactionEventReport:
    return _event("Updated", transaction_id, seq_no, "MeterValuePeriodic", minutes=minutes,
                  energy_wh=energy_wh, charging_state="Charging")


def _ended(transaction_id: str, seq_no: int, minutes: float, energy_wh: int
           ) -> TransactionEventReport:
    return _event("Ended", transaction_id, seq_no, "EVCommunicationLost", minutes=minutes,
                  energy_wh=energy_wh, stopped_reason="EVDisconnected")


def test_started_updated_ended_in_order_record_one_completed_session(db, station,
                                                                      transaction_id, card):
    started = _record(db, station, _started(transaction_id, card))
    _record(db, station, _updated(transaction_id, 1, 10, 4000))
    _record(db, station, _ended(transaction_id, 2, 20, 5500))
    recorded, = _sessions(db, station)
    assert str(started.id_tag_info.status) == "Accepted"
    assert (recorded.id_tag, recorded.status, recorded.energy_wh, recorded.stop_reason) == (
        card, SessionStatus.COMPLETED, 4500, "EVDisconnected")
    assert _utc(recorded.stopped_at) == START + timedelta(minutes=20)


def test_only_the_ended_event_answers_a_total_cost(db, station, transaction_id, card):
    answers = [_record(db, station, _started(transaction_id, card)),
               _record(db, station, _updated(transaction_id, 1, 10, 4000)),
               _record(db, station, _ended(transaction_id, 2, 20, 5500))]
    assert [answer.cost for answer in answers] == [None, None, 0]


def test_an_event_replayed_with_the_same_seq_no_is_counted_once(db, station, transaction_id,
                                                                card):
    _record(db, station, _started(transaction_id, card))
    first = _record(db, station, _updated(transaction_id, 1, 10, 3000))
    again = _record(db, station, _updated(transaction_id, 1, 10, 3000))
    recorded, = _sessions(db, station)
    assert (first.replayed, again.replayed) == (False, True)
    assert _periodic_samples(db, recorded) == 1
    assert recorded.energy_wh == 2000


def test_a_replayed_ended_does_not_end_the_session_twice(db, station, transaction_id, card):
    _record(db, station, _started(transaction_id, card))
    _record(db, station, _ended(transaction_id, 1, 20, 5000))
    again = _record(db, station, _ended(transaction_id, 1, 20, 5000))
    recorded, = _sessions(db, station)
    assert again.replayed
    assert (recorded.status, recorded.energy_wh) == (SessionStatus.COMPLETED, 4000)
    assert _utc(recorded.stopped_at) == START + timedelta(minutes=20)


def test_an_ended_numbered_like_an_earlier_event_still_ends_the_open_session(
        db, station, transaction_id, card):
    # Some chargers number a transaction's events from 0 again after a reboot.
    _record(db, station, _started(transaction_id, card))
    _record(db, station, _updated(transaction_id, 1, 10, 2000))
    _record(db, station, _ended(transaction_id, 1, 20, 3500))
    recorded, = _sessions(db, station)
    assert (recorded.status, recorded.energy_wh) == (SessionStatus.COMPLETED, 2500)


def test_an_updated_whose_started_was_lost_opens_the_session(db, station, transaction_id):
    _record(db, station, _updated(transaction_id, 3, 10, 3000))
    opened, = _sessions(db, station)
    assert opened.stopped_at is None and opened.charger_transaction_id == transaction_id


def test_an_ended_after_an_updated_whose_started_was_lost_bills_from_the_first_reading(
        db, station, transaction_id):
    _record(db, station, _updated(transaction_id, 3, 10, 3000))
    _record(db, station, _ended(transaction_id, 4, 20, 4200))
    closed, = _sessions(db, station)
    assert (closed.status, closed.energy_wh, closed.stop_reason) == (
        SessionStatus.COMPLETED, 1200, "EVDisconnected")


def test_an_ended_whose_started_was_lost_is_recorded_closed(db, station, transaction_id):
    answer = _record(db, station, _ended(transaction_id, 7, 20, 9000))
    recorded, = _sessions(db, station)
    assert (recorded.status, recorded.stop_reason) == (SessionStatus.COMPLETED,
                                                       "EVDisconnected")
    assert answer.cost == 0


def test_a_started_arriving_after_its_ended_opens_no_second_session(db, station,
                                                                    transaction_id, card):
    _record(db, station, _ended(transaction_id, 2, 20, 5500))
    _record(db, station, _started(transaction_id, card))
    recorded, = _sessions(db, station)
    assert recorded.status == SessionStatus.COMPLETED
    assert _utc(recorded.stopped_at) == START + timedelta(minutes=20)


def test_offline_events_sent_late_are_applied_at_their_own_times(db, station, transaction_id,
                                                                 card):
    _record(db, station, _started(transaction_id, card))
    for event in [_updated(transaction_id, 1, 10, 2000), _updated(transaction_id, 2, 20, 4000),
                  _ended(transaction_id, 3, 25, 5000)]:
        _record(db, station, event)
    recorded, = _sessions(db, station)
    assert (recorded.status, recorded.energy_wh) == (SessionStatus.COMPLETED, 4000)
    assert _utc(recorded.stopped_at) == START + timedelta(minutes=25)
    assert _utc(recorded.last_sample_at) == START + timedelta(minutes=25)
    assert _periodic_samples(db, recorded) == 2


def test_an_offline_queue_replayed_in_full_after_a_reconnect_is_counted_once(
        db, station, transaction_id, card):
    _record(db, station, _started(transaction_id, card))
    queued = [_updated(transaction_id, 1, 10, 2000), _updated(transaction_id, 2, 20, 4000),
              _ended(transaction_id, 3, 25, 5000)]
    for event in queued[:2]:
        _record(db, station, event)
    answers = [_record(db, station, event) for event in queued]
    recorded, = _sessions(db, station)
    assert [answer.replayed for answer in answers] == [True, True, False]
    assert _periodic_samples(db, recorded) == 2
    assert (recorded.status, recorded.energy_wh) == (SessionStatus.COMPLETED, 4000)


def test_a_transaction_id_reused_after_its_end_starts_a_new_session(db, station, card):
    _record(db, station, _started("1", card))
    _record(db, station, _ended("1", 1, 20, 4000))
    _record(db, station, _started("1", card, minutes=30, energy_wh=4000))
    _record(db, station, _updated("1", 1, 40, 4500))
    first, second = _sessions(db, station)
    assert (first.status, first.energy_wh) == (SessionStatus.COMPLETED, 3000)
    assert (second.status, second.energy_wh) == (SessionStatus.CHARGING, 500)
    assert second.charger_transaction_id == "1" and first.charger_transaction_id != "1"


def test_a_started_dated_before_the_end_of_its_id_is_not_a_reuse(db, station, card):
    _record(db, station, _started("7", card))
    _record(db, station, _ended("7", 1, 20, 4000))
    _record(db, station, _started("7", card, minutes=5))
    recorded, = _sessions(db, station)
    assert recorded.charger_transaction_id == "7"


def test_an_unknown_card_on_a_started_event_is_answered_invalid(db, station, transaction_id):
    answer = _record(db, station, _started(transaction_id, "NO-SUCH-CARD"))
    assert str(answer.id_tag_info.status) == "Invalid"
