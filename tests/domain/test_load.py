"""The load allocator: a site's connection shared fairly, per phase, under every limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voltspot.domain.load import (
    UNLIMITED,
    Allocation,
    Node,
    PauseReason,
    Plug,
    Previous,
    Site,
    allocate,
    amps_to_kw,
    kw_to_amps,
    phase_limits,
)

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
TOLERANCE = 1e-6


def started(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def three_phase(amps: float) -> tuple[float, float, float]:
    return (amps, amps, amps)


def flat_site(limit: float, plugs: list[Plug], **settings_) -> Site:
    """One site node with one station per plug, no station caps."""
    stations = tuple(Node(f"station-{plug.id}", plugs=(plug,)) for plug in plugs)
    return Site(root=Node("site", three_phase(limit), children=stations), **settings_)


def car(plug_id: str, minute: int = 0, **kwargs) -> Plug:
    kwargs.setdefault("max_amps", 32.0)
    return Plug(plug_id, session_started_at=started(minute), **kwargs)


# --- trees for the properties -------------------------------------------------------------

_ids = count()
limits = st.one_of(
    st.just(UNLIMITED),
    st.floats(0, 120).map(three_phase),
    st.tuples(st.floats(0, 120), st.floats(0, 120), st.floats(0, 120)),
)


@st.composite
def plugs(draw) -> Plug:
    phase_set = draw(st.sampled_from([(0, 1, 2), (0,), (1,), (2,)]))
    return Plug(
        id=f"plug-{next(_ids)}",
        max_amps=draw(st.sampled_from([6.0, 10.0, 16.0, 32.0])),
        phases=phase_set,
        priority=draw(st.integers(0, 2)),
        charging=draw(st.booleans() | st.just(True)),
        session_started_at=started(draw(st.integers(0, 600))),
    )


@st.composite
def stations(draw) -> Node:
    return Node(
        f"station-{next(_ids)}",
        limit_amps=draw(limits),
        plugs=tuple(draw(st.lists(plugs(), min_size=1, max_size=3))),
    )


def circuits(depth: int):
    children = stations() if depth == 0 else st.one_of(stations(), circuits(depth - 1))

    @st.composite
    def build(draw) -> Node:
        return Node(
            f"circuit-{next(_ids)}",
            limit_amps=draw(limits),
            children=tuple(draw(st.lists(children, min_size=1, max_size=4))),
        )

    return build()


sites = st.builds(
    Site,
    root=circuits(2),
    min_amps=st.sampled_from([6.0, 8.0]),
    margin_amps=st.sampled_from([0.0, 2.0]),
)


def load_per_node(site: Site, allocation: Allocation) -> dict[str, list[float]]:
    totals: dict[str, list[float]] = {}

    def walk(node: Node) -> list[float]:
        total = [0.0, 0.0, 0.0]
        for plug in node.plugs:
            for phase in plug.phases:
                total[phase] += allocation.amps(plug.id)
        for child in node.children:
            for phase, value in enumerate(walk(child)):
                total[phase] += value
        totals[node.id] = total
        return total

    walk(site.root)
    return totals


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(sites)
def test_no_node_of_the_tree_is_ever_above_its_limit_on_any_phase(site):
    allocation = allocate(site)
    totals = load_per_node(site, allocation)
    for node in site.root.all_nodes():
        limit = list(node.limit_amps)
        if node is site.root:
            limit = [value - site.margin_amps for value in limit]
        for phase in range(3):
            assert totals[node.id][phase] <= max(limit[phase], 0.0) + TOLERANCE


@settings(max_examples=150, deadline=None)
@given(sites)
def test_every_charging_car_gets_the_floor_or_is_paused(site):
    allocation = allocate(site)
    for plug in site.root.all_plugs():
        if not plug.charging:
            assert plug.id not in allocation.plugs
            continue
        entry = allocation.plugs[plug.id]
        if entry.paused:
            assert entry.amps == 0
            assert entry.reason is PauseReason.NO_ROOM
        else:
            assert entry.amps >= site.min_amps - TOLERANCE
            assert entry.amps <= max(plug.max_amps, site.min_amps) + TOLERANCE


@settings(max_examples=150, deadline=None)
@given(sites)
def test_equal_cars_behind_the_same_fuses_get_within_one_amp_of_each_other(site):
    allocation = allocate(site)
    for node in site.root.all_nodes():
        running = [
            plug for plug in node.plugs
            if plug.charging and not allocation.plugs[plug.id].paused
        ]
        for first in running:
            for second in running:
                if (first.phases, first.max_amps) == (second.phases, second.max_amps):
                    gap = allocation.amps(first.id) - allocation.amps(second.id)
                    assert abs(gap) <= 1.0


@settings(max_examples=200, deadline=None)
@given(
    limit=st.floats(20, 200),
    cars=st.integers(2, 8),
    drawn=st.floats(0, 5),
)
def test_current_a_car_does_not_use_goes_to_the_others(limit, cars, drawn):
    plugs_ = [car(f"c{index}", minute=index) for index in range(cars)]
    before = allocate(flat_site(limit, plugs_))
    previous = {key: Previous(entry.amps, T0) for key, entry in before.plugs.items()}
    lazy = before.plugs["c0"]
    plugs_[0] = car("c0", minute=0, drawn_amps=drawn)
    after = allocate(flat_site(limit, plugs_), previous)
    kept = max(6.0, drawn + 2.0)
    if lazy.paused or lazy.amps - drawn <= 2.0 or lazy.amps - kept < 0.5:
        return  # nothing unused to hand on
    if (lazy.amps - kept) / (cars - 1) < Site.hysteresis_amps:
        return  # each other car would rise by less than the hysteresis step: limits stay
    assert after.amps("c0") <= kept + TOLERANCE
    for index in range(1, cars):
        assert after.amps(f"c{index}") >= before.amps(f"c{index}") - TOLERANCE
    others_could_take = any(
        before.amps(f"c{index}") < 32.0 for index in range(1, cars)
    )
    if others_could_take:
        assert sum(after.amps(f"c{i}") for i in range(1, cars)) > sum(
            before.amps(f"c{i}") for i in range(1, cars)
        )


@settings(max_examples=200, deadline=None)
@given(
    cars=st.integers(1, 12),
    priorities=st.lists(st.integers(0, 2), min_size=12, max_size=12),
    limits_=st.lists(st.floats(0, 100), min_size=2, max_size=6),
)
def test_pauses_hit_the_newest_lowest_priority_cars_and_resume_in_that_order(
    cars, priorities, limits_
):
    plugs_ = [car(f"c{i}", minute=i, priority=priorities[i]) for i in range(cars)]
    order = sorted(plugs_, key=lambda plug: (-plug.priority, plug.session_started_at))
    for limit in limits_:
        allocation = allocate(flat_site(limit, plugs_))
        paused = [allocation.plugs[plug.id].paused for plug in order]
        # Once one car is paused, every car after it in the order is paused too.
        assert paused == sorted(paused)


# --- examples with exact figures ----------------------------------------------------------


def test_three_cars_on_a_32_amp_site_get_ten_point_six_each():
    site = flat_site(32, [car("a", 0), car("b", 1), car("c", 2)])
    allocation = allocate(site)
    assert [allocation.amps(plug) for plug in "abc"] == [10.6, 10.6, 10.6]
    assert sum(allocation.node_load["site"]) == pytest.approx(3 * 31.8)


def test_a_station_cap_leaves_its_share_to_the_others():
    capped = Node("small", three_phase(8), plugs=(car("a", 0),))
    free = Node("big", plugs=(car("b", 1), car("c", 2)))
    site = Site(Node("site", three_phase(40), children=(capped, free)))
    allocation = allocate(site)
    assert (allocation.amps("a"), allocation.amps("b"), allocation.amps("c")) == (8, 16, 16)


def test_a_circuit_inside_the_site_limits_its_own_stations():
    circuit = Node(
        "garage", three_phase(20),
        children=(Node("s1", plugs=(car("a", 0),)), Node("s2", plugs=(car("b", 1),))),
    )
    outside = Node("s3", plugs=(car("c", 2),))
    site = Site(Node("site", three_phase(63), children=(circuit, outside)))
    allocation = allocate(site)
    assert (allocation.amps("a"), allocation.amps("b"), allocation.amps("c")) == (10, 10, 32)


def test_single_phase_cars_on_different_phases_do_not_compete():
    plugs_ = [
        car("l1", 0, phases=(0,)),
        car("l2", 1, phases=(1,)),
        car("three", 2, phases=(0, 1, 2)),
    ]
    allocation = allocate(flat_site(20, plugs_))
    assert (allocation.amps("l1"), allocation.amps("l2"), allocation.amps("three")) == (
        10, 10, 10
    )


def test_when_the_floor_cannot_be_met_the_newest_car_pauses():
    site = flat_site(16, [car("old", 0), car("mid", 5), car("new", 9)])
    allocation = allocate(site)
    assert allocation.amps("old") == allocation.amps("mid") == 8.0
    assert allocation.plugs["new"].paused
    assert allocation.plugs["new"].reason is PauseReason.NO_ROOM


def test_a_priority_bay_keeps_charging_over_an_older_session():
    site = flat_site(10, [car("guest", 0), car("taxi", 9, priority=1)])
    allocation = allocate(site)
    assert allocation.amps("taxi") == 10
    assert allocation.plugs["guest"].paused


def test_a_charger_that_ignores_profiles_is_counted_at_full_power():
    site = flat_site(40, [car("deaf", 0, max_amps=16, controllable=False), car("ok", 1)])
    allocation = allocate(site)
    assert allocation.plugs["deaf"].amps == 16
    assert not allocation.plugs["deaf"].controllable
    assert allocation.amps("ok") == 24


def test_the_margin_and_the_buildings_own_load_come_off_the_site_limit():
    site = flat_site(
        40, [car("a", 0), car("b", 1)], margin_amps=4, other_load_amps=(10, 12, 8)
    )
    allocation = allocate(site)
    assert allocation.amps("a") == allocation.amps("b") == 12.0


def test_a_car_drawing_less_than_allowed_is_capped_near_its_draw():
    first = allocate(flat_site(32, [car("a", 0), car("b", 1)]))
    assert first.amps("a") == 16
    previous = {key: Previous(value.amps, T0) for key, value in first.plugs.items()}
    site = flat_site(32, [car("a", 0, drawn_amps=7.5), car("b", 1)])
    second = allocate(site, previous)
    assert (second.amps("a"), second.amps("b")) == (9.5, 22.5)


def test_an_increase_waits_for_the_hold_time_and_a_decrease_does_not():
    site = flat_site(32, [car("a", 0), car("b", 1)])
    previous = {"a": Previous(10, T0), "b": Previous(22, T0)}
    soon = allocate(site, previous, now=T0 + timedelta(seconds=5))
    assert (soon.amps("a"), soon.amps("b")) == (10, 16)
    assert soon.plugs["a"].target_amps == 16
    later = allocate(site, previous, now=T0 + timedelta(seconds=60))
    assert (later.amps("a"), later.amps("b")) == (16, 16)


def test_a_small_increase_is_ignored_so_the_limit_does_not_flap():
    site = flat_site(32, [car("a", 0), car("b", 1)])
    previous = {"a": Previous(15.5, T0), "b": Previous(15.5, T0)}
    allocation = allocate(site, previous, now=T0 + timedelta(hours=1))
    assert allocation.amps("a") == allocation.amps("b") == 15.5


def test_a_paused_car_resumes_only_after_the_hold_time():
    site = flat_site(32, [car("a", 0), car("b", 1)])
    previous = {"a": Previous(32, T0), "b": Previous(0, T0)}
    soon = allocate(site, previous, now=T0 + timedelta(seconds=10))
    assert soon.plugs["b"].paused and soon.plugs["b"].reason is PauseReason.HELD
    assert soon.amps("a") == 16
    later = allocate(site, previous, now=T0 + timedelta(seconds=31))
    assert later.amps("b") == 16


def test_kilowatts_convert_to_amps_per_phase_and_back():
    assert kw_to_amps(22.08, phases=3) == pytest.approx(32.0)
    assert amps_to_kw(16, phases=1) == pytest.approx(3.68)
    assert phase_limits(25, phases=1) == (25, 0, 0)
