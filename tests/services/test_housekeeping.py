"""The serving process's periodic jobs."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import func, select

from tests.factories import make_owner
from voltspot.config import load_settings
from voltspot.db import Database
from voltspot.domain.statuses import SessionStatus
from voltspot.models import (
    ChargingSession,
    OcppFrame,
    OwnerSignIn,
    Station,
    TransactionEvent,
    utcnow,
)
from voltspot.services.charging.lifecycle import new_session_token
from voltspot.services.housekeeping import Housekept, run_housekeeping
from voltspot.services.owner import signin


def _housekeeping(database_url, frames_since: int = 0, **settings) -> Housekept:
    config = load_settings({"database_url": database_url, **settings}, environ={})
    database = Database(database_url)
    try:
        return run_housekeeping(database, remote_start_timeout=config.remote_start_timeout,
                                frames_per_station=config.ocpp_log_frames_per_station,
                                frames_since=frames_since,
                                owner_idle=timedelta(minutes=config.owner_idle_minutes),
                                owner_lifetime=timedelta(hours=config.owner_session_hours))
    finally:
        database.dispose()


def _log_frames(db, charge_point_id: str, count: int) -> None:
    with db.session() as session:
        session.add_all(OcppFrame(charge_point_id=charge_point_id, direction="in",
                                  frame=f"{charge_point_id} {n}") for n in range(count))


def _frames(db, charge_point_id: str) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(OcppFrame.frame).where(
            OcppFrame.charge_point_id == charge_point_id).order_by(OcppFrame.id)))


def test_each_stations_frame_log_keeps_only_its_newest_frames(database_url, db):
    with db.session() as session:
        for n in range(30):
            session.add(OcppFrame(charge_point_id="HK-1", direction="in", frame=str(n)))
        session.add(OcppFrame(charge_point_id="HK-2", direction="in", frame="other"))
    _housekeeping(database_url, ocpp_log_frames_per_station=10)
    with db.session() as session:
        kept = session.scalars(select(OcppFrame.frame).where(
            OcppFrame.charge_point_id == "HK-1").order_by(OcppFrame.id)).all()
        other = session.scalar(select(func.count()).select_from(OcppFrame).where(
            OcppFrame.charge_point_id == "HK-2"))
    assert kept == [str(n) for n in range(20, 30)]
    assert other == 1


def test_the_trim_keeps_exactly_the_n_newest_frames_of_every_station(database_url, db):
    for charge_point_id, count in (("HK-A", 7), ("HK-B", 5), ("HK-C", 3)):
        _log_frames(db, charge_point_id, count)
    _housekeeping(database_url, ocpp_log_frames_per_station=5)
    assert _frames(db, "HK-A") == [f"HK-A {n}" for n in range(2, 7)]
    assert _frames(db, "HK-B") == [f"HK-B {n}" for n in range(5)]
    assert _frames(db, "HK-C") == [f"HK-C {n}" for n in range(3)]


def test_a_round_trims_only_the_stations_that_logged_since_the_previous_one(database_url, db):
    _log_frames(db, "HK-QUIET", 4)
    first = _housekeeping(database_url, ocpp_log_frames_per_station=10)
    _log_frames(db, "HK-BUSY", 4)
    second = _housekeeping(database_url, frames_since=first.frames_seen_up_to,
                           ocpp_log_frames_per_station=2)
    assert second.trimmed_stations == 1
    assert _frames(db, "HK-BUSY") == ["HK-BUSY 2", "HK-BUSY 3"]
    assert len(_frames(db, "HK-QUIET")) == 4


def test_a_remote_start_that_never_began_fails_after_the_timeout(database_url, db, station):
    with db.session() as session:
        station_id = session.scalar(select(Station.id).where(
            Station.charge_point_id == station.charge_point_id))
        stale = ChargingSession(token=new_session_token(), station_id=station_id,
                                status=SessionStatus.STARTING, id_tag="T",
                                requested_at=utcnow() - timedelta(minutes=5))
        fresh = ChargingSession(token=new_session_token(), station_id=station_id,
                                status=SessionStatus.STARTING, id_tag="T",
                                requested_at=utcnow())
        session.add_all([stale, fresh])
    _housekeeping(database_url, remote_start_timeout=120)
    with db.session() as session:
        assert session.get(ChargingSession, stale.id).status == SessionStatus.FAILED
        assert session.get(ChargingSession, fresh.id).status == SessionStatus.STARTING


def test_2_0_1_events_too_old_to_be_replayed_are_forgotten(database_url, db, station):
    with db.session() as session:
        station_id = session.scalar(select(Station.id).where(
            Station.charge_point_id == station.charge_point_id))
        for seq_no, age in ((0, timedelta(days=31)), (1, timedelta(days=1))):
            session.add(TransactionEvent(station_id=station_id, charger_transaction_id="T-1",
                                         seq_no=seq_no, event_type="Updated",
                                         trigger_reason="MeterValuePeriodic",
                                         at=utcnow() - age))
    _housekeeping(database_url)
    with db.session() as session:
        kept = session.scalars(select(TransactionEvent.seq_no).where(
            TransactionEvent.station_id == station_id)).all()
    assert kept == [1]


def test_owner_sign_ins_idle_too_long_or_too_old_are_deleted_and_live_ones_kept(
        database_url, db):
    owner = make_owner(db)
    idle, old, live = (signin.begin(db, owner.id) for _ in range(3))
    now = utcnow()
    with db.session() as session:
        rows = {row.token_digest: row for row in session.scalars(
            select(OwnerSignIn).where(OwnerSignIn.owner_id == owner.id))}
        rows[_digest(idle)].last_seen_at = now - timedelta(minutes=61)
        rows[_digest(old)].created_at = now - timedelta(hours=13)
        rows[_digest(old)].last_seen_at = now
    done = _housekeeping(database_url, owner_idle_minutes=60, owner_session_hours=12)
    with db.session() as session:
        kept = session.scalars(select(OwnerSignIn.token_digest).where(
            OwnerSignIn.owner_id == owner.id)).all()
    assert kept == [_digest(live)]
    assert done.expired_sign_ins >= 2


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
