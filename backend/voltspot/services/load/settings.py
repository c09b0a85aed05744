"""What an owner sets for load management, and the live view of a site's load.

The limit is kept in amps per phase (what the allocator and the chargers use); an owner
may enter it in kilowatts, which is converted at the nominal 230 V and remembered as
entered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain import load as allocator
from voltspot.models import (
    ChargingSession,
    Connector,
    LoadCircuit,
    PlugLoad,
    Site,
    SiteLoadSample,
    SiteLoadSettings,
    Station,
    StationLoadSettings,
    utcnow,
)
from voltspot.models.load import ProfileKind
from voltspot.services.errors import InvalidInput, NotFound
from voltspot.services.load.rows import plug_load, station_load_settings, tree_changed
from voltspot.services.messages import N_, Message, restored
from voltspot.services.owner.accounts import Viewer, owned_site
from voltspot.services.owner.facts import Figure

MAX_AMPS = 4000.0
# A charger letting its car draw more than allowed for this long is shown to the owner.
IGNORED_AFTER = timedelta(minutes=1)
MAX_KW = 3000.0


@dataclass(frozen=True)
class SiteLimit:
    """A site's connection limit as stored: ``amps`` per phase on ``phases`` phases
    (``kw`` when entered in kilowatts), less ``margin_amps``; cars get ``min_amps`` or
    pause."""

    site_id: int
    site_name: str
    amps: float
    phases: int
    kw: float | None
    margin_amps: float
    min_amps: float
    enabled: bool

    @property
    def usable_amps(self) -> float:
        return max(self.amps - self.margin_amps, 0.0)

    @property
    def usable_kw(self) -> float:
        return allocator.amps_to_kw(self.usable_amps, self.phases)

    def describe(self) -> Message:
        """One line for people: "32 A × 3 phases (22.1 kW), 2 A margin"."""
        kw = Figure(allocator.amps_to_kw(self.amps, self.phases), 1)
        text = (N_("%(amps)s A × %(phases)s phases (%(kw)s kW)", amps=self.amps,
                   phases=self.phases, kw=kw) if self.phases > 1
                else N_("%(amps)s A × 1 phase (%(kw)s kW)", amps=self.amps, kw=kw))
        if self.margin_amps:
            return N_("%(limit)s, %(margin)s A margin", limit=text, margin=self.margin_amps)
        return text


@dataclass(frozen=True)
class PlugLoadView:
    """One plug on the live view."""

    charge_point_id: str
    connector_id: int
    evse_id: str | None
    charging: bool
    allocated_amps: float | None
    drawn_amps: float | None
    allocated_kw: float | None
    drawn_kw: float | None
    paused: bool
    why: str
    # The charger has let the car draw more than allowed for longer than a minute.
    ignores_limit: bool
    priority: int
    rejects_profiles: bool
    error: Message | str | None


@dataclass(frozen=True)
class SiteLoadView:
    """A site's live load: its limit (None when not managed), each plug, and totals."""

    site_id: int
    site_name: str
    limit: SiteLimit | None
    plugs: tuple[PlugLoadView, ...]
    allocated_kw: float
    drawn_kw: float
    charging: int
    computed_at: datetime | None

    @property
    def ignoring(self) -> tuple[PlugLoadView, ...]:
        """The plugs whose charger ignores its limit (an alert for the owner)."""
        return tuple(plug for plug in self.plugs if plug.ignores_limit)

    @property
    def percent_used(self) -> int:
        if self.limit is None or self.limit.usable_kw <= 0:
            return 0
        return min(100, round(100 * self.allocated_kw / self.limit.usable_kw))


def _number(raw: object, name: Message, low: float, high: float) -> float:
    try:
        value = float(str(raw).strip().replace(",", "."))
    except ValueError:
        raise InvalidInput(N_("%(what)s must be a number", what=name)) from None
    if not low <= value <= high:
        raise InvalidInput(N_("%(what)s must be between %(low)s and %(high)s", what=name,
                              low=low, high=high))
    return value


