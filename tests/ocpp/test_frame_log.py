"""The frame log keeps every frame a charger sends, however broken (PostgreSQL text cannot
hold NUL: one such frame must not cost the other frames of its group-commit batch)."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_station
from tests.support.raw_charger import RawCharger
from tests.support.waiting import eventually
from voltspot.models import OcppFrame


def _frames(db, charge_point_id: str) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(OcppFrame.frame).where(
            OcppFrame.charge_point_id == charge_point_id, OcppFrame.direction == "in")))


def test_a_frame_with_a_nul_byte_is_logged_and_so_is_the_rest_of_its_batch(
        server, station, db):
    other = make_station(db, connectors=1, charge_point_id=station.charge_point_id + "-n")
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as bad, \
            RawCharger(server.ws_url, other.charge_point_id, other.password) as good:
        bad.send_raw('[2, "nul-1", "Heartbeat", {}]\x00')
        good.send_raw('[2, "ok-1", "Heartbeat", {}]')
        assert bad.receive()[:3] == [4, "nul-1", "FormationViolation"]
        assert good.receive()[:2] == [3, "ok-1"]
    assert eventually(lambda: _frames(db, other.charge_point_id)) == [
        '[2, "ok-1", "Heartbeat", {}]']
    assert _frames(db, station.charge_point_id) == ['[2, "nul-1", "Heartbeat", {}]\\u0000']
