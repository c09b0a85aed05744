"""Statements run from SQL compiled once (``run_prepared``, for the updates every
charger's message makes) bind their values as ``execute`` does: each column's own
conversions, and the same rows matched."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, select, update

from tests.factories import make_station
from voltspot.db import run_prepared
from voltspot.models import Station

_STAMP = update(Station.__table__).where(
    Station.__table__.c.charge_point_id == bindparam("cp_id"),
    Station.__table__.c.last_seen_at.is_not_distinct_from(bindparam("was"))).values(
    last_seen_at=bindparam("seen_at"))


def _last_seen(db, charge_point_id: str) -> datetime | None:
    with db.session() as session:
        return session.scalar(select(Station.last_seen_at).where(
            Station.charge_point_id == charge_point_id))


def test_values_go_through_their_column_types_and_read_back_as_given(db):
    station = make_station(db)
    seen = datetime(2026, 12, 7, 8, 0, 1, 250000, tzinfo=UTC)
    was = _last_seen(db, station.charge_point_id)
    with db.session() as session:
        result = run_prepared(session.connection(), _STAMP, {
            "cp_id": station.charge_point_id, "was": was, "seen_at": seen})
        assert result.rowcount == 1
    assert _last_seen(db, station.charge_point_id) == seen


def test_the_rows_matched_are_counted(db):
    station = make_station(db)
    with db.session() as session:
        result = run_prepared(session.connection(), _STAMP, {
            "cp_id": station.charge_point_id, "was": datetime(2000, 1, 1, tzinfo=UTC),
            "seen_at": datetime(2026, 12, 7, tzinfo=UTC)})
        assert result.rowcount == 0


def test_a_value_its_column_type_refuses_is_refused(db):
    station = make_station(db)
    with db.session() as session, pytest.raises(ValueError, match="naive datetime"):
        run_prepared(session.connection(), _STAMP, {
            "cp_id": station.charge_point_id, "was": None,
            "seen_at": datetime(2026, 12, 7)})
