"""Prices on the owner page: saving a tariff from the editor, the list of an owner's
tariffs with where each applies, the editor page, and assigning a tariff to whole sites or
to single plugs. (The form is :mod:`.tariff_form`, the live preview :mod:`.tariff_preview`.)

A change applies to sessions that start afterwards only: a session freezes its terms in
``ChargingSession.price`` when it is created, and nothing here reads or writes sessions
except to count the running ones. Each public function is one unit of work with its own
transaction and returns read models, never rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain.pricing import (
    TariffTerms,
    price_summary,
)
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, Connector, Site, Station, Tariff
from voltspot.services.charging.billing import terms_of
from voltspot.services.errors import InvalidInput
from voltspot.services.forms import FormInvalid
from voltspot.services.messages import N_
from voltspot.services.owner.accounts import (
    Viewer,
    owned_connector,
    owned_site,
    owned_tariff,
    scope_sites,
)
from voltspot.services.owner.tariff_form import TariffForm, blank_form, form_of, parse_tariff_form
from voltspot.services.owner.tariff_preview import ExampleForm, Preview, preview

_OPEN_STATUSES = [status for status in SessionStatus if status.is_open]


@dataclass(frozen=True)
class SavedTariff:
    id: int
    name: str


def save_tariff(db: Database, viewer: Viewer, tariff_id: int | None,
                form: TariffForm) -> SavedTariff:
    """Create (``tariff_id`` None) or update one of the viewer's tariffs from the form.
    Raises :class:`NotFound` for another owner's tariff and :class:`FormInvalid` for bad
    fields, whose messages are also put on ``form.errors`` for the editor to show.
    Sessions keep the terms frozen on them."""
    with db.session() as session:
        tariff = owned_tariff(session, viewer, tariff_id) if tariff_id is not None else None
        draft, errors = parse_tariff_form(form)
        form.errors = errors
        owner_id = tariff.owner_id if tariff is not None else viewer.owner_id
        if "name" not in errors:
            clash = session.scalar(select(Tariff.id).where(
                Tariff.owner_id == owner_id, Tariff.name == form.values.get("name", ""),
                Tariff.id != (tariff_id or 0)))
            if clash is not None:
                errors["name"] = N_("You already have a price called “%(name)s”; pick "
                                    "another name.", name=form.values["name"])
        if draft is None or errors:
            raise FormInvalid(errors, form.values)
        if tariff is None:
            tariff = Tariff(owner_id=owner_id)
            session.add(tariff)
        for column, value in draft.columns.items():
            setattr(tariff, column, value)
        session.flush()
        return SavedTariff(tariff.id, tariff.name)


@dataclass(frozen=True)
class TariffRow:
    """A tariff as the list shows it: its AFIR summary and where it applies."""

    id: int
    name: str
    currency: str
    summary: list[str]
    used_at: list[str]
    running_sessions: int
    # The prices themselves, for words in another language than the summary's English.
    terms: TariffTerms | None = None


@dataclass(frozen=True)
class _Plug:
    id: int
    tariff_id: int | None
    evse_id: str | None
    number: int
    charge_point_id: str
    site_id: int
    site_name: str
    site_currency: str

    @property
    def name(self) -> str:
        return self.evse_id or f"{self.charge_point_id} plug {self.number}"


def _plugs(session: Session, viewer: Viewer) -> list[_Plug]:
    """Every plug on the viewer's sites, by site, station and connector."""
    statement = (select(Connector.id, Connector.tariff_id, Connector.evse_id,
                        Connector.connector_id, Station.charge_point_id, Site.id, Site.name,
                        Site.currency)
                 .join(Station, Connector.station_id == Station.id)
                 .join(Site, Station.site_id == Site.id)
                 .order_by(Site.name, Station.charge_point_id, Connector.connector_id))
    return [_Plug(*row) for row in session.execute(scope_sites(viewer, statement))]


def _used_at(tariff_id: int, plugs: list[_Plug]) -> list[str]:
    by_site: dict[str, list[_Plug]] = {}
    for plug in plugs:
        by_site.setdefault(plug.site_name, []).append(plug)
    used = []
    for site_name, site_plugs in by_site.items():
        on = [plug for plug in site_plugs if plug.tariff_id == tariff_id]
        if not on:
            continue
        if len(on) == len(site_plugs):
            used.append(N_("%(site)s: its plug", site=site_name) if len(on) == 1 else
                        N_("%(site)s: both plugs", site=site_name) if len(on) == 2 else
                        N_("%(site)s: all %(count)s plugs", site=site_name, count=len(on)))
        else:
            names = ", ".join(plug.name for plug in on)
            used.append(N_("%(site)s: %(count)s of %(total)s plugs (%(plugs)s)", site=site_name,
                           count=len(on), total=len(site_plugs), plugs=names))
    return used


def _running(session: Session, tariff_ids: Iterable[int]) -> dict[int, int]:
    ids = list(tariff_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(ChargingSession.tariff_id, func.count()).where(
            ChargingSession.tariff_id.in_(ids), ChargingSession.status.in_(_OPEN_STATUSES))
        .group_by(ChargingSession.tariff_id))
    return {tariff_id: count for tariff_id, count in rows}


def _tariffs(session: Session, viewer: Viewer):
    statement = select(Tariff).order_by(Tariff.name, Tariff.id)
    if not viewer.is_admin:
        statement = statement.where(Tariff.owner_id == viewer.owner_id)
    return session.scalars(statement).all()


