"""The limit a remote start carries: the allocator's figure for the arriving car, no more
than the other cars leave free while they still hold their limits."""

from __future__ import annotations

from tests.support.load import T0, make_load_site, offline_control, plug_loads, start_charging
from tests.support.server import own_database
from voltspot.db import Database
from voltspot.models import PlugLoad, SiteLoadSettings
from voltspot.services.load.allocation import recompute_site, start_limit, trees_of
from voltspot.services.load.intents import LimitPurpose

# A database of its own: the worker's shared live server runs the load job on the shared
# one, and would take rounds of this module's sites as its own.
database_url, db = own_database("load_start")


def _applied(db, connector_pk: int, amps: float) -> None:
    """As when the charger accepted the round's limit."""
    with db.session() as session:
        row = session.get(PlugLoad, connector_pk)
        row.applied_amps, row.applied_at = amps, T0


def test_an_arriving_car_gets_its_share_of_what_the_others_leave_free(db):
    site_id, plugs = make_load_site(db, amps=63)
    start_charging(db, plugs[0], 30)
    recompute_site(db, offline_control(), site_id, now=T0)
    _applied(db, plugs[0], 31.8)
    limit = start_limit(db, plugs[2], now=T0)
    # Its fair share is 31.5 A, but the first car holds 31.8 A of 63 A until lowered.
    assert (limit.purpose, limit.amps, limit.plug, limit.charger_transaction_id) == (
        LimitPurpose.TRANSACTION, 31.2, 1, None)
    # A what-if: nothing stored changed.
    assert plug_loads(db, plugs)[plugs[0]].amps == 31.8
    assert plug_loads(db, plugs)[plugs[2]].session_id is None


def test_an_arriving_car_waits_at_zero_when_the_others_hold_the_whole_site(db):
    site_id, plugs = make_load_site(db, amps=32)
    start_charging(db, plugs[0], 30)
    recompute_site(db, offline_control(), site_id, now=T0)
    _applied(db, plugs[0], 31.8)
    assert start_limit(db, plugs[1], now=T0).amps == 0


def test_no_limit_goes_with_a_start_on_an_offline_charger(db):
    site_id, plugs = make_load_site(db, amps=32, connected=False)
    assert start_limit(db, plugs[0], now=T0) is None


def test_no_limit_goes_with_a_start_where_load_is_not_managed(db):
    site_id, plugs = make_load_site(db, amps=32)
    with db.session() as session:
        session.get(SiteLoadSettings, site_id).enabled = False
    assert start_limit(db, plugs[0], now=T0) is None


def test_the_load_loops_kept_trees_give_a_start_the_same_limit(db, database_url):
    site_id, plugs = make_load_site(db, amps=63)
    start_charging(db, plugs[0], 30)
    recompute_site(db, offline_control(), site_id, now=T0, trees=trees_of(db))
    _applied(db, plugs[0], 31.8)
    recompute_site(db, offline_control(), site_id, now=T0, trees=trees_of(db))
    elsewhere = Database(database_url)
    try:
        assert start_limit(db, plugs[2], now=T0) == start_limit(elsewhere, plugs[2], now=T0)
    finally:
        elsewhere.dispose()
    assert start_limit(db, plugs[2], now=T0).amps == 31.2
