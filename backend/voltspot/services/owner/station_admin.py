"""Stations as their owner administers them: add one to a site (its password returned
once), give it a new password, choose its OCPP version, and adopt a station that
connected by itself.

Lookups go through :mod:`voltspot.services.owner.accounts` (another owner's station or
site raises :class:`NotFound`); form-taking functions raise :class:`FormInvalid` with one
sentence per wrong field. Each function opens and commits its own transaction; adoption,
which asks the charger to boot again, keeps the transaction closed while the charger is
asked (DESIGN.md, convention 3).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain.protocol import OcppVersion
from voltspot.domain.statuses import Registration
from voltspot.models import Connector, Site, Station
from voltspot.passwords import hash_password
from voltspot.services import forms
from voltspot.services.charger_control import ChargerControl, ChargerUnreachable
from voltspot.services.errors import Conflict, InvalidInput
from voltspot.services.forms import FormInvalid
from voltspot.services.messages import N_
from voltspot.services.owner.accounts import Viewer, owned_site, owned_station
from voltspot.services.owner.plugs import MAX_POWER_KW, POWER_ERROR
from voltspot.services.reports.totals import count_station_history
from voltspot.services.stations import registry as stations

log = logging.getLogger(__name__)

MAX_CONNECTORS = 32
_CONNECTORS_ERROR = N_("A station has 1 to %(most)s plugs; write how many this one has.",
                       most=MAX_CONNECTORS)


@dataclass(frozen=True)
class Credentials:
    """What a charger is configured with. The password is here once and stored only as a
    hash."""

    charge_point_id: str
    site_id: int
    site_name: str
    password: str


def new_station_values(site_id: str = "") -> dict[str, str]:
    """The add-station form's starting text (on site ``site_id``, when given)."""
    return {"site_id": site_id, "charge_point_id": "", "connectors": "2",
            "max_power_kw": "22"}


def _site_choice(session: Session, viewer: Viewer, form: Mapping[str, str],
                 errors: dict[str, str]) -> Site | None:
    site_id = forms.whole_number(forms.text(form, "site_id"), 1, 2**62)
    if site_id is None:
        errors["site_id"] = N_("Choose the site this station stands on.")
        return None
    return owned_site(session, viewer, site_id)


def _plugs_and_power(form: Mapping[str, str], errors: dict[str, str]
                     ) -> tuple[int | None, int | None]:
    connectors = forms.whole_number(forms.text(form, "connectors"), 1, MAX_CONNECTORS)
    if connectors is None:
        errors["connectors"] = _CONNECTORS_ERROR
    power_w = forms.kilowatts(forms.text(form, "max_power_kw"), MAX_POWER_KW)
    if power_w is None:
        errors["max_power_kw"] = POWER_ERROR
    return connectors, power_w


def add_station(db: Database, viewer: Viewer, form: Mapping[str, str]) -> Credentials:
    """Register a station on one of the viewer's sites from the add-station form (fields
    ``site_id``, ``charge_point_id``, ``connectors``, ``max_power_kw``).

    Each plug gets an EVSE id in the scheme of :func:`stations.register_station`. Raises
    :class:`NotFound` for another owner's site and :class:`FormInvalid` otherwise.
    """
    with db.session() as session:
        errors: dict[str, str] = {}
        site = _site_choice(session, viewer, form, errors)
        charge_point_id = forms.text(form, "charge_point_id")
        try:
            stations.validate_charge_point_id(charge_point_id)
        except InvalidInput:
            errors["charge_point_id"] = (N_("Write the charge point id from the station's label "
                                         "or settings: up to 48 letters, digits, '-', '_', '.' "
                                         "or ':', no spaces."))
        if "charge_point_id" not in errors and session.scalar(
                select(Station.id).where(Station.charge_point_id == charge_point_id)):
            errors["charge_point_id"] = N_(
                "A station with the id %(station)s is already registered. Check the id on the "
                "station, or choose another one.", station=charge_point_id)
        connectors, power_w = _plugs_and_power(form, errors)
        if errors or site is None or connectors is None or power_w is None:
            raise FormInvalid(errors, form)
        try:
            station, password = stations.register_station(
                session, site_name=site.name, charge_point_id=charge_point_id,
                connectors=connectors, power_kw=power_w / 1000)
        except (Conflict, IntegrityError):
            # Registered since the check above (IntegrityError: between register_station's
            # own check and its insert); the transaction rolls back.
            raise FormInvalid({"charge_point_id": N_(
                "A station with the id %(station)s was registered a moment ago. Choose another "
                "id.", station=charge_point_id)}, form) from None
        # register_station takes kW as a float; keep the exact watts the owner typed.
        station.max_power_w = power_w
        for connector in station.connectors:
            connector.max_power_w = power_w
        log.info("%s: added to site %s by owner %s", charge_point_id, site.id, viewer.owner_id)
        return Credentials(charge_point_id, site.id, site.name, password)


def _drop_connection(control: ChargerControl, charge_point_id: str) -> bool:
    """Close the station's connection (made with credentials no longer valid); whether
    there was one."""
    try:
        return control.disconnect(charge_point_id)
    except ChargerUnreachable:
        return False