def _apply(session: Session, site: Site, *, amps: float | None, kw: float | None, phases: int,
           margin_amps: float | None, min_amps: float | None,
           hold_seconds: int | None = None) -> SiteLimit:
    if (amps is None) == (kw is None):
        raise InvalidInput(N_("give the limit either in amps per phase or in kW"))
    if phases not in (1, 3):
        raise InvalidInput(N_("a site's connection has 1 or 3 phases"))
    if kw is not None:
        kw = _number(kw, N_("the limit in kW"), 1, MAX_KW)
        amps = allocator.round_down(allocator.kw_to_amps(kw, phases))
    amps = _number(amps, N_("the limit in amps"), 6, MAX_AMPS)
    settings = session.get(SiteLoadSettings, site.id)
    if settings is None:
        settings = SiteLoadSettings(site_id=site.id, limit_amps=amps, margin_amps=0.0,
                                    min_amps=6.0, enabled=True, hold_seconds=30)
        session.add(settings)
    settings.limit_amps = amps
    settings.limit_kw = kw
    settings.phases = phases
    settings.enabled = True
    if margin_amps is not None:
        settings.margin_amps = _number(margin_amps, N_("the margin"), 0, amps - 1)
    if min_amps is not None:
        settings.min_amps = _number(min_amps, N_("the minimum per car"), 6, 32)
    if hold_seconds is not None:
        settings.hold_seconds = int(_number(hold_seconds, N_("the hold time"), 0, 3600))
    session.flush()
    return _limit_of(site, settings)


def _limit_of(site: Site, settings: SiteLoadSettings) -> SiteLimit:
    return SiteLimit(site.id, site.name, settings.limit_amps, settings.phases,
                     settings.limit_kw, settings.margin_amps, settings.min_amps,
                     settings.enabled)


def set_site_limit_by_name(db: Database, site_name: str, *, amps: float | None = None,
                           kw: float | None = None, phases: int = 3,
                           margin_amps: float | None = None,
                           min_amps: float | None = None,
                           hold_seconds: int | None = None) -> SiteLimit:
    """Set the connection limit of the site named ``site_name`` (operators' scripts).

    Exactly one of ``amps`` (per phase) and ``kw``. Raises :class:`NotFound` for an unknown
    site and :class:`InvalidInput` for a limit a site cannot have.
    """
    with db.session() as session:
        site = session.scalar(select(Site).where(Site.name == site_name))
        if site is None:
            raise NotFound(f"no site named {site_name!r}")
        return _apply(session, site, amps=amps, kw=kw, phases=phases,
                      margin_amps=margin_amps, min_amps=min_amps, hold_seconds=hold_seconds)


def set_site_limit(db: Database, viewer: Viewer, site_id: int,
                   form: Mapping[str, str]) -> SiteLimit:
    """The owner's limit editor: ``unit`` "A" (``amps``, ``phases``) or "kW" (``kw``,
    ``phases``), ``margin`` and ``min_amps``; ``enabled`` "off" turns load management off.
    Raises :class:`InvalidInput` with one sentence."""
    with db.session() as session:
        site = owned_site(session, viewer, site_id)
        if form.get("enabled") == "off":
            settings = session.get(SiteLoadSettings, site.id)
            if settings is not None:
                settings.enabled = False
                return _limit_of(site, settings)
            raise InvalidInput(N_("this site has no limit to turn off"))
        try:
            phases = int(form.get("phases", "3"))
        except ValueError:
            raise InvalidInput(N_("a site's connection has 1 or 3 phases")) from None
        in_kw = form.get("unit") == "kW"
        return _apply(session, site,
                      amps=None if in_kw else form.get("amps", ""),
                      kw=form.get("kw", "") if in_kw else None, phases=phases,
                      margin_amps=form.get("margin") or None,
                      min_amps=form.get("min_amps") or None)  # type: ignore[arg-type]


def site_limit(db: Database, viewer: Viewer, site_id: int) -> tuple[str, SiteLimit | None]:
    """The site's name and its limit (None when load management was never set up)."""
    with db.session() as session:
        site = owned_site(session, viewer, site_id)
        settings = session.get(SiteLoadSettings, site.id)
        return site.name, (_limit_of(site, settings) if settings is not None else None)


