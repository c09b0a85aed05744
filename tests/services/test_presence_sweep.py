"""Stations a dead process left "connected" in the database are marked disconnected."""

from __future__ import annotations

from sqlalchemy import select

from voltspot.models import Station
from voltspot.services.stations.presence import sweep_gone
from voltspot.services.stations.registry import mark_connected


def _connected(db, charge_point_id: str) -> bool:
    with db.session() as session:
        return session.scalar(select(Station.connected).where(
            Station.charge_point_id == charge_point_id))


def test_a_connected_station_no_process_holds_is_marked_disconnected(db, station):
    with db.session() as session:
        mark_connected(session, station.charge_point_id, "conn-1", "1.6")
    gone = sweep_gone(db, lambda ids: {charge_point_id: None for charge_point_id in ids})
    assert station.charge_point_id in gone
    assert not _connected(db, station.charge_point_id)


def test_a_station_some_process_holds_stays_connected(db, station):
    with db.session() as session:
        mark_connected(session, station.charge_point_id, "conn-1", "1.6")
    gone = sweep_gone(db, lambda ids: {charge_point_id: "node-a" for charge_point_id in ids})
    assert station.charge_point_id not in gone
    assert _connected(db, station.charge_point_id)


def test_a_station_that_reconnected_during_the_sweep_keeps_its_new_connection(db, station):
    with db.session() as session:
        mark_connected(session, station.charge_point_id, "conn-1", "1.6")

    def reconnecting(ids):
        with db.session() as session:
            mark_connected(session, station.charge_point_id, "conn-2", "1.6")
        return {charge_point_id: None for charge_point_id in ids}

    sweep_gone(db, reconnecting)
    assert _connected(db, station.charge_point_id)