def new_password(db: Database, control: ChargerControl, viewer: Viewer,
                 charge_point_id: str) -> Credentials:
    """Give one of the viewer's stations (on a site) a new password, returned once; the
    connection made with the old one is closed, so the old one stops working at once.
    Raises :class:`NotFound` and :class:`Conflict` (a pending station is adopted first)."""
    with db.session() as session:
        station = owned_station(session, viewer, charge_point_id)
        if station.site is None:
            raise Conflict(N_("%(station)s is waiting for adoption; adopt it first.",
                              station=charge_point_id))
        password = stations.generate_password()
        station.password_hash = hash_password(password)
        log.info("%s: new password set by owner %s", charge_point_id, viewer.owner_id)
        credentials = Credentials(charge_point_id, station.site.id, station.site.name,
                                  password)
    if _drop_connection(control, charge_point_id):
        log.info("%s: disconnected: it connected with the old password", charge_point_id)
    return credentials


# What an owner may choose for a charger that offers both versions (None: the newest).
OCPP_CHOICES: dict[str, OcppVersion | None] = {
    "": None, str(OcppVersion.V201): OcppVersion.V201, str(OcppVersion.V16): OcppVersion.V16}


def set_ocpp_preference(db: Database, viewer: Viewer, charge_point_id: str,
                        form: Mapping[str, str]) -> str:
    """Choose the OCPP version one of the viewer's stations uses when its charger offers
    both (form field ``ocpp_version``: "" for the newest, "2.0.1" or "1.6"); it takes
    effect at the next connection. Returns a sentence saying so. Raises
    :class:`NotFound` and :class:`InvalidInput`."""
    with db.session() as session:
        station = owned_station(session, viewer, charge_point_id)
        choice = forms.choice(str(form.get("ocpp_version", "")), OCPP_CHOICES)
        if choice is None:
            raise InvalidInput(N_("Choose the newest version, OCPP 2.0.1 or OCPP 1.6J."))
        station.ocpp_version_preferred = OCPP_CHOICES[choice]
    if not choice:
        return N_("%(station)s uses the newest version it offers from its next connection, "
                  "if its charger offers it.", station=charge_point_id)
    return N_("%(station)s uses OCPP %(version)s from its next connection, if its charger "
              "offers it.", station=charge_point_id, version=choice)


@dataclass(frozen=True)
class Adoption:
    """The outcome of adopting a pending station: its new password (shown once) and what
    happens next (``message``)."""

    charge_point_id: str
    site_id: int
    site_name: str
    password: str
    message: str


def adoption_form_values(db: Database, viewer: Viewer, charge_point_id: str
                         ) -> dict[str, str]:
    """The adopt form's starting text for one of the viewer's pending stations: as many
    plugs as it has reported. Raises :class:`NotFound` and :class:`Conflict` (already
    adopted)."""
    with db.session() as session:
        station = owned_station(session, viewer, charge_point_id)
        _check_adoptable(station)
        return {"site_id": "", "connectors": str(max(len(station.connectors), 1)),
                "max_power_kw": f"{station.max_power_w / 1000:g}"}


def _check_adoptable(station: Station) -> None:
    if station.site is not None and station.registration == Registration.ACCEPTED:
        raise Conflict(N_("%(station)s already belongs to %(site)s.",
                          station=station.charge_point_id, site=station.site.name))


def _adopt(session: Session, viewer: Viewer, charge_point_id: str, form: Mapping[str, str]
           ) -> Adoption:
    station = owned_station(session, viewer, charge_point_id)
    _check_adoptable(station)
    errors: dict[str, str] = {}
    site = _site_choice(session, viewer, form, errors)
    count, power_w = _plugs_and_power(form, errors)
    if errors or site is None or count is None or power_w is None:
        raise FormInvalid(errors, form)
    station.site = site
    # Sessions it recorded while pending counted network-wide only; now they are the site's.
    count_station_history(session, station.id, site.id)
    station.registration = Registration.ACCEPTED
    station.max_power_w = power_w
    station.plug_count = count
    have = {c.connector_id for c in station.connectors}
    for number in range(1, count + 1):
        if number not in have:
            station.connectors.append(Connector(connector_id=number, max_power_w=power_w,
                                                tariff_id=site.tariff_id))
    session.flush()
    for connector in station.connectors:
        if connector.evse_id is None:
            connector.evse_id = stations.free_evse_id(session, station.id,
                                                      connector.connector_id)
    # Whoever connected first with this id chose the password it came with (or none): an
    # adopted station gets one of ours, shown to the owner once.
    password = stations.generate_password()
    station.password_hash = hash_password(password)
    session.flush()
    log.info("%s: adopted onto site %s by owner %s", charge_point_id, site.id, viewer.owner_id)
    return Adoption(charge_point_id, site.id, site.name, password, "")


def adopt_station(db: Database, control: ChargerControl, viewer: Viewer, charge_point_id: str,
                  form: Mapping[str, str]) -> Adoption:
    """Put a pending station on one of the viewer's sites (form fields ``site_id``,
    ``connectors``, ``max_power_kw``): its registration becomes Accepted, every plug gets
    an EVSE id, and it gets a new password (returned once): the one it came with was
    chosen by whoever connected first with its id. The connection made with that one is
    closed; the charger is let in once its settings have the new password.

    Raises :class:`NotFound` (not the viewer's, or no such station), :class:`Conflict`
    (already adopted) and :class:`FormInvalid`.
    """
    with db.session() as session:
        adoption = _adopt(session, viewer, charge_point_id, form)
    if _drop_connection(control, charge_point_id):
        log.info("%s: disconnected after adoption: it connected with its own password",
                 charge_point_id)
        message = N_("%(station)s now belongs to %(site)s. It was disconnected until its "
                     "settings have the new password.", station=charge_point_id,
                     site=adoption.site_name)
    else:
        message = N_("%(station)s now belongs to %(site)s. It is let in the next time it "
                     "connects with the new password.", station=charge_point_id,
                     site=adoption.site_name)
    return replace(adoption, message=message)