def site_load(db: Database, viewer: Viewer, site_id: int) -> SiteLoadView:
    """The live view of a site's load: every plug's allocated and drawn power, which plug
    is paused and why, and the totals against the limit."""
    with db.session() as session:
        site = owned_site(session, viewer, site_id)
        return _site_load(session, site)


def _site_load(session: Session, site: Site) -> SiteLoadView:
    settings = session.get(SiteLoadSettings, site.id)
    limit = _limit_of(site, settings) if settings is not None else None
    site_phases = limit.phases if limit else 3
    rows = session.execute(
        select(Station, Connector, PlugLoad, StationLoadSettings)
        .join(Connector, Connector.station_id == Station.id)
        .outerjoin(PlugLoad, PlugLoad.connector_pk == Connector.id)
        .outerjoin(StationLoadSettings, StationLoadSettings.station_id == Station.id)
        .where(Station.site_id == site.id)
        .order_by(Station.charge_point_id, Connector.connector_id)).all()
    open_sessions = set(session.scalars(select(ChargingSession.connector_pk).where(
        ChargingSession.connector_pk.in_([row[1].id for row in rows]),
        ChargingSession.stopped_at.is_(None),
        ChargingSession.started_at.is_not(None))))
    plugs = []
    allocated_kw = drawn_kw = 0.0
    now = utcnow()
    for station, connector, load, extra in rows:
        phases = min(site_phases, (extra.phases if extra else 3) or 3)
        charging = load is not None and load.session_id is not None
        allocated = load.amps if charging else None
        drawn = load.drawn_amps if charging else None
        rejects = bool(extra and extra.rejects_profiles)
        if charging and rejects:
            allocated = connector.max_power_w / (allocator.NOMINAL_VOLTAGE * phases)
        kw = allocator.amps_to_kw(allocated, phases) if allocated is not None else None
        drawn_power = allocator.amps_to_kw(drawn, phases) if drawn is not None else None
        allocated_kw += kw or 0.0
        drawn_kw += drawn_power or 0.0
        plugs.append(PlugLoadView(
            charge_point_id=station.charge_point_id, connector_id=connector.connector_id,
            evse_id=connector.evse_id, charging=charging or connector.id in open_sessions,
            allocated_amps=allocated, drawn_amps=drawn, allocated_kw=kw, drawn_kw=drawn_power,
            paused=bool(charging and load.paused),
            why=_why(load, rejects, charging, settings.hold_seconds if settings else 30),
            ignores_limit=bool(charging and load.over_limit_since is not None
                               and now - load.over_limit_since > IGNORED_AFTER),
            priority=load.priority if load is not None else 0, rejects_profiles=rejects,
            error=restored((load.apply_error if load is not None else None)
                           or (extra.last_error if extra is not None and rejects else None))))
    return SiteLoadView(site.id, site.name, limit, tuple(plugs), round(allocated_kw, 1),
                        round(drawn_kw, 1), sum(1 for plug in plugs if plug.charging),
                        settings.computed_at if settings is not None else None)


def _why(load: PlugLoad | None, rejects: bool, charging: bool, hold_seconds: int) -> str:
    if not charging or load is None:
        return ""
    if rejects:
        return "Its charger ignores limits: counted at full power"
    if load.paused and load.pause_reason == str(allocator.PauseReason.HELD):
        return "Paused: waits a moment before resuming, so limits do not flap"
    if load.paused:
        return "Paused: no room for the minimum current; resumes when a car leaves"
    if load.target_amps is not None and load.amps is not None \
            and load.target_amps > load.amps + 0.05:
        return N_("Raised shortly (a limit is held at least %(seconds)s s)",
                  seconds=hold_seconds)
    return "Sharing"


@dataclass(frozen=True)
class CircuitView:
    id: int
    name: str
    amps: float
    phases: int
    parent_id: int | None


