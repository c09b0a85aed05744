"""Load management: a site's grid connection shared fairly among the cars charging there.

Pure rules, no Flask, no database, no sockets. The service builds a :class:`Site` tree from
the database (site → nested circuits → stations → plugs), calls :func:`allocate` and sends
the result to the chargers; everything here is deterministic for a given input.

Units: currents are amps *per phase*; a plug's allocation is the current it may draw on each
phase it uses (a three-phase car draws it on L1, L2 and L3, a single-phase car on one).

The rules, in order:

1. Plugs that ignore charging profiles (``controllable=False``) are counted at their full
   current first, so the others still fit.
2. The cars that may charge are admitted one by one, highest priority first and, within a
   priority, oldest session first, while every node of the tree can still give each admitted
   car the floor (``Site.min_amps``, 6 A by IEC 61851). The others pause at 0 A; since
   admission follows that order, they resume in it when room returns.
3. The admitted cars share what is left by water-filling (progressive filling, max-min fair):
   every car's current rises together until a car reaches its own cap or a node of the tree
   runs out on one of the phases the car uses; those cars stop, the rest keep rising.
4. A car that draws clearly less than it was allowed gets a cap of what it draws plus a
   little headroom (never below the floor), so the current it does not use goes to others.
5. With a previous allocation: decreases and pauses apply at once (always safe); increases
   and resumes wait until the plug's limit has been held ``hold_seconds`` and are at least
   ``hysteresis_amps``, so limits do not flap. Holding back an increase only leaves current
   unused, so the result stays within every limit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

PHASES = 3
NOMINAL_VOLTAGE = 230.0
ALL_PHASES: tuple[int, ...] = (0, 1, 2)
UNLIMITED: tuple[float, float, float] = (math.inf, math.inf, math.inf)
# The OCPP limits carry one decimal; allocations are rounded *down* to it so that rounding
# never pushes a sum over a limit.
STEPS_PER_AMP = 10
_EPSILON = 1e-9


def kw_to_amps(kw: float, phases: int = PHASES, voltage: float = NOMINAL_VOLTAGE) -> float:
    """The current per phase of ``kw`` kilowatts spread over ``phases`` phases."""
    if phases not in (1, 2, 3):
        raise ValueError("phases must be 1, 2 or 3")
    return kw * 1000.0 / (voltage * phases)


def amps_to_kw(amps: float, phases: int = PHASES, voltage: float = NOMINAL_VOLTAGE) -> float:
    """The power of ``amps`` per phase on ``phases`` phases, in kilowatts."""
    return amps * voltage * phases / 1000.0


def phase_limits(amps: float, phases: int = PHASES) -> tuple[float, float, float]:
    """A connection of ``amps`` on its first ``phases`` phases (the others carry nothing)."""
    if phases not in (1, 2, 3):
        raise ValueError("phases must be 1, 2 or 3")
    return tuple(amps if index < phases else 0.0 for index in range(PHASES))  # type: ignore[return-value]


class PauseReason(StrEnum):
    """Why a plug with a car gets 0 A."""

    NO_ROOM = "no_room"  # the floor cannot be met for this car; it resumes in order
    HELD = "held"  # room came back, but the pause is held to avoid flapping


@dataclass(frozen=True)
class Plug:
    """A plug with (or without) a car, as the allocator sees it.

    ``max_amps`` is what the plug (or the car) can take per phase; ``phases`` the phase
    indices it draws on. ``charging`` is False for an idle plug (it gets nothing).
    ``session_started_at`` orders pauses: newest first. ``drawn_amps`` is the highest
    per-phase current the charger last reported (None: unknown). A plug whose charger
    rejects profiles is ``controllable=False`` and counted at ``max_amps``.
    """

    id: str
    max_amps: float
    phases: tuple[int, ...] = ALL_PHASES
    priority: int = 0
    charging: bool = True
    session_started_at: datetime | None = None
    drawn_amps: float | None = None
    controllable: bool = True


@dataclass(frozen=True)
class Node:
    """A point of the tree with its own fuse: the site, a circuit or a station.

    ``limit_amps`` is the per-phase limit (``math.inf`` for none).
    """

    id: str
    limit_amps: tuple[float, float, float] = UNLIMITED
    children: tuple[Node, ...] = ()
    plugs: tuple[Plug, ...] = ()

    def all_plugs(self) -> Iterable[Plug]:
        yield from self.plugs
        for child in self.children:
            yield from child.all_plugs()

    def all_nodes(self) -> Iterable[Node]:
        yield self
        for child in self.children:
            yield from child.all_nodes()


@dataclass(frozen=True)
class Site:
    """A site's settings around its tree.

    The root's usable limit per phase is ``root.limit_amps`` less ``margin_amps`` and less
    ``other_load_amps`` (the building's own load from a site meter, or a conservative
    assumption when the meter is silent).
    """

    root: Node
    min_amps: float = 6.0
    margin_amps: float = 0.0
    other_load_amps: tuple[float, float, float] = (0.0, 0.0, 0.0)
    # A car drawing this much less than it was allowed is capped at what it draws plus
    # ``headroom_amps`` so that the rest goes to others.
    unused_threshold_amps: float = 2.0
    headroom_amps: float = 2.0
    hysteresis_amps: float = 1.0
    hold_seconds: float = 30.0


@dataclass(frozen=True)
class Previous:
    """What a plug was last given and since when (for hysteresis and the hold time)."""

    amps: float
    since: datetime


@dataclass(frozen=True)
class PlugAllocation:
    """One plug's limit: ``amps`` per phase on its phases; 0 with a reason when paused."""

    plug_id: str
    amps: float
    paused: bool = False
    reason: PauseReason | None = None
    controllable: bool = True
    # The fair target before hysteresis; ``amps`` may lag it while an increase is held.
    target_amps: float = 0.0


