"""Recomputing a site's allocation from the database: what is stored per plug, what is
sent to which charger, and what a refusal or an unreachable charger leaves behind."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.support.load import (
    T0,
    make_load_site,
    offline_control,
    plug_loads,
    start_charging,
)
from tests.support.server import own_database
from voltspot.domain.statuses import SessionStatus
from voltspot.models import (
    ChargingSession,
    Connector,
    PlugLoad,
    Site,
    SiteLoadSample,
    StationLoadSettings,
    utcnow,
)
from voltspot.services.driver.live import live_session
from voltspot.services.load.allocation import recompute_site, sites_with_news

# A database of its own: the worker's shared live server runs the load job on the shared
# one, and would take rounds of this module's sites as its own.
database_url, db = own_database("load_allocation")


def test_the_allocation_is_stored_per_plug_and_the_newest_car_pauses(db):
    site_id, plugs = make_load_site(db, amps=16)
    for minutes_ago, plug in zip((30, 20, 10), plugs, strict=False):
        start_charging(db, plug, minutes_ago)
    outcome = recompute_site(db, offline_control(), site_id, now=T0)
    loads = plug_loads(db, plugs)
    assert [loads[p].amps for p in plugs[:3]] == [8.0, 8.0, 0.0]
    assert loads[plugs[2]].paused and loads[plugs[2]].pause_reason == "no_room"
    assert loads[plugs[3]].session_id is None
    # Each station's fallback and cap, and three transaction limits (0 A for the paused
    # car) were tried; every station is unreachable.
    assert (outcome.sent, outcome.unreachable) == (7, 7)
    assert all(loads[p].applied_amps is None for p in plugs[:3])


def test_after_a_restart_limits_come_down_at_once_and_go_up_only_after_the_hold(db):
    site_id, plugs = make_load_site(db, amps=32)
    first = start_charging(db, plugs[0], 30)
    second = start_charging(db, plugs[1], 20)
    recompute_site(db, offline_control(), site_id, now=T0)
    assert [plug_loads(db, plugs)[p].amps for p in plugs[:2]] == [16, 16]
    with db.session() as session:
        session.get(ChargingSession, second).status = SessionStatus.COMPLETED
    # Each round is a fresh start from the tables (as after a restart): the previous
    # allocation and its time come from them.
    soon = T0 + timedelta(seconds=10)
    recompute_site(db, offline_control(), site_id, now=soon)
    assert plug_loads(db, plugs)[plugs[0]].amps == 16
    recompute_site(db, offline_control(), site_id, now=T0 + timedelta(seconds=31))
    loads = plug_loads(db, plugs)
    assert (loads[plugs[0]].amps, loads[plugs[0]].session_id) == (31.8, first)
    assert loads[plugs[1]].session_id is None


def test_a_station_that_rejects_profiles_counts_at_its_full_power(db):
    site_id, plugs = make_load_site(db, amps=63)
    with db.session() as session:
        station_id = session.get(Connector, plugs[2]).station_id
        session.add(StationLoadSettings(station_id=station_id, rejects_profiles=True))
    start_charging(db, plugs[0], 30)
    start_charging(db, plugs[2], 20)
    recompute_site(db, offline_control(), site_id, now=T0)
    loads = plug_loads(db, plugs)
    # 22 kW on three phases: 31.8 A, leaving 31.1 A (rounded down) for the other car.
    assert loads[plugs[0]].amps == 31.1


def test_a_car_drawing_less_than_allowed_leaves_the_rest_to_the_other(db):
    site_id, plugs = make_load_site(db, amps=32)
    start_charging(db, plugs[0], 30, power_w=16 * 690)
    lazy = start_charging(db, plugs[1], 20)
    recompute_site(db, offline_control(), site_id, now=T0)
    with db.session() as session:
        session.get(ChargingSession, lazy).power_w = 5 * 690
    recompute_site(db, offline_control(), site_id, now=T0 + timedelta(minutes=5))
    loads = plug_loads(db, plugs)
    assert (loads[plugs[0]].amps, loads[plugs[1]].amps) == (25, 7)


def test_a_car_drawing_more_than_its_accepted_limit_is_flagged_after_a_minute(db):
    from voltspot.services.load.settings import _site_load

    site_id, plugs = make_load_site(db, amps=32)
    first = start_charging(db, plugs[0], 30, power_w=16 * 690)
    start_charging(db, plugs[1], 20, power_w=16 * 690)
    recompute_site(db, offline_control(), site_id, now=T0)
    with db.session() as session:
        # As after the charger accepted its limit, then let the car draw 20 A anyway.
        row = session.get(PlugLoad, plugs[0])
        row.applied_amps, row.applied_at = 16.0, T0
        session.get(ChargingSession, first).power_w = 20 * 690
    recompute_site(db, offline_control(), site_id, now=T0 + timedelta(seconds=15))
    assert plug_loads(db, plugs)[plugs[0]].over_limit_since == T0 + timedelta(seconds=15)
    with db.session() as session:
        session.get(PlugLoad, plugs[0]).over_limit_since = utcnow() - timedelta(seconds=30)
        view = _site_load(session, session.get(Site, site_id))
    assert not view.ignoring
    with db.session() as session:
        session.get(PlugLoad, plugs[0]).over_limit_since = utcnow() - timedelta(minutes=5)
        view = _site_load(session, session.get(Site, site_id))
    assert [(plug.connector_id, plug.drawn_amps) for plug in view.ignoring] == [(1, 20.0)]


def test_the_sites_power_is_sampled_once_a_minute_for_the_owners_chart(db):
    site_id, plugs = make_load_site(db, amps=32)
    start_charging(db, plugs[0], 30, power_w=20 * 690)
    for seconds in (0, 20, 40, 65):
        recompute_site(db, offline_control(), site_id, now=T0 + timedelta(seconds=seconds))
    with db.session() as session:
        samples = session.execute(select(
            SiteLoadSample.at, SiteLoadSample.limit_w, SiteLoadSample.allocated_w,
            SiteLoadSample.drawn_w).where(SiteLoadSample.site_id == site_id)
            .order_by(SiteLoadSample.at)).all()
    # 32 A on three phases at 230 V: 22 080 W; one car allowed 31.8 A, drawing 20 A.
    assert [tuple(sample) for sample in samples] == [
        (T0, 22080, 21942, 13800), (T0 + timedelta(minutes=1), 22080, 21942, 13800)]


def test_a_driver_is_told_the_power_shared_and_that_a_pause_resumes(db):
    from voltspot.services.load.driver import share_note

    site_id, plugs = make_load_site(db, amps=16)
    tokens = []
    for minutes_ago, plug in zip((30, 20, 10), plugs, strict=False):
        charging_id = start_charging(db, plug, minutes_ago)
        with db.session() as session:
            tokens.append(session.get(ChargingSession, charging_id).token)
    recompute_site(db, offline_control(), site_id, now=T0)
    sharing = share_note(db, tokens[0])
    assert (sharing.allowed_kw, sharing.cars, sharing.paused) == (5.5, 3, False)
    assert sharing.sentence == ("Charging at up to 5.5 kW — this site shares its power "
                                "between 3 cars.")
    paused = share_note(db, tokens[2])
    assert paused.paused and "resumes by itself" in paused.sentence
    # The driver's live page says it where it says everything Voltspot did to a session.
    assert live_session(db, tokens[0], 120).notice == sharing.sentence


def test_a_start_an_end_and_a_reconnect_are_news_for_their_site_only(db):
    site_id, plugs = make_load_site(db, amps=32)
    quiet_site, _ = make_load_site(db, amps=32)
    since = T0 - timedelta(minutes=1)
    charging = start_charging(db, plugs[0], 0)
    assert site_id in sites_with_news(db, since)
    assert quiet_site not in sites_with_news(db, since)
    recompute_site(db, offline_control(), site_id, now=T0)
    assert site_id not in sites_with_news(db, T0)
    with db.session() as session:
        session.get(ChargingSession, charging).status = SessionStatus.COMPLETED
    assert sites_with_news(db, T0) >= {site_id}
    recompute_site(db, offline_control(), site_id, now=T0)
    with db.session() as session:
        station = session.get(Connector, plugs[0]).station
        station.connected_at = T0 + timedelta(seconds=5)
    assert site_id in sites_with_news(db, T0)