@dataclass(frozen=True)
class StationLoadView:
    """A station's load settings as the owner edits them, and what its charger said."""

    charge_point_id: str
    max_amps: float | None
    circuit_id: int | None
    rejects_profiles: bool
    stack_level_zero_only: bool
    relative_profiles: bool
    charger_says: str
    last_error: Message | str | None
    plugs: tuple[tuple[int, int], ...]  # (plug number, priority)


@dataclass(frozen=True)
class SiteTree:
    """The site's circuits and stations, for the owner's load settings."""

    circuits: tuple[CircuitView, ...]
    stations: tuple[StationLoadView, ...]


def site_tree(db: Database, viewer: Viewer, site_id: int) -> SiteTree:
    """The site's circuits, and each station's cap, circuit and smart-charging switches."""
    with db.session() as session:
        site = owned_site(session, viewer, site_id)
        circuits = tuple(CircuitView(c.id, c.name, c.limit_amps, c.phases, c.parent_id)
                         for c in session.scalars(select(LoadCircuit).where(
                             LoadCircuit.site_id == site.id).order_by(LoadCircuit.id)))
        stations = []
        for station in session.scalars(select(Station).where(Station.site_id == site.id)
                                       .order_by(Station.charge_point_id)):
            extra = session.get(StationLoadSettings, station.id)
            priorities = {row.connector_pk: row.priority for row in session.scalars(
                select(PlugLoad).where(PlugLoad.connector_pk.in_(
                    [c.id for c in station.connectors])))}
            said = "Not read yet: it is read when the charger connects."
            if extra is not None and extra.settings_read_at is not None:
                in_watts = extra.charging_rate_unit == "W"
                said = ((N_("Takes limits in watts; stack levels up to %(level)s",
                            level=extra.max_stack_level) if in_watts
                         else N_("Takes limits in amps; stack levels up to %(level)s",
                                 level=extra.max_stack_level))
                        if extra.max_stack_level is not None
                        else "Did not say which limits it takes.")
            stations.append(StationLoadView(
                station.charge_point_id,
                extra.max_amps if extra else None, extra.circuit_id if extra else None,
                bool(extra and extra.rejects_profiles),
                bool(extra and extra.stack_level_zero_only),
                bool(extra and str(extra.profile_kind) == ProfileKind.RELATIVE), said,
                restored(extra.last_error) if extra else None,
                tuple((c.connector_id, priorities.get(c.id, 0)) for c in station.connectors)))
        return SiteTree(circuits, tuple(stations))


def set_station_load(db: Database, viewer: Viewer, site_id: int, charge_point_id: str,
                     form: Mapping[str, str]) -> None:
    """A station's load settings from the owner's form: ``max_amps`` (empty: none),
    ``circuit`` (empty: directly on the site), the switches ``rejects_profiles``,
    ``stack_level_zero_only`` and ``relative`` ("on" when ticked), and ``priority-<plug>``
    per plug. Raises :class:`InvalidInput` with one sentence."""
    with db.session() as session:
        site = owned_site(session, viewer, site_id)
        station = session.scalar(select(Station).where(
            Station.charge_point_id == charge_point_id, Station.site_id == site.id))
        if station is None:
            raise NotFound(f"no station {charge_point_id!r} on this site")
        extra = station_load_settings(session, station.id)
        raw_max = (form.get("max_amps") or "").strip()
        max_amps = _number(raw_max, N_("the station's maximum"), 6, MAX_AMPS) if raw_max else None
        if max_amps != extra.max_amps:
            # The next round installs the new cap (with the fallback) on the charger.
            extra.max_amps, extra.fallback_installed_at = max_amps, None
        circuit = (form.get("circuit") or "").strip()
        if circuit:
            found = session.scalar(select(LoadCircuit.id).where(
                LoadCircuit.id == _whole(circuit, N_("the circuit")),
                LoadCircuit.site_id == site.id))
            if found is None:
                raise InvalidInput(N_("pick one of this site's circuits"))
            extra.circuit_id = found
        else:
            extra.circuit_id = None
        was_rejecting = extra.rejects_profiles
        extra.rejects_profiles = form.get("rejects_profiles") == "on"
        if was_rejecting and not extra.rejects_profiles:
            # Try the charger again: read its settings and send its limits anew.
            extra.settings_read_at = extra.fallback_installed_at = None
            extra.last_error = None
        extra.stack_level_zero_only = form.get("stack_level_zero_only") == "on"
        extra.profile_kind = (ProfileKind.RELATIVE if form.get("relative") == "on"
                              else ProfileKind.ABSOLUTE)
        for connector in station.connectors:
            raw = (form.get(f"priority-{connector.connector_id}") or "0").strip()
            priority = int(_whole(raw, N_("a plug's priority")))
            if not -10 <= priority <= 10:
                raise InvalidInput(N_("a plug's priority is between -10 and 10"))
            plug_load(session, connector.id, site.id).priority = priority
        tree_changed(session, site_id=site.id)