@dataclass(frozen=True)
class Allocation:
    """A site's allocation: one entry per charging plug, and the load per node and phase."""

    plugs: dict[str, PlugAllocation]
    node_load: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def amps(self, plug_id: str) -> float:
        entry = self.plugs.get(plug_id)
        return entry.amps if entry else 0.0


def round_down(amps: float) -> float:
    """``amps`` rounded down to the one decimal OCPP limits carry."""
    return math.floor(amps * STEPS_PER_AMP + 1e-6) / STEPS_PER_AMP


def _plug_paths(root: Node) -> dict[str, list[Node]]:
    """Each plug's chain of nodes, root first."""
    paths: dict[str, list[Node]] = {}

    def walk(node: Node, chain: list[Node]) -> None:
        chain = [*chain, node]
        for plug in node.plugs:
            paths[plug.id] = chain
        for child in node.children:
            walk(child, chain)

    walk(root, [])
    return paths


def _admission_order(plugs: Iterable[Plug]) -> list[Plug]:
    """Who keeps charging first: highest priority, then oldest session, then id."""
    never = datetime.max

    def key(plug: Plug):
        started = plug.session_started_at
        started_key = started.replace(tzinfo=None) if started is not None else never
        return (-plug.priority, started_key, plug.id)

    return sorted(plugs, key=key)


def _caps(site: Site, plugs: Iterable[Plug], previous: Mapping[str, Previous]) -> dict[str, float]:
    """Each admitted car's own ceiling: its max, or what it draws plus headroom."""
    caps: dict[str, float] = {}
    for plug in plugs:
        cap = max(plug.max_amps, site.min_amps)
        before = previous.get(plug.id)
        if (
            plug.drawn_amps is not None
            and before is not None
            and before.amps > 0
            and plug.drawn_amps < before.amps - site.unused_threshold_amps
        ):
            cap = min(cap, max(site.min_amps, plug.drawn_amps + site.headroom_amps))
        caps[plug.id] = cap
    return caps


def fair_share(
    capacity: Mapping[str, list[float]],
    caps: Mapping[str, float],
    paths: Mapping[str, list[Node]],
    phases_of: Mapping[str, tuple[int, ...]],
) -> dict[str, float]:
    """Water-filling of ``caps`` under the per-node, per-phase ``capacity`` (max-min fair).

    Every unfrozen plug rises by the same step until a plug reaches its cap or a (node,
    phase) it draws on is exhausted; the plugs stopped there freeze. Returns amps per plug.
    Each step costs the number of rising plugs plus the number of (node, phase) pairs: the
    rising count of each pair is kept up to date rather than recounted.
    """
    level = {plug_id: 0.0 for plug_id in caps}
    keys_of: dict[str, list[tuple[str, int]]] = {}
    members: dict[tuple[str, int], list[str]] = {}
    for plug_id in caps:
        keys = [(node.id, phase) for node in paths[plug_id] for phase in phases_of[plug_id]]
        keys_of[plug_id] = keys
        for key in keys:
            members.setdefault(key, []).append(plug_id)
    active = {plug_id for plug_id in caps if caps[plug_id] > _EPSILON}
    rising = dict.fromkeys(members, 0)
    for plug_id in active:
        for key in keys_of[plug_id]:
            rising[key] += 1
    used = dict.fromkeys(members, 0.0)
    while active:
        step = min(caps[plug_id] - level[plug_id] for plug_id in active)
        for key, count in rising.items():
            if count:
                node_id, phase = key
                slack = capacity[node_id][phase] - used[key]
                step = min(step, max(slack, 0.0) / count)
        for plug_id in active:
            level[plug_id] += step
        for key, count in rising.items():
            if count:
                used[key] += step * count
        frozen = {plug_id for plug_id in active if caps[plug_id] - level[plug_id] <= _EPSILON}
        for key, count in rising.items():
            node_id, phase = key
            if count and capacity[node_id][phase] - used[key] <= _EPSILON:
                frozen.update(plug_id for plug_id in members[key] if plug_id in active)
        if not frozen:  # pragma: no cover - each step saturates something by construction
            break
        active -= frozen
        for plug_id in frozen:
            for key in keys_of[plug_id]:
                rising[key] -= 1
    return level


