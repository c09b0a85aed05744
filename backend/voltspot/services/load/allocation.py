"""Recompute a site's allocation from the database and apply it to its chargers.

One round for a site, in the "record intent → act → record the outcome" shape:

1. In one transaction: read the site's tree (limit, circuits, stations, plugs), the
   sessions charging there and what they draw, the site meter and the last allocation;
   compute the new allocation (:func:`voltspot.domain.load.allocate`) and store it per plug.
2. Outside any transaction: install what changed through :class:`ChargerControl`: the
   fallback (TxDefaultProfile: the site's limit divided by its plugs) and the station cap
   once per connection, and each running transaction's limit.
3. In one transaction: record what each charger answered. A charger that rejects profiles
   is marked so, and from the next round on counted at its full power; so is one that
   accepts a limit while its composite schedule (asked after a session's first limit and
   after every decrease) shows it will not keep to it. Lowered limits go out before raised
   ones, so that the sum stays within the limits while the commands go out one by one.

A site whose load management is turned off gets its limits cleared
(:func:`release_site`), so its chargers go back to full power.

A remote start carries its own transaction limit (:func:`start_limit`), so the car's first
current already keeps to the site; a car started at the charger draws at most the
fallback until the round its start brings.

Nothing needed across a restart lives in memory: the next round rebuilds everything from
the tables. The load loop keeps a copy of what rarely changes between its rounds
(:class:`SiteTrees`), never trusted past a change someone else made.
"""

from __future__ import annotations

import logging
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from voltspot.db import Database, insert_unless_present
from voltspot.domain import load as allocator
from voltspot.domain.statuses import SessionStatus
from voltspot.models import (
    ChargingSession,
    Connector,
    LoadCircuit,
    PlugLoad,
    SiteLoadSample,
    SiteLoadSettings,
    SiteMeterReading,
    Station,
    StationLoadSettings,
    utcnow,
)
from voltspot.services.charger_control import ChargerControl, ChargerError, ChargerUnreachable
from voltspot.services.errors import ServiceError
from voltspot.services.load.intents import (
    ChargingLimit,
    LimitPurpose,
    RateUnit,
    SmartChargingSettings,
)
from voltspot.services.load.rows import station_load_settings, tree_changed
from voltspot.services.messages import N_, Message, stored

log = logging.getLogger(__name__)

# Sessions whose transaction is running: they get a transaction limit.
RUNNING = (SessionStatus.CHARGING, SessionStatus.SUSPENDED)
# Stations sent their limits at the same time (each station's in order).
MAX_PARALLEL = 16
# The owner's chart shows a day; two are kept.
SAMPLES_KEPT = timedelta(days=2)
# A car drawing this much more than its charger accepted is ignoring its limit.
OVER_LIMIT_AMPS = 1.0
# Answers that say the charger will not take profiles at all (not a passing refusal).
REFUSALS = ("Rejected", "NotSupported", "NotImplemented")
# The length of the columns that keep a charger's last error for the owner's page.
ERROR_CHARACTERS = 300


@dataclass(frozen=True)
class LimitCommand:
    """One limit to send to one charger, and the plug row to record it on (None: a
    station-wide limit)."""

    charge_point_id: str
    station_id: int
    connector_pk: int | None
    limit: ChargingLimit
    # Ask the charger's composite schedule afterwards: does it really do what it accepted?
    verify: bool = False
    # It lowers a running car's limit: sent before any raise, so the sum stays within the
    # site's limit while the commands go out one by one.
    lowers: bool = False


@dataclass(frozen=True)
class RecomputeOutcome:
    """What one round did for a site: the allocation and how many limits were sent,
    accepted and refused."""

    site_id: int
    allocation: allocator.Allocation
    sent: int = 0
    accepted: int = 0
    refused: int = 0
    unreachable: int = 0
    errors: tuple[str, ...] = field(default=())