def add_circuit(db: Database, viewer: Viewer, site_id: int, form: Mapping[str, str]
                ) -> CircuitView:
    """A circuit (stations behind their own fuse) on the site, or inside ``parent``:
    ``name``, ``amps`` per phase, ``phases``. Raises :class:`InvalidInput`."""
    with db.session() as session:
        site = owned_site(session, viewer, site_id)
        name = (form.get("name") or "").strip()
        if not name or len(name) > 100:
            raise InvalidInput(N_("give the circuit a name of at most 100 characters"))
        amps = _number(form.get("amps", ""), N_("the circuit's limit"), 6, MAX_AMPS)
        phases = int(_whole(form.get("phases") or "3", N_("the phases")))
        if phases not in (1, 3):
            raise InvalidInput(N_("a circuit has 1 or 3 phases"))
        parent = (form.get("parent") or "").strip()
        parent_id = None
        if parent:
            parent_id = session.scalar(select(LoadCircuit.id).where(
                LoadCircuit.id == _whole(parent, N_("the parent circuit")),
                LoadCircuit.site_id == site.id))
            if parent_id is None:
                raise InvalidInput(N_("pick one of this site's circuits as its parent"))
        circuit = LoadCircuit(site_id=site.id, parent_id=parent_id, name=name,
                              limit_amps=amps, phases=phases)
        session.add(circuit)
        session.flush()
        tree_changed(session, site_id=site.id)
        return CircuitView(circuit.id, name, amps, phases, parent_id)


def _whole(raw: str, name: Message) -> int:
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(N_("%(what)s must be a whole number", what=name)) from None


@dataclass(frozen=True)
class DayChart:
    """A site's power over the last 24 hours, as SVG polyline points (x: minutes into
    the window, 0-1440; y: 0-100 % of ``top_kw``), with the figures for a caption."""

    top_kw: float
    limit: str
    allocated: str
    drawn: str
    samples: int
    peak_drawn_kw: float


def day_chart(db: Database, viewer: Viewer, site_id: int) -> DayChart:
    """The site's power against its limit over the last 24 hours (a sample a minute)."""
    now = utcnow()
    start = now - timedelta(days=1)
    with db.session() as session:
        site = owned_site(session, viewer, site_id)
        rows = session.execute(select(
            SiteLoadSample.at, SiteLoadSample.limit_w, SiteLoadSample.allocated_w,
            SiteLoadSample.drawn_w).where(
            SiteLoadSample.site_id == site.id, SiteLoadSample.at >= start)
            .order_by(SiteLoadSample.at)).all()
    top = max([row.limit_w for row in rows] + [row.drawn_w for row in rows] + [1]) * 1.1

    def points(values: list[tuple[datetime, int]]) -> str:
        return " ".join(f"{(at - start).total_seconds() / 60:.0f},{100 - 100 * w / top:.1f}"
                        for at, w in values)

    return DayChart(
        top_kw=round(top / 1000, 1),
        limit=points([(row.at, row.limit_w) for row in rows]),
        allocated=points([(row.at, row.allocated_w) for row in rows]),
        drawn=points([(row.at, row.drawn_w) for row in rows]),
        samples=len(rows),
        peak_drawn_kw=round(max([row.drawn_w for row in rows] + [0]) / 1000, 1))