def allocate(
    site: Site,
    previous: Mapping[str, Previous] | None = None,
    now: datetime | None = None,
) -> Allocation:
    """Share the site's connection among its charging plugs (see the module docstring).

    Guarantees, per phase and for every node of the tree: the sum of the allocations (plus
    the uncontrollable plugs at full current) never exceeds the node's limit, as long as the
    uncontrollable plugs alone fit; every controllable charging car gets at least
    ``min_amps`` or is paused at 0. ``previous`` and ``now`` enable the hysteresis and the
    hold time; without them the fair target is returned as is.
    """
    previous = previous or {}
    paths = _plug_paths(site.root)
    nodes = list(site.root.all_nodes())
    capacity: dict[str, list[float]] = {node.id: list(node.limit_amps) for node in nodes}
    root_capacity = capacity[site.root.id]
    for phase in range(PHASES):
        root_capacity[phase] -= site.margin_amps + site.other_load_amps[phase]
    charging = [plug for plug in site.root.all_plugs() if plug.charging]
    phases_of = {plug.id: plug.phases for plug in charging}

    result: dict[str, PlugAllocation] = {}
    for plug in charging:
        if not plug.controllable:
            for node in paths[plug.id]:
                for phase in plug.phases:
                    capacity[node.id][phase] -= plug.max_amps
            result[plug.id] = PlugAllocation(
                plug.id, plug.max_amps, controllable=False, target_amps=plug.max_amps
            )

    floor_left = {node_id: list(values) for node_id, values in capacity.items()}
    admitted: list[Plug] = []
    for plug in _admission_order(p for p in charging if p.controllable):
        chain = paths[plug.id]
        if all(
            floor_left[node.id][phase] + _EPSILON >= site.min_amps
            for node in chain
            for phase in plug.phases
        ):
            for node in chain:
                for phase in plug.phases:
                    floor_left[node.id][phase] -= site.min_amps
            admitted.append(plug)
        else:
            result[plug.id] = PlugAllocation(plug.id, 0.0, paused=True, reason=PauseReason.NO_ROOM)

    caps = _caps(site, admitted, previous)
    shares = fair_share(capacity, caps, paths, phases_of)
    for plug in admitted:
        target = round_down(shares[plug.id])
        result[plug.id] = _with_hysteresis(site, plug.id, target, previous.get(plug.id), now)

    node_load = {node.id: [0.0] * PHASES for node in nodes}
    for plug in charging:
        for node in paths[plug.id]:
            for phase in plug.phases:
                node_load[node.id][phase] += result[plug.id].amps
    return Allocation(
        plugs=result,
        node_load={node_id: tuple(load) for node_id, load in node_load.items()},  # type: ignore[misc]
    )


def _with_hysteresis(
    site: Site, plug_id: str, target: float, before: Previous | None, now: datetime | None
) -> PlugAllocation:
    if before is None or now is None or target <= before.amps:
        return PlugAllocation(plug_id, target, target_amps=target)
    held = (now - before.since).total_seconds() < site.hold_seconds
    if before.amps <= 0:
        if held:
            return PlugAllocation(
                plug_id, 0.0, paused=True, reason=PauseReason.HELD, target_amps=target
            )
        return PlugAllocation(plug_id, target, target_amps=target)
    if held or target - before.amps < site.hysteresis_amps:
        return PlugAllocation(plug_id, before.amps, target_amps=target)
    return PlugAllocation(plug_id, target, target_amps=target)
