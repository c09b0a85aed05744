"""Rows inserted in bulk (the group commit's meter samples and frame log) are stored as
``INSERT`` through the ORM stores them: each column's own conversions, defaults filled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from tests.factories import make_station
from voltspot.group_commit import insert_many
from voltspot.models import MeterSample, OcppFrame, Station


def test_rows_read_back_as_they_were_given(db):
    station = make_station(db)
    taken = datetime(2026, 12, 7, 8, 0, 1, 250000, tzinfo=UTC)
    rows = [{"station_id": None, "session_id": None, "connector_id": n, "taken_at": taken,
             "measurand": "Energy.Active.Import.Register", "value": 1000.5 + n, "unit": "Wh",
             "phase": None if n else "L1", "context": "Sample.Periodic", "location": None}
            for n in range(3)]
    with db.session() as session:
        station_id = session.scalar(select(Station.id).where(
            Station.charge_point_id == station.charge_point_id))
        for row in rows:
            row["station_id"] = station_id
        insert_many(session, MeterSample.__table__, rows)
    with db.session() as session:
        stored = session.scalars(select(MeterSample).where(
            MeterSample.station_id == station_id).order_by(MeterSample.connector_id)).all()
        assert [(s.connector_id, s.taken_at, s.value, s.phase, s.unit) for s in stored] == [
            (0, taken, 1000.5, "L1", "Wh"), (1, taken, 1001.5, None, "Wh"),
            (2, taken, 1002.5, None, "Wh")]


def test_rows_of_different_columns_are_all_stored_and_a_missing_default_is_filled(db):
    charge_point_id = f"IM-{uuid.uuid4().hex[:8]}"
    at = datetime(2020, 1, 2, 8, 0, tzinfo=UTC)
    with db.session() as session:
        insert_many(session, OcppFrame.__table__, [
            {"charge_point_id": charge_point_id, "direction": "in", "at": at, "frame": "[1]"},
            # No time given: the column's default (now) applies, as through the ORM.
            {"charge_point_id": charge_point_id, "direction": "out", "frame": "[2]"}])
    with db.session() as session:
        stored = session.scalars(select(OcppFrame).where(
            OcppFrame.charge_point_id == charge_point_id).order_by(OcppFrame.frame)).all()
        assert [(f.direction, f.frame) for f in stored] == [("in", "[1]"), ("out", "[2]")]
        assert stored[0].at == at
        assert stored[1].at is not None and stored[1].at > at
