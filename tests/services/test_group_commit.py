"""Group commit: batched writes, and a bad write never costs another its data."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, func, select

from voltspot.group_commit import GroupCommitter
from voltspot.models import (
    ChargingSession,
    IdToken,
    MeterSample,
    OcppFrame,
    Station,
    utcnow,
)
from voltspot.services.charging import lifecycle
from voltspot.services.roaming.identity import Identity
from voltspot.services.station_messages import StationMessages
from voltspot.services.stations import registry


def _frames(db, charge_point_id):
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(OcppFrame).where(
            OcppFrame.charge_point_id == charge_point_id))


def _submit_together(committer: GroupCommitter, writes) -> dict[int, object]:
    """Submit ``writes`` from a thread each, at once; what each returned or raised, by
    its place in ``writes``."""
    results: dict[int, object] = {}

    def run(n, write):
        try:
            results[n] = committer.submit(write)
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[n] = error

    threads = [threading.Thread(target=run, args=(n, write)) for n, write in enumerate(writes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_submitted_writes_are_committed_before_submit_returns(db):
    committer = GroupCommitter(db)
    committer.submit(lambda s: s.add(OcppFrame(charge_point_id="GC-1", direction="in",
                                               frame="[]")))
    assert _frames(db, "GC-1") == 1


def test_a_failing_write_raises_to_its_caller_and_the_others_in_its_batch_commit(db):
    def good(n):
        def write(session):
            session.add(OcppFrame(charge_point_id="GC-2", direction="in", frame=str(n)))
            return n
        return write

    def bad(session):
        session.add(OcppFrame(charge_point_id="GC-2", direction="in", frame=None))
        session.flush()

    results = _submit_together(GroupCommitter(db),
                               [bad if n == 5 else good(n) for n in range(10)])
    assert isinstance(results.pop(5), Exception)
    assert results == {n: n for n in range(10) if n != 5}
    assert _frames(db, "GC-2") == 9


def test_a_write_that_raises_costs_its_batch_one_more_transaction_not_one_each(db):
    sessions: list[object] = []

    def write(n):
        def apply(session):
            sessions.append(session)
            if n == 3:
                raise ValueError("a charger's bad frame")
            session.add(OcppFrame(charge_point_id="GC-7", direction="in", frame=str(n)))
            return n
        return apply

    results = _submit_together(GroupCommitter(db, linger=0.5), [write(n) for n in range(8)])
    assert isinstance(results.pop(3), ValueError)
    assert results == {n: n for n in range(8) if n != 3}
    assert _frames(db, "GC-7") == 7
    # The batch, the others again without it, and the failing write alone.
    assert len(set(map(id, sessions))) == 3


def test_a_write_error_reaches_the_caller_unchanged(db):
    committer = GroupCommitter(db)

    def broken(session):
        raise ValueError("broken write")
    with pytest.raises(ValueError, match="broken write"):
        committer.submit(broken)


def test_appended_rows_are_inserted_even_when_a_write_in_their_batch_fails(db):
    committer = GroupCommitter(db)
    committer.append(OcppFrame, {"charge_point_id": "GC-3", "direction": "in", "frame": "a"})

    def bad(session):
        session.add(OcppFrame(charge_point_id="GC-3", direction="in", frame=None))
        session.flush()
    with pytest.raises(Exception):  # noqa: B017 - whichever integrity error the database raises
        committer.submit(bad)
    committer.submit(lambda session: None)
    assert _frames(db, "GC-3") == 1


def test_writes_arriving_while_the_writer_lingers_share_one_transaction(db):
    committer = GroupCommitter(db, linger=0.5)
    sessions = []

    def write(session):
        sessions.append(session)
        session.add(OcppFrame(charge_point_id="GC-5", direction="in", frame="[]"))

    threads = [threading.Thread(target=committer.submit, args=(write,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sessions) == 2
    assert sessions[0] is sessions[1]
    assert _frames(db, "GC-5") == 2


def test_a_lone_writer_is_not_kept_waiting_for_company(db):
    committer = GroupCommitter(db, linger=1.0)
    committer.submit(lambda session: None)  # may wait for company: nothing showed yet
    started = time.monotonic()
    for _ in range(3):
        committer.submit(lambda session: None)
    assert time.monotonic() - started < 1.0  # three lingers would take 3 s


def test_writers_that_come_together_again_after_a_lone_one_share_a_batch(db):
    committer = GroupCommitter(db, linger=0.5)
    committer.submit(lambda session: None)
    committer.submit(lambda session: None)  # alone: the next batch will not linger
    sessions = []
    first_in = threading.Event()

    def write(session):
        sessions.append(session)
        first_in.set()
        time.sleep(0.2)  # the second writer arrives while this batch commits

    first = threading.Thread(target=committer.submit, args=(write,))
    first.start()
    first_in.wait(5)
    seconds = [threading.Thread(target=committer.submit, args=(write,)) for _ in range(2)]
    for thread in seconds:
        thread.start()
    for thread in [first, *seconds]:
        thread.join()
    assert len(sessions) == 3
    assert sessions[1] is sessions[2]


def test_a_batch_reads_ahead_once_for_all_the_keys_of_its_writes(db):
    committer = GroupCommitter(db, linger=0.5)
    prepared: list[list[str]] = []
    seen: list[object] = []

    def prepare(session, keys):
        prepared.append(sorted(keys))
        session.info["read ahead"] = sorted(keys)

    def submit(key):
        committer.submit(lambda session: seen.append(session.info["read ahead"]),
                         prepare=prepare, key=key)

    threads = [threading.Thread(target=submit, args=(key,)) for key in ("GC-A", "GC-B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert prepared == [["GC-A", "GC-B"]]
    assert seen == [["GC-A", "GC-B"], ["GC-A", "GC-B"]]


def test_a_batch_of_many_chargers_messages_reads_their_stations_in_one_query(db):
    ids = [f"GC-S{n}" for n in range(3)]
    with db.session() as session:
        for charge_point_id in ids:
            registry.register_station(session, site_name="GC", charge_point_id=charge_point_id,
                                      connectors=1, password="a-password-of-16+")
    committer = GroupCommitter(db, linger=0.5)
    statements: list[str] = []
    event.listen(db.batch_engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: statements.append(statement))
    found: dict[str, str] = {}

    def plug_count(session, charge_point_id: str) -> None:
        found[charge_point_id] = len(registry.get_station(session, charge_point_id).connectors)

    threads = [threading.Thread(target=StationMessages(cp_id, db, committer, None).run_grouped,
                                args=(plug_count,)) for cp_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([s for s in statements if "FROM stations" in s]) == 1
    assert len([s for s in statements if "FROM connectors" in s]) == 1
    assert found == dict.fromkeys(ids, 1)


def test_a_heartbeat_marks_its_station_seen_without_reading_it(db):
    with db.session() as session:
        registry.register_station(session, site_name="GC", charge_point_id="GC-HB",
                                  connectors=1, password="a-password-of-16+")
    statements: list[str] = []
    event.listen(db.batch_engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: statements.append(statement))
    StationMessages("GC-HB", db, GroupCommitter(db), None).record_seen()
    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    with db.session() as session:
        assert session.scalar(select(Station.last_seen_at).where(
            Station.charge_point_id == "GC-HB")) is not None


def test_appended_rows_ride_with_the_next_write_or_are_inserted_on_their_own(db):
    committer = GroupCommitter(db, rows_delay=0.3)
    committer.append(OcppFrame, {"charge_point_id": "GC-6", "direction": "in", "frame": "a"})
    committer.submit(lambda session: None)
    assert _frames(db, "GC-6") == 1
    committer.append(OcppFrame, {"charge_point_id": "GC-6", "direction": "out", "frame": "b"})
    deadline = time.monotonic() + 5
    while _frames(db, "GC-6") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _frames(db, "GC-6") == 2


def test_a_batch_of_meter_values_reads_its_transactions_and_inserts_its_samples_once(db):
    ids = [f"GC-M{n}" for n in range(3)]
    with db.session() as session:
        for charge_point_id in ids:
            registry.register_station(session, site_name="GC", charge_point_id=charge_point_id,
                                      connectors=1, password="a-password-of-16+")
    started = {cp_id: StationMessages(cp_id, db, GroupCommitter(db), None).run_grouped(
        lifecycle.start_transaction, connector_id=1, id_tag="GC-TAG", meter_start=0,
        timestamp=utcnow()) for cp_id in ids}
    # A writer of its own: the starts above, one at a time, would make it take the first
    # meter values for a lone writer's and commit them without waiting for the others.
    committer = GroupCommitter(db, linger=0.5)
    chargers = {cp_id: StationMessages(cp_id, db, committer, None) for cp_id in ids}
    with db.session() as session:
        station_ids = {cp_id: registry.get_station(session, cp_id).id for cp_id in ids}
    statements: list[str] = []
    event.listen(db.batch_engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: statements.append(statement))
    reading = [lifecycle.MeterReading(utcnow(), [
        {"value": "1000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}])]
    threads = [threading.Thread(target=chargers[cp_id].record_meter_values,
                                args=(1, started[cp_id].transaction_id, reading),
                                kwargs={"station_id": station_ids[cp_id]}) for cp_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([s for s in statements if "FROM charging_sessions" in s]) == 1
    assert len([s for s in statements if s.startswith("INSERT INTO meter_samples")]) == 1
    with db.session() as session:
        energy = session.scalars(select(ChargingSession.energy_wh).where(
            ChargingSession.id.in_([r.transaction_id for r in started.values()]))).all()
    assert energy == [1000, 1000, 1000]


def test_a_batch_of_starts_reads_its_stations_open_sessions_in_one_query(db):
    ids = [f"GC-O{n}" for n in range(3)]
    with db.session() as session:
        for charge_point_id in ids:
            registry.register_station(session, site_name="GC", charge_point_id=charge_point_id,
                                      connectors=1, password="a-password-of-16+")
    # The first station's last transaction never stopped (its stop was lost).
    lost = StationMessages(ids[0], db, GroupCommitter(db), None).run_grouped(
        lifecycle.start_transaction, connector_id=1, id_tag="GC-TAG", meter_start=0,
        timestamp=utcnow() - timedelta(hours=1))
    committer = GroupCommitter(db, linger=0.5)
    statements: list[str] = []
    event.listen(db.batch_engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: statements.append(statement))
    started: dict[str, lifecycle.StartResult] = {}

    def start(charge_point_id: str) -> None:
        started[charge_point_id] = StationMessages(
            charge_point_id, db, committer, None).run_grouped(
            lifecycle.start_transaction, connector_id=1, id_tag="GC-TAG", meter_start=100,
            timestamp=utcnow())

    threads = [threading.Thread(target=start, args=(cp_id,)) for cp_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The read-ahead, then each start's check that it is no repeat of one recorded.
    assert len([s for s in statements if "FROM charging_sessions" in s]) == 1 + len(ids)
    with db.session() as session:
        superseded = session.get(ChargingSession, lost.transaction_id)
        open_ones = session.scalars(select(ChargingSession.transaction_id).join(Station).where(
            Station.charge_point_id.in_(ids), ChargingSession.stopped_at.is_(None))).all()
    assert superseded.stop_reason == "SupersededByNewTransaction"
    assert sorted(open_ones) == sorted(result.transaction_id for result in started.values())


def _in_one_batch(committer: GroupCommitter, *writes) -> None:
    """Run ``writes`` (each submits to ``committer``) in this order while the writer is
    busy with a slow write, so that its next batch takes them all; wait for them."""
    threads = [threading.Thread(target=committer.submit, args=(lambda _: time.sleep(0.5),))]
    threads += [threading.Thread(target=write) for write in writes]
    for thread in threads:
        thread.start()
        time.sleep(0.1)  # queued in order
    for thread in threads:
        thread.join()


def _card_and_stations(db, prefix: str, count: int) -> list[str]:
    ids = [f"{prefix}{n}" for n in range(count)]
    with db.session() as session:
        session.add(IdToken(id_tag=f"{prefix}-CARD", holder_name="Group commit"))
        for charge_point_id in ids:
            registry.register_station(session, site_name="GC", charge_point_id=charge_point_id,
                                      connectors=1, password="a-password-of-16+")
    return ids


def _start(db, committer: GroupCommitter, charge_point_id: str, id_tag: str,
           timestamp: datetime) -> lifecycle.StartResult:
    return StationMessages(charge_point_id, db, committer, None).start_transaction(
        _NO_ROAMING, timeout=1.0, connector_id=1, id_tag=id_tag, meter_start=100,
        timestamp=timestamp)


_NO_ROAMING = Identity("NL", "VLT", "Voltspot", "http://127.0.0.1/ocpi")


def test_a_batch_of_starts_reads_what_they_repeat_and_numbers_their_sessions_at_once(db):
    ids = _card_and_stations(db, "GC-R", 3)
    committer = GroupCommitter(db, linger=0.5)
    statements: list[str] = []
    event.listen(db.batch_engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: statements.append(statement))
    started = {}
    now = utcnow()

    def start(charge_point_id: str) -> None:
        started[charge_point_id] = _start(db, committer, charge_point_id, "GC-R-CARD", now)

    threads = [threading.Thread(target=start, args=(cp_id,)) for cp_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # The open sessions of the stations, and the sessions any start repeats.
    assert len([s for s in statements if "FROM charging_sessions" in s]) == 2
    # On PostgreSQL the new sessions' ids come from one query, not one each.
    assert len([s for s in statements if "nextval" in s]) == (
        1 if db.engine.dialect.name == "postgresql" else 0)
    assert len({result.transaction_id for result in started.values()}) == len(ids)
    with db.session() as session:
        recorded = session.scalars(select(ChargingSession.transaction_id).join(Station).where(
            Station.charge_point_id.in_(ids))).all()
    assert sorted(recorded) == sorted(result.transaction_id for result in started.values())


def test_a_start_sent_twice_in_one_batch_is_recorded_once(db):
    (charge_point_id,) = _card_and_stations(db, "GC-T", 1)
    committer = GroupCommitter(db, linger=0)
    now = utcnow()
    answers = []
    _in_one_batch(committer, *[
        lambda: answers.append(_start(db, committer, charge_point_id, "GC-T-CARD", now))
        for _ in range(2)])
    assert len({answer.transaction_id for answer in answers}) == 1
    with db.session() as session:
        recorded = session.scalars(select(ChargingSession.id).join(Station).where(
            Station.charge_point_id == charge_point_id)).all()
    assert recorded == [answers[0].transaction_id]


def test_a_start_sent_again_after_its_batch_gets_the_same_transaction(db):
    (charge_point_id,) = _card_and_stations(db, "GC-U", 1)
    committer = GroupCommitter(db, linger=0)
    now = utcnow()
    first = _start(db, committer, charge_point_id, "GC-U-CARD", now)
    again = _start(db, committer, charge_point_id, "GC-U-CARD", now)
    later = _start(db, committer, charge_point_id, "GC-U-CARD", now + timedelta(seconds=1))
    assert again.transaction_id == first.transaction_id
    assert later.transaction_id != first.transaction_id


def test_meter_values_after_a_stop_in_the_same_batch_leave_the_stopped_session_alone(db):
    with db.session() as session:
        registry.register_station(session, site_name="GC", charge_point_id="GC-S",
                                  connectors=1, password="a-password-of-16+")
        station_id = registry.get_station(session, "GC-S").id
    committer = GroupCommitter(db, linger=0)
    messages = StationMessages("GC-S", db, committer, None)
    started = messages.run_grouped(lifecycle.start_transaction, connector_id=1,
                                   id_tag="GC-TAG", meter_start=0, timestamp=utcnow())
    # A charger that sends its last meter values without waiting for the stop's answer:
    # the batch reads the session ahead before the stop, which runs first, closes it.
    _in_one_batch(committer, lambda: committer.submit(
        lambda session: lifecycle.stop_transaction(
            session, "GC-S", transaction_id=started.transaction_id, meter_stop=500,
            timestamp=utcnow())), lambda: messages.record_meter_values(
        1, started.transaction_id, [lifecycle.MeterReading(utcnow(), [
            {"value": "2000", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}])],
        station_id=station_id))
    with db.session() as session:
        charging = session.get(ChargingSession, started.transaction_id)
        samples = session.scalar(select(func.count()).select_from(MeterSample).where(
            MeterSample.session_id == started.transaction_id))
    assert charging.stopped_at is not None
    assert charging.energy_wh == 500
    assert samples == 1


def test_a_reconnect_and_the_old_sockets_close_in_one_batch_leave_the_station_online(db):
    with db.session() as session:
        registry.register_station(session, site_name="GC", charge_point_id="GC-R",
                                  connectors=1, password="a-password-of-16+")
    committer = GroupCommitter(db, linger=0)
    registry.connect(committer, "GC-R", "old", "1.6")
    # The reconnect and then the old socket's close, in one batch.
    _in_one_batch(committer, lambda: registry.connect(committer, "GC-R", "new", "1.6"),
                  lambda: registry.disconnect(committer, "GC-R", "old"))
    with db.session() as session:
        station = registry.get_station(session, "GC-R")
        assert (station.connected, station.connection_id) == (True, "new")