@dataclass
class _Plan:
    site: allocator.Site
    allocation: allocator.Allocation
    commands: list[LimitCommand]
    # Connected chargers whose smart-charging settings were not read since they connected.
    unread: list[tuple[int, str]]
    # The plugs' rows as this round leaves them, and the site's (tree_version,
    # computed_at) they go with: what the next round starts from (SiteTrees).
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    stamp: tuple[int, datetime] | None = None
    # With an arriving car: what every other charging car may draw until the round that
    # the start brings has lowered it (plug id → amps), and each station's load settings.
    held: dict[str, float] = field(default_factory=dict)
    station_settings: dict[int, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Arriving:
    """A car about to start on a plug, as the plan sees a running session."""

    connector_pk: int
    started_at: datetime
    id: int = -1
    power_w: float | None = None
    charger_transaction_id: str | None = None


def _update(row: object, **values: object) -> None:
    """Set only what changed: most plugs keep their limit from one round to the next."""
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def site_ids_managed(db: Database) -> list[int]:
    """The sites whose load is managed (an enabled limit is set)."""
    with db.session() as session:
        return list(session.scalars(select(SiteLoadSettings.site_id).where(
            SiteLoadSettings.enabled).order_by(SiteLoadSettings.site_id)))


def sites_with_news(db: Database, since: datetime) -> set[int]:
    """The managed sites where, since ``since``, a session started, a session with a
    limit ended, a charger (re)connected or the site meter posted: those to recompute
    without waiting for the next round. Indexed or small queries, cheap enough to ask
    every second."""
    managed = select(SiteLoadSettings.site_id).where(SiteLoadSettings.enabled)
    with db.session() as session:
        started = session.scalars(
            select(Station.site_id).join(ChargingSession, ChargingSession.station_id == Station.id)
            .where(ChargingSession.started_at > since, Station.site_id.in_(managed)))
        ended = session.scalars(
            select(PlugLoad.site_id).join(ChargingSession,
                                          ChargingSession.id == PlugLoad.session_id)
            .where(ChargingSession.status.not_in(RUNNING), PlugLoad.site_id.in_(managed)))
        connected = session.scalars(select(Station.site_id).where(
            Station.connected_at > since, Station.site_id.in_(managed)))
        metered = session.scalars(select(SiteMeterReading.site_id).where(
            SiteMeterReading.site_id.in_(managed), SiteMeterReading.taken_at > since))
        return {site_id for site_id in (*started, *ended, *connected, *metered)
                if site_id is not None}


def sites_to_release(db: Database) -> list[int]:
    """Sites whose load management is off while their chargers may still hold limits."""
    with db.session() as session:
        return list(session.scalars(
            select(SiteLoadSettings.site_id).distinct()
            .join(Station, Station.site_id == SiteLoadSettings.site_id)
            .join(StationLoadSettings, StationLoadSettings.station_id == Station.id)
            .where(~SiteLoadSettings.enabled,
                   StationLoadSettings.fallback_installed_at.is_not(None))))


def release_site(db: Database, control: ChargerControl, site_id: int) -> int:
    """Clear every limit Voltspot installed on the site's connected chargers (the site's
    load management is off) and forget its allocation. Returns how many chargers were
    cleared; one that cannot be reached is tried again next round."""
    with db.session() as session:
        due = session.execute(
            select(Station.id, Station.charge_point_id)
            .join(StationLoadSettings, StationLoadSettings.station_id == Station.id)
            .where(Station.site_id == site_id, Station.connected,
                   StationLoadSettings.fallback_installed_at.is_not(None))).all()
    cleared = []
    for station_id, charge_point_id in due:
        try:
            for purpose in (LimitPurpose.TRANSACTION, LimitPurpose.PLUG_DEFAULT,
                            LimitPurpose.STATION_MAX):
                control.clear_charging_limit(charge_point_id, purpose)
        except (ChargerUnreachable, ChargerError, ServiceError) as error:
            log.warning("load management: limits of %s not cleared: %s", charge_point_id,
                        error)
            continue
        cleared.append(station_id)
    with db.session() as session:
        for station_id in cleared:
            extra = session.get(StationLoadSettings, station_id)
            if extra is not None:
                extra.fallback_installed_at = extra.fallback_amps = None
        for row in session.scalars(select(PlugLoad).where(PlugLoad.site_id == site_id,
                                                          PlugLoad.session_id.is_not(None))):
            _update(row, session_id=None, amps=None, target_amps=None, since=None,
                    applied_amps=None, applied_at=None, paused=False, pause_reason=None)
        # The load loop's copy of the site (SiteTrees) is stale now.
        tree_changed(session, site_id=site_id)
    return len(cleared)


def recompute_site(db: Database, control: ChargerControl, site_id: int,
                   now: datetime | None = None, trees: SiteTrees | None = None
                   ) -> RecomputeOutcome:
    """One round for ``site_id`` (see the module docstring). Safe to repeat: a limit the
    charger already has is not sent again. Raises nothing for a charger's trouble: it is
    recorded on the plug or station and counted in the outcome. ``trees``: the caller's
    copy of the sites' trees, kept from round to round (the load loop's); without it, the
    tree is read from the database."""
    now = now or utcnow()
    with db.session() as session:
        plan = _plan(session, site_id, now, trees)
        if plan is not None and plan.unread:
            # Limits go out in the unit and at the stack levels the charger takes: read
            # those first, then plan again from the same state.
            session.rollback()
    if plan is not None and plan.unread:
        learn_abilities(db, control, plan.unread)
        with db.session() as session:
            plan = _plan(session, site_id, now, trees)
    if plan is None:
        return RecomputeOutcome(site_id, allocator.Allocation({}))
    if trees is not None and plan.stamp is not None:
        trees.keep_rows(site_id, plan.stamp, plan.rows)
    results = _send_all(control, plan.commands)
    sent = len(results)
    unreachable = sum(1 for _, _, kind in results if kind == "unreachable")
    refused = sum(1 for _, _, kind in results if kind in ("refused", "rejects"))
    accepted = sent - unreachable - refused
    errors = [error for _, error, kind in results if error and kind != "unreachable"]
    if results:
        recorded = [(command, error, kind == "rejects") for command, error, kind in results]
        at = utcnow()
        with db.session() as session:
            _record(session, site_id, recorded, at)
        if trees is not None:
            trees.recorded(site_id, recorded, at)
    for message in errors:
        log.warning("load management: %s", message)
    return RecomputeOutcome(site_id, plan.allocation, sent, accepted, refused, unreachable,
                            tuple(errors))


def _send_all(control: ChargerControl, commands: list[LimitCommand]
              ) -> list[tuple[LimitCommand, str | None, str]]:
    """Send ``commands``: every lowering first, then the rest; each station's in order,
    different stations at once (a charger slow to answer holds up only itself). Returns
    each command with its error (None when accepted) and its kind of outcome: "accepted",
    "unreachable", "refused" or "rejects" (the charger will not take limits at all)."""
    results: list[tuple[LimitCommand, str | None, str]] = []
    for batch in ([c for c in commands if c.lowers], [c for c in commands if not c.lowers]):
        by_station: dict[str, list[LimitCommand]] = {}
        for command in batch:
            by_station.setdefault(command.charge_point_id, []).append(command)
        if len(by_station) <= 1:
            for queue in by_station.values():
                results += _send_station(control, queue)
            continue
        with ThreadPoolExecutor(max_workers=min(len(by_station), MAX_PARALLEL),
                                thread_name_prefix="load-limits") as pool:
            for done in pool.map(lambda queue: _send_station(control, queue),
                                 by_station.values()):
                results += done
    return results


def _send_station(control: ChargerControl, commands: list[LimitCommand]
                  ) -> list[tuple[LimitCommand, str | None, str]]:
    results: list[tuple[LimitCommand, str | None, str]] = []
    for command in commands:
        try:
            outcome = control.set_charging_limit(command.charge_point_id, command.limit)
        except ChargerUnreachable as error:
            results.append((command, _said(error), "unreachable"))
            continue
        except (ChargerError, ServiceError) as error:
            results.append((command, _said(error), "rejects"))
            continue
        if not outcome.accepted:
            message = N_("station %(station)s answered %(status)s to a %(purpose)s limit of "
                         "%(amps)s A", station=command.charge_point_id,
                         status=str(outcome.status), purpose=str(command.limit.purpose),
                         amps=command.limit.amps)
            results.append((command, message,
                             "rejects" if outcome.status in REFUSALS else "refused"))
            continue
        ignored = _ignored(control, command) if command.verify else None
        results.append((command, ignored, "accepted" if ignored is None else "rejects"))
    return results


def _said(error: Exception) -> Message | str:
    """What ``error`` says, as the message it was raised with (translatable when shown)."""
    return error.args[0] if error.args and isinstance(error.args[0], str) else str(error)


def _ignored(control: ChargerControl, command: LimitCommand) -> Message | None:
    """Why the charger will not do what it accepted (its composite schedule allows more),
    or None when it will, or cannot say."""
    try:
        schedule = control.composite_schedule(command.charge_point_id, command.limit.plug,
                                              duration_s=60, unit=command.limit.unit)
    except (ChargerUnreachable, ChargerError, ServiceError):
        return None
    allows = schedule.limit_now_amps(command.limit.phases) if schedule.accepted else None
    if allows is None or allows <= command.limit.amps + OVER_LIMIT_AMPS:
        return None
    return N_("station %(station)s accepted %(amps)s A on plug %(plug)s but its schedule "
              "allows %(allows)s A: it ignores limits", station=command.charge_point_id,
              amps=command.limit.amps, plug=command.limit.plug, allows=round(allows, 1))


def start_limit(db: Database, connector_pk: int, now: datetime | None = None
                ) -> ChargingLimit | None:
    """The limit to send with a remote start on plug ``connector_pk`` (a TRANSACTION
    limit without a transaction id): what the allocator gives a car arriving there now,
    and no more than the other cars leave free while they still hold their limits (the
    round the start brings lowers them first, then raises this one). 0 A when there is
    no room: the car waits for that round. None when the plug's site is not managed or
    its charger takes no limits (offline, or rejects them). Changes nothing stored."""
    now = now or utcnow()
    with db.session() as session:
        found = session.execute(
            select(Station.site_id, Station.id, Connector.connector_id)
            .join(Connector, Connector.station_id == Station.id)
            .where(Connector.id == connector_pk)).first()
        if found is None or found.site_id is None:
            return None
        try:
            plan = _plan(session, found.site_id, now, trees_of(db), arriving=connector_pk)
            phases = session.scalar(select(SiteLoadSettings.phases).where(
                SiteLoadSettings.site_id == found.site_id))
        finally:
            # A what-if: the plugs' rows and the news stay as they were.
            session.rollback()
    if plan is None:
        return None
    entry = plan.allocation.plugs.get(str(connector_pk))
    extra = plan.station_settings.get(found.id)
    if entry is None or not entry.controllable or extra is None:
        return None
    amps = min(entry.amps, _left_for(plan.site, str(connector_pk), plan.held))
    return _limit(extra, LimitPurpose.TRANSACTION, amps, min(phases or 3, extra.phases or 3),
                  plug=found.connector_id)


def _left_for(site: allocator.Site, plug_id: str, held: dict[str, float]) -> float:
    """What ``plug_id`` may draw with every other charging car at what it ``held``."""
    def hold(node: allocator.Node) -> allocator.Node:
        return replace(node, children=tuple(hold(child) for child in node.children),
                       plugs=tuple(replace(plug, controllable=False, max_amps=held[plug.id])
                                   if plug.id in held and plug.controllable else plug
                                   for plug in node.plugs))

    return allocator.allocate(replace(site, root=hold(site.root))).amps(plug_id)


def learn_abilities(db: Database, control: ChargerControl,
                    due: list[tuple[int, str]]) -> int:
    """Read the smart-charging settings of the chargers ``due`` (station id, charge point
    id): units, stack levels, profiles held; and keep them. A charger without smart
    charging is marked as rejecting profiles. Returns how many chargers answered."""
    learned: list[tuple[int, SmartChargingSettings | None, str | None]] = []
    for station_id, charge_point_id in due:
        try:
            learned.append((station_id, control.read_smart_charging_settings(charge_point_id),
                            None))
        except ChargerUnreachable:
            continue
        except (ChargerError, ServiceError) as error:
            # Reading is optional: limits are then sent in amps at stack level 0 and 1.
            learned.append((station_id, None, _said(error)))
    if learned:
        with db.session() as session:
            now = utcnow()
            for station_id, abilities, error in learned:
                extra = station_load_settings(session, station_id)
                extra.settings_read_at = now
                tree_changed(session, station_id=station_id)
                if error is not None:
                    extra.last_error = stored(error, ERROR_CHARACTERS)
                if abilities is None:
                    continue
                extra.charging_rate_unit = abilities.unit.value
                extra.max_stack_level = abilities.max_stack_level
                extra.max_profiles_installed = abilities.max_profiles
                if not abilities.supported:
                    extra.rejects_profiles = True
                    extra.last_error = "the charger reports no smart charging"
    return len(learned)


@dataclass(frozen=True)
class _Tree:
    """What of a site's tree changes only with its ``tree_version``: each station's load
    settings (plain rows) and the circuits."""

    version: int
    station_settings: dict[int, Any]
    circuits: tuple[Any, ...]


class SiteTrees:
    """The load loop's copy, from round to round, of what only it or an owner changes.

    - Each site's tree (each station's load settings and the circuits), which changes only
      when an owner edits it or a charger says what it takes: every such writer raises
      the site's ``tree_version`` (``rows.tree_changed``) in the same transaction, and a
      round reloads the tree when the version moved.
    - The plugs' rows (priority, the last allocation, what was applied) as the last round
      committed them, good while the site's ``tree_version`` and ``computed_at`` are
      still those of that round: an owner's edit of a priority raises the version, and a
      round run by another process (the job lock moved) writes its own ``computed_at``.
      What this process records afterwards (the chargers' answers) is kept here too.

    What changes all the time (which charger is connected, the sessions and what they draw)
    is read every round. The load loop's thread keeps it up to date; a start's what-if
    (:func:`start_limit`) in the same process reads it too, and may add a tree or a plug
    it made (single dict operations, safe beside the loop).
    """

    def __init__(self) -> None:
        self._trees: dict[int, _Tree] = {}
        self._rows: dict[int, tuple[tuple[int, datetime], dict[int, dict[str, Any]]]] = {}
        # Each plug as the allocator last saw it (by connector id), with the fields it was
        # made from: a plug whose fields did not change is not made again.
        self.plugs: dict[int, tuple[tuple[Any, ...], allocator.Plug]] = {}

    def get(self, site_id: int, version: int) -> _Tree | None:
        tree = self._trees.get(site_id)
        return tree if tree is not None and tree.version == version else None

    def keep(self, site_id: int, tree: _Tree) -> None:
        self._trees[site_id] = tree

    def plug_rows(self, site_id: int, version: int, computed_at: datetime | None
                  ) -> dict[int, dict[str, Any]] | None:
        """A copy of the site's plug rows as the last round left them, or None when
        someone else may have changed them since."""
        kept = self._rows.get(site_id)
        if kept is None or kept[0] != (version, computed_at):
            return None
        return {connector_pk: dict(row) for connector_pk, row in kept[1].items()}

    def keep_rows(self, site_id: int, stamp: tuple[int, datetime],
                  rows: dict[int, dict[str, Any]]) -> None:
        self._rows[site_id] = (stamp, rows)

    def recorded(self, site_id: int, results: list[tuple[LimitCommand, str | None, bool]],
                 now: datetime) -> None:
        """What :func:`_record` wrote on the plugs' rows, on the kept copy too."""
        kept = self._rows.get(site_id)
        if kept is None:
            return
        for command, error, _ in results:
            row = kept[1].get(command.connector_pk) if command.connector_pk else None
            if row is not None:
                row["apply_error"] = None if error is None else stored(error, ERROR_CHARACTERS)
                if error is None:
                    row["applied_amps"], row["applied_at"] = command.limit.amps, now


_KEPT: weakref.WeakKeyDictionary[Database, SiteTrees] = weakref.WeakKeyDictionary()


def trees_of(db: Database) -> SiteTrees:
    """This process's kept trees of the sites in ``db`` (the load loop's)."""
    trees = _KEPT.get(db)
    if trees is None:
        trees = _KEPT.setdefault(db, SiteTrees())
    return trees


def _load_tree(session: Session, site_id: int, version: int) -> _Tree:
    settings = StationLoadSettings.__table__
    return _Tree(
        version,
        {row.station_id: row for row in session.execute(
            select(settings).join(Station, Station.id == settings.c.station_id)
            .where(Station.site_id == site_id))},
        tuple(session.execute(
            select(LoadCircuit.id, LoadCircuit.parent_id, LoadCircuit.limit_amps,
                   LoadCircuit.phases)
            .where(LoadCircuit.site_id == site_id).order_by(LoadCircuit.id))))


def _change(row: dict[str, Any], changes: dict[int, dict[str, Any]], **values: Any) -> None:
    """Set on a plug's row only what changed, and note it for the batch written at the
    end of the round: most plugs keep their limit from one round to the next."""
    for name, value in values.items():
        if row[name] != value:
            row[name] = value
            changes.setdefault(row["connector_pk"], {})[name] = value


# A round's reads, built once: joined on the site rather than listing its stations, one
# statement whatever the site's size (compiled once), no hundreds of bound parameters.
_ON_SITE = Station.site_id == bindparam("site_id")
_SETTINGS = select(SiteLoadSettings.__table__).where(
    SiteLoadSettings.__table__.c.site_id == bindparam("site_id"))
_STATIONS = select(Station.id, Station.charge_point_id, Station.connected,
                   Station.connected_at, Station.max_power_w
                   ).where(_ON_SITE).order_by(Station.id)
_CONNECTORS = select(Connector.id, Connector.station_id, Connector.connector_id,
                     Connector.max_power_w
                     ).join(Station, Station.id == Connector.station_id).where(_ON_SITE
                     ).order_by(Connector.station_id, Connector.connector_id)
_RUNNING = select(ChargingSession.id, ChargingSession.connector_pk,
                  func.coalesce(ChargingSession.started_at, ChargingSession.created_at
                                ).label("started_at"),
                  ChargingSession.power_w, ChargingSession.charger_transaction_id
                  ).join(Station, Station.id == ChargingSession.station_id).where(
    _ON_SITE, ChargingSession.status.in_(RUNNING), ChargingSession.connector_pk.is_not(None))
_PLUG_ROWS = select(PlugLoad.__table__).join(
    Connector, Connector.id == PlugLoad.__table__.c.connector_pk).join(
    Station, Station.id == Connector.station_id).where(_ON_SITE)


def _plan(session: Session, site_id: int, now: datetime, trees: SiteTrees | None = None,
          arriving: int | None = None) -> _Plan | None:
    """The round for ``site_id``: reads, allocates, stores the plugs' rows (in
    ``session``) and says what to send. ``arriving``: a plug where a car is about to
    start, counted as charging since ``now`` (the caller rolls the session back)."""
    settings = session.execute(_SETTINGS, {"site_id": site_id}).first()
    if settings is None or not settings.enabled:
        return None
    # Plain rows, and plain dicts for the plugs' rows with their changes written in one
    # batch: a round runs every few seconds for every site (bench/load_allocation.py).
    on_site = {"site_id": site_id}
    stations = session.execute(_STATIONS, on_site).all()
    tree = trees.get(site_id, settings.tree_version) if trees is not None else None
    if tree is None:
        tree = _load_tree(session, site_id, settings.tree_version)
        if trees is not None:
            trees.keep(site_id, tree)
    station_settings = tree.station_settings
    circuits = tree.circuits
    connectors = session.execute(_CONNECTORS, on_site).all()
    running: dict[int, Any] = {row.connector_pk: row
                               for row in session.execute(_RUNNING, on_site)}
    if arriving is not None and arriving not in running:
        running[arriving] = _Arriving(arriving, now)
    held: dict[str, float] = {}
    plug_loads = PlugLoad.__table__
    kept = trees.plug_rows(site_id, settings.tree_version, settings.computed_at) \
        if trees is not None else None
    rows = kept if kept is not None else {
        row.connector_pk: dict(row._mapping) for row in session.execute(_PLUG_ROWS, on_site)}
    # A station or plug new to load management gets its row; the owner's form or another
    # round may be adding the same row at this moment, so the insert yields to theirs.
    missing_stations = [station.id for station in stations if station.id not in station_settings]
    if missing_stations:
        session.execute(insert_unless_present(session, StationLoadSettings),
                        [{"station_id": station_id} for station_id in missing_stations])
        tree_changed(session, site_id=site_id)
        table = StationLoadSettings.__table__
        station_settings = {**station_settings, **{row.station_id: row for row in
                                                   session.execute(select(table).where(
                                                       table.c.station_id.in_(
                                                           missing_stations)))}}
    missing_plugs = [connector.id for connector in connectors if connector.id not in rows]
    if missing_plugs:
        session.execute(insert_unless_present(session, PlugLoad),
                        [{"connector_pk": connector_pk, "site_id": site_id}
                         for connector_pk in missing_plugs])
        rows.update((row.connector_pk, dict(row._mapping)) for row in session.execute(
            select(plug_loads).where(plug_loads.c.connector_pk.in_(missing_plugs))))
    changes: dict[int, dict[str, Any]] = {}

    by_station: dict[int, list[Any]] = {}
    for connector in connectors:
        by_station.setdefault(connector.station_id, []).append(connector)
    site_phases = settings.phases
    plug_nodes: dict[int | None, list[allocator.Node]] = {}
    previous: dict[str, allocator.Previous] = {}
    drawn_amps: dict[int, float | None] = {}
    # Most plugs are as they were last round: their Plug is reused.
    made = trees.plugs if trees is not None else {}
    for station in stations:
        extra = station_settings[station.id]
        phases = tuple(range(min(site_phases, extra.phases or 3)))
        controllable = station.connected and not extra.rejects_profiles
        plugs = []
        for connector in by_station.get(station.id, []):
            charging = running.get(connector.id)
            row = rows.get(connector.id)
            max_amps = connector.max_power_w / (allocator.NOMINAL_VOLTAGE * len(phases))
            if not station.connected and not extra.rejects_profiles and row is not None \
                    and row["applied_amps"] is not None:
                # An offline charger keeps the last limit it took.
                max_amps = min(max_amps, row["applied_amps"])
            drawn = None
            if charging is not None and charging.power_w is not None:
                drawn = charging.power_w / (allocator.NOMINAL_VOLTAGE * len(phases))
            drawn_amps[connector.id] = drawn
            if charging is not None and row is not None and row["session_id"] == charging.id \
                    and row["amps"] is not None and row["since"] is not None:
                previous[str(connector.id)] = allocator.Previous(row["amps"], row["since"])
            if arriving is not None and charging is not None and connector.id != arriving:
                # Until the start's round lowers it: the most it was allowed or took.
                known = [value for value in (
                    row["amps"] if row is not None and row["session_id"] == charging.id
                    else None, row["applied_amps"] if row is not None else None)
                    if value is not None]
                held[str(connector.id)] = max(known) if known else max_amps
            fields = (max_amps, phases, row["priority"] if row is not None else 0,
                      charging is not None,
                      charging.started_at if charging is not None else None, drawn,
                      controllable)
            known = made.get(connector.id)
            if known is None or known[0] != fields:
                # Plug's fields in order: id, max_amps, phases, priority, charging,
                # session_started_at, drawn_amps, controllable.
                known = (fields, allocator.Plug(str(connector.id), *fields))
                made[connector.id] = known
            plugs.append(known[1])
        limit = allocator.UNLIMITED if extra.max_amps is None else allocator.phase_limits(
            extra.max_amps, 3)
        plug_nodes.setdefault(extra.circuit_id, []).append(
            allocator.Node(f"station-{station.id}", limit, plugs=tuple(plugs)))

    def circuit_node(circuit: Any) -> allocator.Node:
        children = [circuit_node(child) for child in circuits if child.parent_id == circuit.id]
        return allocator.Node(
            f"circuit-{circuit.id}", allocator.phase_limits(circuit.limit_amps, circuit.phases),
            children=tuple(children + plug_nodes.get(circuit.id, [])))

    top = [circuit_node(circuit) for circuit in circuits if circuit.parent_id is None]
    root = allocator.Node(f"site-{site_id}",
                          allocator.phase_limits(settings.limit_amps, site_phases),
                          children=tuple(top + plug_nodes.get(None, [])))
    site = allocator.Site(root, min_amps=settings.min_amps, margin_amps=settings.margin_amps,
                          other_load_amps=_other_load(session, settings, now),
                          hold_seconds=settings.hold_seconds)
    allocation = allocator.allocate(site, previous, now)
    if arriving is not None:
        # A what-if for a start: nothing to send or store.
        return _Plan(site, allocation, [], [], held=held, station_settings=station_settings)

    commands: list[LimitCommand] = []
    unread = []
    stations_by_id = {station.id: station for station in stations}
    # The fallback is safe with every plug at it at once (below the 6 A a car needs, cars
    # wait for Voltspot rather than overload the site).
    plug_count = max(1, len(connectors))
    fallback = allocator.round_down(
        max(settings.limit_amps - settings.margin_amps, 0) / plug_count)
    for station in stations:
        extra = station_settings[station.id]
        if not station.connected:
            continue
        connected_at = station.connected_at or now
        if extra.settings_read_at is None or extra.settings_read_at < connected_at:
            unread.append((station.id, station.charge_point_id))
        if extra.rejects_profiles:
            continue
        phases = min(site_phases, extra.phases or 3)
        plug_limit = min(fallback, _cap(extra))
        if extra.fallback_installed_at is None or extra.fallback_installed_at < connected_at \
                or extra.fallback_amps != plug_limit:
            commands.append(LimitCommand(station.charge_point_id, station.id, None, _limit(
                extra, LimitPurpose.PLUG_DEFAULT, plug_limit, phases)))
            # The owner's cap, or the station's own maximum when there is none (which
            # undoes a cap the owner removed).
            cap = extra.max_amps if extra.max_amps is not None else allocator.round_down(
                station.max_power_w / (allocator.NOMINAL_VOLTAGE * phases))
            commands.append(LimitCommand(station.charge_point_id, station.id, None, _limit(
                extra, LimitPurpose.STATION_MAX, cap, phases)))

    for connector in connectors:
        if connector.id == arriving:
            continue
        station = stations_by_id[connector.station_id]
        row = rows[connector.id]
        _change(row, changes, site_id=site_id)
        charging = running.get(connector.id)
        entry = allocation.plugs.get(str(connector.id))
        if charging is None or entry is None:
            if row["session_id"] is not None or row["amps"] is not None:
                _change(row, changes, session_id=None, amps=None, target_amps=None,
                        drawn_amps=None, since=None, applied_amps=None, applied_at=None,
                        apply_error=None, paused=False, pause_reason=None)
            continue
        new_session = row["session_id"] != charging.id
        if new_session:
            _change(row, changes, applied_amps=None, applied_at=None, apply_error=None)
        if new_session or row["amps"] is None or abs(row["amps"] - entry.amps) >= 0.05:
            _change(row, changes, since=now)
        drawn = drawn_amps.get(connector.id)
        _change(row, changes, session_id=charging.id, amps=entry.amps,
                target_amps=entry.target_amps, paused=entry.paused,
                pause_reason=str(entry.reason) if entry.reason else None,
                drawn_amps=None if drawn is None else round(drawn, 1))
        applied_amps = row["applied_amps"]
        over = (entry.controllable and drawn is not None and applied_amps is not None
                and drawn > applied_amps + OVER_LIMIT_AMPS)
        if not over:
            _change(row, changes, over_limit_since=None)
        elif row["over_limit_since"] is None:
            _change(row, changes, over_limit_since=now)
        extra = station_settings.get(station.id)
        if not entry.controllable or extra is None or not station.connected:
            continue
        if charging.charger_transaction_id is None:
            continue
        stale = row["applied_at"] is None or (
            station.connected_at is not None and row["applied_at"] < station.connected_at)
        if stale or applied_amps is None or abs(applied_amps - entry.amps) >= 0.05:
            commands.append(LimitCommand(station.charge_point_id, station.id, connector.id,
                                         _limit(extra, LimitPurpose.TRANSACTION, entry.amps,
                                                min(site_phases, extra.phases or 3),
                                                plug=connector.connector_id,
                                                transaction=charging.charger_transaction_id),
                                         # Where ignoring it would matter: a new
                                         # session's first limit, and every decrease.
                                         verify=applied_amps is None
                                         or entry.amps < applied_amps,
                                         lowers=applied_amps is not None
                                         and entry.amps < applied_amps))
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for connector_pk, values in changes.items():
        by_columns.setdefault(tuple(sorted(values)), []).append(
            {"row_pk": connector_pk, **values})
    for columns, batch in by_columns.items():
        # One UPDATE per set of changed columns, executed for every row that has it.
        session.execute(update(plug_loads).where(plug_loads.c.connector_pk
                                                 == bindparam("row_pk"))
                        .values({name: bindparam(name) for name in columns}), batch)
    minute = now.replace(second=0, microsecond=0)
    if settings.computed_at is None or settings.computed_at < minute:
        _sample(session, site_id, site, allocation, drawn_amps, minute)
    version = settings.tree_version
    session.execute(update(SiteLoadSettings).where(SiteLoadSettings.site_id == site_id)
                    .values(computed_at=now))
    return _Plan(site, allocation, commands, unread, rows, (version, now), held,
                 station_settings)


def _sample(session: Session, site_id: int, site: allocator.Site,
            allocation: allocator.Allocation, drawn_amps: dict[int, float | None],
            minute: datetime) -> None:
    """Keep the site's power at this minute for the owner's chart (two days of it)."""
    volts = allocator.NOMINAL_VOLTAGE
    root = site.root
    usable = sum(max(limit - site.margin_amps - other, 0.0) for limit, other
                 in zip(root.limit_amps, site.other_load_amps, strict=True))
    allocated = drawn = 0.0
    for plug in root.all_plugs():
        entry = allocation.plugs.get(plug.id)
        if entry is not None:
            allocated += entry.amps * len(plug.phases)
        drawn += (drawn_amps.get(int(plug.id)) or 0.0) * len(plug.phases)
    session.merge(SiteLoadSample(site_id=site_id, at=minute, limit_w=int(usable * volts),
                                 allocated_w=int(allocated * volts),
                                 drawn_w=int(drawn * volts)))
    session.execute(delete(SiteLoadSample).where(
        SiteLoadSample.site_id == site_id, SiteLoadSample.at < minute - SAMPLES_KEPT))


def _cap(extra: Any) -> float:
    return extra.max_amps if extra.max_amps is not None else float("inf")


def _limit(extra: Any, purpose: LimitPurpose, amps: float, phases: int,
           plug: int = 0, transaction: str | None = None) -> ChargingLimit:
    """A limit as this station takes it: its unit, its stack levels, its profile kind."""
    unit = RateUnit.WATTS if extra.charging_rate_unit == "W" else RateUnit.AMPS
    # The transaction limit sits one level above the fallback where the charger allows
    # it, so an installer's own level-0 profile of the same purpose is not overwritten.
    stack_level = 0
    if purpose is LimitPurpose.TRANSACTION and not extra.stack_level_zero_only and (
            extra.max_stack_level is None or extra.max_stack_level >= 1):
        stack_level = 1
    return ChargingLimit(purpose=purpose, amps=amps, plug=plug, phases=phases,
                         charger_transaction_id=transaction, stack_level=stack_level,
                         unit=unit, relative=str(extra.profile_kind) == "Relative")


def _other_load(session: Session, settings: Any, now: datetime
                ) -> tuple[float, float, float]:
    """The building's own load: the site meter's last reading while it is fresh; once it
    is stale, the owner's conservative assumption; nothing when there is no meter."""
    if settings.meter_key_hash is None:
        return (0.0, 0.0, 0.0)
    reading = session.scalar(select(SiteMeterReading).where(
        SiteMeterReading.site_id == settings.site_id)
        .order_by(SiteMeterReading.taken_at.desc()).limit(1))
    if reading is not None and now - reading.taken_at <= timedelta(
            seconds=settings.meter_max_age_seconds):
        return (reading.l1_amps, reading.l2_amps, reading.l3_amps)
    fallback = settings.meter_fallback_amps
    return (fallback, fallback, fallback)


def _record(session: Session, site_id: int,
            results: list[tuple[LimitCommand, str | None, bool]], now: datetime) -> None:
    changed_stations = set()
    for command, error, refused in results:
        extra = session.get(StationLoadSettings, command.station_id)
        if command.connector_pk is None:
            if extra is not None and error is None \
                    and command.limit.purpose is LimitPurpose.PLUG_DEFAULT:
                extra.fallback_amps = command.limit.amps
                extra.fallback_installed_at = now
                changed_stations.add(command.station_id)
        else:
            row = session.get(PlugLoad, command.connector_pk)
            if row is not None:
                row.apply_error = None if error is None else stored(error, ERROR_CHARACTERS)
                if error is None:
                    row.applied_amps = command.limit.amps
                    row.applied_at = now
        if extra is not None:
            if refused:
                # Counted at full power from the next round on; the owner sees why.
                extra.rejects_profiles = True
            if error is not None:
                extra.last_error = stored(error, ERROR_CHARACTERS)
            if refused or error is not None:
                changed_stations.add(command.station_id)
    if changed_stations:
        tree_changed(session, site_id=site_id)
