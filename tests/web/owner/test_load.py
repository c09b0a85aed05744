"""The owner's load page: the site's limit editor and the live view of its plugs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.support.load import T0, make_load_site, offline_control, start_charging
from tests.support.owner import csrf_of
from voltspot.models import (
    Connector,
    LoadCircuit,
    PlugLoad,
    Site,
    SiteLoadSample,
    SiteLoadSettings,
    StationLoadSettings,
    utcnow,
)
from voltspot.services.load.allocation import recompute_site


def _own(db, site_id: int, owner_id: int) -> None:
    with db.session() as session:
        session.get(Site, site_id).owner_id = owner_id


def test_an_owner_sets_the_limit_in_kilowatts_and_sees_it_in_amps(signed_in, owner, db):
    site_id, _ = make_load_site(db, amps=32)
    _own(db, site_id, owner.id)
    response = signed_in.post(f"/owner/sites/{site_id}/load", data={
        "unit": "kW", "kw": "40", "phases": "3", "margin": "2", "min_amps": "6",
        "csrf_token": csrf_of(signed_in)})
    assert response.status_code == 302
    page = signed_in.get(f"/owner/sites/{site_id}/load").get_data(as_text=True)
    assert "57.9 A × 3 phases (40.0 kW), 2 A margin" in page
    with db.session() as session:
        stored = session.get(SiteLoadSettings, site_id)
        assert (stored.limit_amps, stored.limit_kw, stored.margin_amps) == (57.9, 40.0, 2.0)


def test_a_limit_that_is_not_a_number_is_refused_in_one_sentence(signed_in, owner, db):
    site_id, _ = make_load_site(db, amps=32)
    _own(db, site_id, owner.id)
    response = signed_in.post(f"/owner/sites/{site_id}/load", data={
        "unit": "A", "amps": "lots", "phases": "3", "csrf_token": csrf_of(signed_in)})
    assert response.status_code == 422
    assert "the limit in amps must be a number" in response.get_data(as_text=True)


def test_the_live_view_shows_each_cars_share_and_who_is_paused_and_why(signed_in, owner, db):
    site_id, plugs = make_load_site(db, amps=16)
    _own(db, site_id, owner.id)
    for minutes_ago, plug in zip((30, 20, 10), plugs, strict=False):
        start_charging(db, plug, minutes_ago)
    recompute_site(db, offline_control(), site_id, now=T0)
    fragment = signed_in.get(f"/owner/sites/{site_id}/load",
                             headers={"HX-Request": "true", "HX-Target": "site-load"})
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="site-load"')
    assert text.count('data-paused="yes"') == 1
    assert "no room for the minimum current; resumes when a car leaves" in text
    assert "(8 A)" in text


def test_another_owners_site_load_can_be_neither_seen_nor_changed(signed_in, other_owner, db):
    site_id, _ = make_load_site(db, amps=32)
    _own(db, site_id, other_owner.id)
    assert signed_in.get(f"/owner/sites/{site_id}/load").status_code == 404
    response = signed_in.post(f"/owner/sites/{site_id}/load", data={
        "unit": "A", "amps": "100", "phases": "3", "csrf_token": csrf_of(signed_in)})
    assert response.status_code == 404
    with db.session() as session:
        assert session.scalar(select(SiteLoadSettings.limit_amps).where(
            SiteLoadSettings.site_id == site_id)) == 32


def test_an_owner_puts_a_station_in_a_circuit_with_a_cap_and_a_priority_bay(
        signed_in, owner, db):
    site_id, plugs = make_load_site(db, amps=63)
    _own(db, site_id, owner.id)
    response = signed_in.post(f"/owner/sites/{site_id}/load/circuits", data={
        "name": "Garage level -1", "amps": "25", "phases": "3",
        "csrf_token": csrf_of(signed_in)})
    assert response.status_code == 302
    with db.session() as session:
        circuit = session.scalar(select(LoadCircuit).where(LoadCircuit.site_id == site_id))
        station = session.get(Connector, plugs[0]).station
        charge_point_id, station_id = station.charge_point_id, station.id
    response = signed_in.post(f"/owner/sites/{site_id}/load/stations/{charge_point_id}", data={
        "max_amps": "16", "circuit": str(circuit.id), "stack_level_zero_only": "on",
        "priority-1": "2", "priority-2": "0", "csrf_token": csrf_of(signed_in)})
    assert response.status_code == 302
    with db.session() as session:
        extra = session.get(StationLoadSettings, station_id)
        assert (extra.max_amps, extra.circuit_id, extra.stack_level_zero_only,
                extra.rejects_profiles) == (16.0, circuit.id, True, False)
        assert session.get(PlugLoad, plugs[0]).priority == 2
    page = signed_in.get(f"/owner/sites/{site_id}/load").get_data(as_text=True)
    assert "Garage level -1 (25 A)" in page


def test_a_circuit_of_another_site_cannot_be_chosen(signed_in, owner, db):
    site_id, plugs = make_load_site(db, amps=63)
    other_site, _ = make_load_site(db, amps=63)
    _own(db, site_id, owner.id)
    _own(db, other_site, owner.id)
    signed_in.post(f"/owner/sites/{other_site}/load/circuits", data={
        "name": "Elsewhere", "amps": "25", "csrf_token": csrf_of(signed_in)})
    with db.session() as session:
        foreign = session.scalar(select(LoadCircuit.id).where(LoadCircuit.site_id == other_site))
        charge_point_id = session.get(Connector, plugs[0]).station.charge_point_id
    response = signed_in.post(f"/owner/sites/{site_id}/load/stations/{charge_point_id}", data={
        "circuit": str(foreign), "csrf_token": csrf_of(signed_in)})
    assert response.status_code == 422
    assert "pick one of this site&#39;s circuits" in response.get_data(as_text=True)


def test_the_page_charts_the_days_power_against_the_limit(signed_in, owner, db):
    site_id, _ = make_load_site(db, amps=32)
    _own(db, site_id, owner.id)
    now = utcnow().replace(second=0, microsecond=0)
    with db.session() as session:
        for minutes, drawn in ((90, 11000), (60, 20000), (30, 15000)):
            session.add(SiteLoadSample(site_id=site_id, at=now - timedelta(minutes=minutes),
                                       limit_w=22080, allocated_w=22000, drawn_w=drawn))
    page = signed_in.get(f"/owner/sites/{site_id}/load").get_data(as_text=True)
    assert "peak drawn 20.0 kW" in page
    assert page.count("<polyline") == 3