def _row(tariff: Tariff, plugs: list[_Plug], running: dict[int, int]) -> TariffRow:
    terms = terms_of(tariff, None)
    return TariffRow(tariff.id, tariff.name, tariff.currency, price_summary(terms),
                     _used_at(tariff.id, plugs), running.get(tariff.id, 0), terms)


def list_tariffs(db: Database, viewer: Viewer) -> list[TariffRow]:
    """The viewer's tariffs by name (every tariff for an admin)."""
    with db.session() as session:
        tariffs = _tariffs(session, viewer)
        plugs = _plugs(session, viewer)
        running = _running(session, (t.id for t in tariffs))
        return [_row(tariff, plugs, running) for tariff in tariffs]


@dataclass(frozen=True)
class Editor:
    """The editor page: the form (with its errors), the live preview, and for an existing
    tariff where it applies and how many sessions run on it."""

    tariff_id: int | None
    form: TariffForm
    preview: Preview
    used_at: list[str]
    running_sessions: int


def tariff_editor(db: Database, viewer: Viewer, tariff_id: int | None,
                  form: TariffForm | None = None,
                  example: ExampleForm | None = None) -> Editor:
    """The editor for a new tariff (``tariff_id`` None) or one of the viewer's; ``form``
    is what was posted, otherwise the stored values (or a blank form in the currency of
    the viewer's first site). Raises :class:`NotFound` for another owner's tariff."""
    with db.session() as session:
        return _editor(session, viewer, tariff_id, form, example)


def _editor(session: Session, viewer: Viewer, tariff_id: int | None, form: TariffForm | None,
            example: ExampleForm | None) -> Editor:
    tariff = owned_tariff(session, viewer, tariff_id) if tariff_id is not None else None
    if form is None:
        if tariff is not None:
            form = form_of(tariff)
        else:
            currency = session.scalar(scope_sites(viewer, select(Site.currency))
                                      .order_by(Site.id).limit(1))
            form = blank_form(currency or "EUR")
    shown = preview(form, example or ExampleForm())
    if tariff is None:
        return Editor(None, form, shown, [], 0)
    return Editor(tariff.id, form, shown, _used_at(tariff.id, _plugs(session, viewer)),
                  _running(session, [tariff.id]).get(tariff.id, 0))


@dataclass(frozen=True)
class PlugChoice:
    id: int
    name: str
    station: str
    number: int
    current: str | None
    on_this: bool


@dataclass(frozen=True)
class SiteChoice:
    id: int
    name: str
    currency: str
    plugs: list[PlugChoice]

    @property
    def all_on_this(self) -> bool:
        return bool(self.plugs) and all(plug.on_this for plug in self.plugs)


@dataclass(frozen=True)
class Assignment:
    """Where a tariff can go: each of the viewer's sites with its plugs and the price each
    plug has now."""

    tariff: TariffRow
    sites: list[SiteChoice]


def assignment(db: Database, viewer: Viewer, tariff_id: int) -> Assignment:
    """The assign page for one of the viewer's tariffs; raises :class:`NotFound`."""
    with db.session() as session:
        return _assignment(session, viewer, tariff_id)


def _assignment(session: Session, viewer: Viewer, tariff_id: int) -> Assignment:
    tariff = owned_tariff(session, viewer, tariff_id)
    plugs = _plugs(session, viewer)
    names = dict(session.execute(select(Tariff.id, Tariff.name).where(
        Tariff.id.in_({plug.tariff_id for plug in plugs if plug.tariff_id}))).all())
    sites = {site.id: SiteChoice(site.id, site.name, site.currency, [])
             for site in session.scalars(scope_sites(viewer, select(Site).order_by(Site.name)))}
    for plug in plugs:
        sites[plug.site_id].plugs.append(PlugChoice(
            plug.id, plug.name, plug.charge_point_id, plug.number, names.get(plug.tariff_id),
            plug.tariff_id == tariff.id))
    row = _row(tariff, plugs, _running(session, [tariff.id]))
    return Assignment(row, list(sites.values()))


def assign_tariff(db: Database, viewer: Viewer, tariff_id: int, *,
                  site_ids: Iterable[int] = (), connector_ids: Iterable[int] = ()) -> int:
    """Put one of the viewer's tariffs on every plug of ``site_ids`` and on the plugs
    ``connector_ids``; returns how many plugs use it now that did not before.

    Raises :class:`NotFound` when the tariff, a site or a plug is not the viewer's, and
    :class:`InvalidInput` when nothing was chosen or a site charges in another currency.
    Running sessions keep their frozen price; the next session on each plug uses this one.
    """
    with db.session() as session:
        tariff = owned_tariff(session, viewer, tariff_id)
        connectors: list[Connector] = []
        for site_id in site_ids:
            site = owned_site(session, viewer, site_id)
            site.tariff_id = tariff.id  # for the plugs the site gets later, too
            connectors += [connector for station in site.stations
                           for connector in station.connectors]
        connectors += [owned_connector(session, viewer, pk) for pk in connector_ids]
        if not connectors:
            raise InvalidInput(N_("Tick the plugs that should use this price, or choose a whole "
                               "site."))
        for connector in connectors:
            site = connector.station.site
            if site is not None and site.currency != tariff.currency:
                raise InvalidInput(N_(
                    "“%(price)s” is in %(currency)s but %(site)s charges in %(site_currency)s. "
                    "Make a price in %(site_currency)s for it.", price=tariff.name,
                    currency=tariff.currency, site=site.name, site_currency=site.currency))
        changed = 0
        for connector in connectors:
            if connector.tariff_id != tariff.id:
                connector.tariff_id = tariff.id
                changed += 1
        session.flush()
        return changed
