"""The serving process's periodic jobs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from voltspot.config import load_settings
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, OcppFrame, Station, TransactionEvent, utcnow
from voltspot.runtime import Runtime
from voltspot.services.charging.lifecycle import new_session_token


def _housekeeping(database_url, **settings) -> None:
    runtime = Runtime(load_settings({"database_url": database_url, **settings}, environ={}))
    try:
        runtime.run_housekeeping()
    finally:
        runtime.db.dispose()


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
