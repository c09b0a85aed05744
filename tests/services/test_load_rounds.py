"""The load loop's rounds as it runs them: the sites' trees and plug rows kept from one
round to the next (and dropped when someone else changed them), and each site recomputed at
least every interval, a round for news counting as one."""

from __future__ import annotations

from datetime import timedelta

from tests.support.load import T0, make_load_site, offline_control, plug_loads, start_charging
from tests.support.server import own_database
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, Connector, Station
from voltspot.services.load.allocation import SiteTrees, recompute_site
from voltspot.services.load.loop import Schedule, run_round
from voltspot.services.load.settings import add_circuit, set_station_load
from voltspot.services.owner.accounts import OPERATOR

# A database of its own: the worker's shared live server runs the load job on the shared
# one, and would take rounds of this module's sites as its own.
database_url, db = own_database("load_rounds")


def _station_of(db, connector_pk: int) -> str:
    with db.session() as session:
        return session.get(Station, session.get(Connector, connector_pk).station_id
                           ).charge_point_id


def test_an_owners_new_station_cap_reaches_the_next_round_that_kept_the_tree(db):
    site_id, plugs = make_load_site(db, amps=63)
    start_charging(db, plugs[0], 30)
    for plug in (plugs[0], plugs[2]):
        set_station_load(db, OPERATOR, site_id, _station_of(db, plug), {"max_amps": "32"})
    trees = SiteTrees()
    recompute_site(db, offline_control(), site_id, now=T0, trees=trees)
    assert plug_loads(db, plugs)[plugs[0]].amps == 31.8
    set_station_load(db, OPERATOR, site_id, _station_of(db, plugs[0]), {"max_amps": "10"})
    recompute_site(db, offline_control(), site_id, now=T0 + timedelta(seconds=1), trees=trees)
    assert plug_loads(db, plugs)[plugs[0]].amps == 10


def test_an_owners_new_circuit_and_plug_priority_reach_the_next_round(db):
    site_id, plugs = make_load_site(db, amps=32)
    first = start_charging(db, plugs[0], 30)
    start_charging(db, plugs[2], 20)
    trees = SiteTrees()
    recompute_site(db, offline_control(), site_id, now=T0, trees=trees)
    circuit = add_circuit(db, OPERATOR, site_id, {"name": "Row", "amps": "10"})
    # The newer car's plug gets priority: it keeps charging when the older one pauses.
    set_station_load(db, OPERATOR, site_id, _station_of(db, plugs[0]),
                     {"circuit": str(circuit.id)})
    set_station_load(db, OPERATOR, site_id, _station_of(db, plugs[2]),
                     {"circuit": str(circuit.id), "priority-1": "5"})
    recompute_site(db, offline_control(), site_id, now=T0 + timedelta(seconds=1), trees=trees)
    loads = plug_loads(db, plugs)
    assert (loads[plugs[2]].amps, loads[plugs[0]].amps) == (10, 0)
    assert loads[plugs[0]].paused and loads[plugs[0]].session_id == first


def test_kept_plug_rows_are_not_trusted_after_another_process_ran_a_round(db):
    site_id, plugs = make_load_site(db, amps=32)
    start_charging(db, plugs[0], 30)
    ours = SiteTrees()
    recompute_site(db, offline_control(), site_id, now=T0, trees=ours)
    assert plug_loads(db, plugs)[plugs[0]].amps == 31.8
    # Another process (the job lock moved) halves the first car's limit for a second car.
    second = start_charging(db, plugs[2], 0)
    recompute_site(db, offline_control(), site_id, now=T0 + timedelta(seconds=10),
                   trees=SiteTrees())
    assert plug_loads(db, plugs)[plugs[0]].amps == 16
    with db.session() as session:
        session.get(ChargingSession, second).status = SessionStatus.COMPLETED
    # Back here, the first car gets the whole site again once its 16 A was held 30 s: the
    # rows this process kept (31.8 A) would have hidden that the stored limit is 16 A.
    recompute_site(db, offline_control(), site_id, now=T0 + timedelta(seconds=41), trees=ours)
    loads = plug_loads(db, plugs)
    assert (loads[plugs[0]].amps, loads[plugs[0]].since) == (31.8, T0 + timedelta(seconds=41))
    assert loads[plugs[2]].session_id is None


def test_every_site_gets_a_round_once_an_interval_and_news_at_once(db):
    site_id, plugs = make_load_site(db, amps=32)
    other_id, _ = make_load_site(db, amps=32)
    schedule = Schedule(every_seconds=3600)
    first = {o.site_id for o in run_round(db, offline_control(), (), schedule=schedule)}
    assert {site_id, other_id} <= first
    # Within the interval only news brings a site round again.
    assert run_round(db, offline_control(), (), schedule=schedule) == []
    again = run_round(db, offline_control(), {site_id}, schedule=schedule)
    assert [o.site_id for o in again] == [site_id]
    assert Schedule(every_seconds=0).due([site_id, other_id]) == {site_id, other_id}


def test_a_station_moved_away_and_back_has_its_rows_read_anew(db):
    site_id, plugs = make_load_site(db, amps=32)
    other_id, _ = make_load_site(db, amps=16)
    start_charging(db, plugs[2], 30)
    trees = SiteTrees()
    recompute_site(db, offline_control(), site_id, now=T0, trees=trees)
    assert plug_loads(db, plugs)[plugs[2]].amps == 31.8

    def move(to: int) -> None:
        with db.session() as session:
            session.get(Connector, plugs[2]).station.site_id = to

    move(other_id)
    recompute_site(db, offline_control(), site_id, now=T0 + timedelta(seconds=5), trees=trees)
    # The other site's own round halves the car's limit.
    recompute_site(db, offline_control(), other_id, now=T0 + timedelta(seconds=10))
    assert plug_loads(db, plugs)[plugs[2]].amps == 16
    move(site_id)
    # Back home, its 16 A held 30 s is raised: the rows kept before the move (31.8 A)
    # would have hidden the lower stored limit.
    recompute_site(db, offline_control(), site_id, now=T0 + timedelta(seconds=45), trees=trees)
    loads = plug_loads(db, plugs)
    assert (loads[plugs[2]].amps, loads[plugs[2]].since) == (31.8, T0 + timedelta(seconds=45))
