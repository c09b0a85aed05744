"""Sites and stations as their owner manages them: add and edit sites, add stations (the
password is returned once), adopt pending stations, edit plugs, read a station's OCPP log,
and remote actions with the charger's answer in one sentence.

Every lookup goes through :mod:`voltspot.services.owner.accounts`, so another owner's site,
station or plug raises :class:`NotFound`. Form-taking functions read a mapping of field
name to text (an HTML form) and raise :class:`FormInvalid` with one sentence per wrong
field. Functions taking a SQLAlchemy session never commit; those that talk to a charger
take the :class:`Database` and a :class:`ChargerControl` and keep the database
transaction closed while the charger is asked (DESIGN.md, convention 3).
"""

from __future__ import annotations

import logging
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import generate_password_hash

from voltspot.db import Database
from voltspot.domain.availability import station_online
from voltspot.domain.evse_ids import EvseIdError, make_evse_id, normalise_evse_id
from voltspot.domain.statuses import ConnectorType, Registration, plug_words
from voltspot.models import Connector, OcppFrame, Site, Station, utcnow
from voltspot.services.charger_control import (
    ChargerControl,
    ChargerError,
    NoAnswer,
    StationOffline,
    UnknownCommand,
)
from voltspot.services.charging.commands import send_command
from voltspot.services.errors import Conflict, InvalidInput
from voltspot.services.owner.accounts import (
    Viewer,
    owned_connector,
    owned_site,
    owned_station,
    scope_sites,
)
from voltspot.services.reports import figures as reports
from voltspot.services.stations import registry as stations

log = logging.getLogger(__name__)

FRAMES_PER_PAGE = 50
MAX_CONNECTORS = 32
MAX_POWER_KW = 1000
CONNECTOR_TYPES = tuple(str(kind) for kind in ConnectorType)

# ISO 3166-1 alpha-2, as in the tz database's iso3166.tab.
_COUNTRY_CODES = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
VN VU WF WS YE YT ZA ZM ZW"""
COUNTRIES = frozenset(_COUNTRY_CODES.split())

# ISO 4217 currencies whose minor unit the pricing code writes correctly: every
# two-decimal currency, plus ISK, JPY and KRW (no decimals). Three-decimal currencies
# (BHD, KWD, …) and other zero-decimal ones (CLP, VND, …) are left out until pricing
# knows their minor units.
_CURRENCY_CODES = """
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN
BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR ISK JMD JPY KES KGS KHR KPW KRW KYD KZT
LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO
NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS
SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER
ZAR ZMW ZWG"""
CURRENCIES = frozenset(_CURRENCY_CODES.split())

_PHONE = re.compile(r"^\+?[0-9 ()./-]+$")


class FormInvalid(InvalidInput):
    """Some fields of a form are wrong; ``errors`` maps each field to one sentence."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = errors


_REGIONS = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/",
            "Australia/", "Europe/", "Indian/", "Pacific/")


@lru_cache(maxsize=1)
def timezones() -> tuple[str, ...]:
    """The IANA timezones a site may have, sorted: every Region/City this system knows,
    and UTC (not the legacy aliases such as ``US/Eastern`` or ``localtime``)."""
    return tuple(sorted(zone for zone in zoneinfo.available_timezones()
                        if zone.startswith(_REGIONS) or zone == "UTC"))


# ---------------------------------------------------------------------------------------
# Sites


@dataclass(frozen=True)
class SiteValues:
    """A site form's fields, checked."""

    name: str
    address: str
    city: str
    postal_code: str
    country: str
    latitude: float | None
    longitude: float | None
    opening_hours: str
    help_phone: str
    currency: str
    timezone: str


SITE_FIELDS = tuple(SiteValues.__dataclass_fields__)


def site_form_values(site: Site | None = None) -> dict[str, str]:
    """The text a site form starts with: ``site``'s values, or the defaults for a new one."""
    if site is None:
        return {"name": "", "address": "", "city": "", "postal_code": "", "country": "NL",
                "latitude": "", "longitude": "", "opening_hours": "24/7", "help_phone": "",
                "currency": "EUR", "timezone": "Europe/Amsterdam"}
    values = {name: getattr(site, name) for name in SITE_FIELDS}
    return {name: "" if value is None else str(value) for name, value in values.items()}


def _text(form: Mapping[str, str], name: str) -> str:
    return " ".join(str(form.get(name, "")).split())


def _coordinate(text: str, limit: int, what: str, errors: dict[str, str], name: str
                ) -> float | None:
    if not text:
        return None
    try:
        value = float(Decimal(text.replace(",", ".")))
    except InvalidOperation:
        errors[name] = f"Write the {what} as a number of degrees, such as {limit // 2}.37."
        return None
    if not -limit <= value <= limit:
        errors[name] = f"The {what} must be between -{limit} and {limit} degrees."
        return None
    return value


def check_site_form(form: Mapping[str, str]) -> SiteValues:
    """The checked values of a site form; raises :class:`FormInvalid` naming each field
    that is wrong."""
    errors: dict[str, str] = {}

    def text(name: str, label: str, limit: int, required: str | None = None) -> str:
        value = _text(form, name)
        if not value and required:
            errors[name] = required
        elif len(value) > limit:
            errors[name] = f"{label} can be at most {limit} characters."
        return value

    name = text("name", "The name", 200, "Give the site a name drivers will recognise, "
                "such as the hotel or shop it belongs to.")
    address = text("address", "The address", 300, "Write the street and number, so drivers "
                   "can find the site.")
    city = text("city", "The town or city", 120, "Write the town or city.")
    postal_code = text("postal_code", "The postal code", 20)
    country = _text(form, "country").upper()
    if country not in COUNTRIES:
        errors["country"] = "Use the two-letter country code, such as NL, DE or BE."
    latitude = _coordinate(_text(form, "latitude"), 90, "latitude", errors, "latitude")
    longitude = _coordinate(_text(form, "longitude"), 180, "longitude", errors, "longitude")
    if "latitude" not in errors and "longitude" not in errors and (
            (latitude is None) != (longitude is None)):
        missing = "latitude" if latitude is None else "longitude"
        errors[missing] = ("Give both latitude and longitude, or leave both empty; drivers' "
                           "maps need the pair.")
    opening_hours = text("opening_hours", "The opening hours", 200,
                         "Say when drivers can charge, such as 24/7 or Mon–Sat 08:00–20:00.")
    help_phone = text("help_phone", "The phone number", 40)
    if help_phone and (not _PHONE.match(help_phone)
                       or sum(c.isdigit() for c in help_phone) < 6):
        errors["help_phone"] = ("Write a phone number drivers can call, with the country "
                                "code, such as +31 20 123 4567.")
    currency = _text(form, "currency").upper()
    if currency not in CURRENCIES:
        errors["currency"] = "Use the three-letter currency code of your prices, such as EUR."
    timezone = _text(form, "timezone").replace(" ", "_")
    if timezone not in timezones():
        errors["timezone"] = ("Choose the site's timezone by its region and city, such as "
                              "Europe/Amsterdam.")
    if errors:
        raise FormInvalid(errors)
    return SiteValues(name, address, city, postal_code, country, latitude, longitude,
                      opening_hours, help_phone, currency, timezone)


def _check_name_free(session: Session, name: str, site_id: int | None) -> None:
    taken = select(Site.id).where(Site.name == name)
    if site_id is not None:
        taken = taken.where(Site.id != site_id)
    if session.scalar(taken) is not None:
        raise FormInvalid({"name": f"There is already a site called “{name}”. Give this one "
                                   "another name, for example with its street or town."})


def create_site(session: Session, viewer: Viewer, form: Mapping[str, str]) -> Site:
    """A new site of the viewer's from a site form; raises :class:`FormInvalid`."""
    values = check_site_form(form)
    _check_name_free(session, values.name, None)
    site = Site(owner_id=viewer.owner_id, **vars(values))
    session.add(site)
    session.flush()
    return site


def update_site(session: Session, viewer: Viewer, site_id: int, form: Mapping[str, str]
                ) -> Site:
    """Save a site form over one of the viewer's sites; raises :class:`NotFound` and
    :class:`FormInvalid`."""
    site = owned_site(session, viewer, site_id)
    values = check_site_form(form)
    _check_name_free(session, values.name, site.id)
    for name, value in vars(values).items():
        setattr(site, name, value)
    session.flush()
    return site


def viewer_sites(session: Session, viewer: Viewer) -> list[Site]:
    """The sites the viewer may put stations on, by name."""
    return list(session.scalars(scope_sites(viewer, select(Site)).order_by(Site.name)))


# ---------------------------------------------------------------------------------------
# What a station and its plugs look like to their owner



@dataclass(frozen=True)
class PlugView:
    """One plug as its owner sees it. ``label``/``tone`` is the last status it reported
    ("Offline" while its station is)."""

    pk: int
    number: int
    connector_type: str
    max_power_kw: float
    evse_id: str | None
    label: str
    tone: str
    reported: str
    error_code: str | None
    status_at: datetime | None


@dataclass(frozen=True)
class StationSummary:
    charge_point_id: str
    online: bool
    pending: bool
    last_seen_at: datetime | None
    vendor: str | None
    model: str | None
    plugs: list[PlugView]


def _plugs(station: Station, online: bool) -> list[PlugView]:
    plugs = []
    for connector in station.connectors:
        reported, tone = plug_words(connector.status)
        plugs.append(PlugView(
            pk=connector.id, number=connector.connector_id,
            connector_type=str(connector.connector_type),
            max_power_kw=connector.max_power_w / 1000, evse_id=connector.evse_id,
            label=reported if online else "Offline", tone=tone if online else "offline",
            reported=reported,
            error_code=None if connector.error_code in (None, "NoError") else connector.error_code,
            status_at=connector.status_at))
    return plugs


def _summary(station: Station, now: datetime) -> StationSummary:
    online = station_online(station.connected, station.last_seen_at, station.heartbeat_interval,
                            now)
    return StationSummary(station.charge_point_id, online,
                          station.registration != Registration.ACCEPTED or station.site is None,
                          station.last_seen_at, station.vendor, station.model,
                          _plugs(station, online))


@dataclass(frozen=True)
class SiteView:
    site: Site
    stations: list[StationSummary]


def site_overview(session: Session, viewer: Viewer, site_id: int) -> SiteView:
    """One of the viewer's sites with each of its stations, online or not, and its plugs."""
    site = owned_site(session, viewer, site_id)
    rows = session.scalars(select(Station).where(Station.site_id == site.id)
                           .options(selectinload(Station.connectors), selectinload(Station.site))
                           .order_by(Station.charge_point_id)).all()
    now = utcnow()
    return SiteView(site, [_summary(station, now) for station in rows])


@dataclass(frozen=True)
class FrameView:
    id: int
    at: datetime
    direction: str
    frame: str


@dataclass(frozen=True)
class StationView:
    """Everything the station page shows. ``site`` is None for a pending station."""

    station: Station
    site: Site | None
    summary: StationSummary
    frames: list[FrameView]
    older_frames_before: int | None
    timezone: str


def station_overview(session: Session, viewer: Viewer, charge_point_id: str,
                     frames_before: int | None = None) -> StationView:
    """One of the viewer's stations: connection, what it said at boot, its plugs and a page
    of its OCPP log, newest first (frames older than id ``frames_before`` when given)."""
    station = owned_station(session, viewer, charge_point_id)
    query = select(OcppFrame).where(OcppFrame.charge_point_id == charge_point_id)
    if frames_before is not None:
        query = query.where(OcppFrame.id < frames_before)
    rows = session.scalars(query.order_by(OcppFrame.id.desc()).limit(FRAMES_PER_PAGE + 1)).all()
    frames = [FrameView(f.id, f.at, f.direction, f.frame) for f in rows[:FRAMES_PER_PAGE]]
    older = frames[-1].id if len(rows) > FRAMES_PER_PAGE else None
    site = station.site
    return StationView(station, site, _summary(station, utcnow()), frames, older,
                       site.timezone if site else "UTC")


# ---------------------------------------------------------------------------------------
# Adding a station, adopting a pending one


@dataclass(frozen=True)
class Credentials:
    """What a charger is configured with. The password is here once and stored only as a
    hash."""

    charge_point_id: str
    site_id: int
    site_name: str
    password: str


def _whole(text: str, low: int, high: int) -> int | None:
    try:
        value = int(text)
    except ValueError:
        return None
    return value if low <= value <= high else None


def _kilowatts(text: str) -> int | None:
    """Watts from a kW figure as typed ("22", "7,4"); None unless 0 < kW ≤ MAX_POWER_KW."""
    try:
        kw = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None
    if not kw.is_finite() or not 0 < kw <= MAX_POWER_KW:
        return None
    return int(kw * 1000)


_CONNECTORS_ERROR = f"A station has 1 to {MAX_CONNECTORS} plugs; write how many this one has."
_POWER_ERROR = (f"Write the most power one plug gives, in kW, between 0 and {MAX_POWER_KW}, "
                "such as 22 or 7.4.")


def _site_choice(session: Session, viewer: Viewer, form: Mapping[str, str],
                 errors: dict[str, str]) -> Site | None:
    site_id = _whole(_text(form, "site_id"), 1, 2**62)
    if site_id is None:
        errors["site_id"] = "Choose the site this station stands on."
        return None
    return owned_site(session, viewer, site_id)


def add_station(session: Session, viewer: Viewer, form: Mapping[str, str]) -> Credentials:
    """Register a station on one of the viewer's sites from the add-station form (fields
    ``site_id``, ``charge_point_id``, ``connectors``, ``max_power_kw``).

    Each plug gets an EVSE id in the scheme of :func:`stations.register_station`. Raises
    :class:`NotFound` for another owner's site and :class:`FormInvalid` otherwise.
    """
    errors: dict[str, str] = {}
    site = _site_choice(session, viewer, form, errors)
    charge_point_id = _text(form, "charge_point_id")
    try:
        stations.validate_charge_point_id(charge_point_id)
    except InvalidInput:
        errors["charge_point_id"] = ("Write the charge point id from the station's label or "
                                     "settings: up to 48 letters, digits, '-', '_', '.' "
                                     "or ':', no spaces.")
    if "charge_point_id" not in errors and session.scalar(
            select(Station.id).where(Station.charge_point_id == charge_point_id)):
        errors["charge_point_id"] = (f"A station with the id {charge_point_id} is already "
                                     "registered. Check the id on the station, or choose "
                                     "another one.")
    connectors = _whole(_text(form, "connectors"), 1, MAX_CONNECTORS)
    if connectors is None:
        errors["connectors"] = _CONNECTORS_ERROR
    power_w = _kilowatts(_text(form, "max_power_kw"))
    if power_w is None:
        errors["max_power_kw"] = _POWER_ERROR
    if errors or site is None or connectors is None or power_w is None:
        raise FormInvalid(errors)
    try:
        station, password = stations.register_station(
            session, site_name=site.name, charge_point_id=charge_point_id,
            connectors=connectors, power_kw=power_w / 1000)
    except Conflict:
        raise FormInvalid({"charge_point_id": f"A station with the id {charge_point_id} was "
                                              "registered a moment ago. Choose another id."}
                          ) from None
    # register_station takes kW as a float; keep the exact watts the owner typed.
    station.max_power_w = power_w
    for connector in station.connectors:
        connector.max_power_w = power_w
    log.info("%s: added to site %s by owner %s", charge_point_id, site.id, viewer.owner_id)
    return Credentials(charge_point_id, site.id, site.name, password)


def new_password(session: Session, viewer: Viewer, charge_point_id: str) -> Credentials:
    """Give one of the viewer's stations (on a site) a new password, returned once; the old
    one stops working at the station's next connection. Raises :class:`NotFound` and
    :class:`Conflict` (a pending station is adopted first)."""
    station = owned_station(session, viewer, charge_point_id)
    if station.site is None:
        raise Conflict(f"{charge_point_id} is waiting for adoption; adopt it first.")
    password = stations.generate_password()
    station.password_hash = generate_password_hash(password)
    log.info("%s: new password set by owner %s", charge_point_id, viewer.owner_id)
    return Credentials(charge_point_id, station.site.id, station.site.name, password)


# What an owner may choose for a charger that offers both versions (None: the newest).
OCPP_CHOICES = {"": None, "2.0.1": "2.0.1", "1.6": "1.6"}


def set_ocpp_preference(session: Session, viewer: Viewer, charge_point_id: str,
                        form: Mapping[str, str]) -> str:
    """Choose the OCPP version one of the viewer's stations uses when its charger offers
    both (form field ``ocpp_version``: "" for the newest, "2.0.1" or "1.6"); it takes
    effect at the next connection. Returns a sentence saying so. Raises
    :class:`NotFound` and :class:`InvalidInput`."""
    station = owned_station(session, viewer, charge_point_id)
    choice = str(form.get("ocpp_version", ""))
    if choice not in OCPP_CHOICES:
        raise InvalidInput("Choose the newest version, OCPP 2.0.1 or OCPP 1.6J.")
    station.ocpp_version_preferred = OCPP_CHOICES[choice]
    chosen = f"OCPP {choice}" if choice else "the newest version it offers"
    return (f"{charge_point_id} uses {chosen} from its next connection, if its charger "
            "offers it.")


@dataclass(frozen=True)
class Adoption:
    """The outcome of adopting a pending station. ``password`` is set (once) when the
    station had connected without one and was given one; ``message`` says what happens
    next."""

    charge_point_id: str
    site_id: int
    site_name: str
    password: str | None
    message: str


def adoption_form_values(session: Session, viewer: Viewer, charge_point_id: str
                         ) -> dict[str, str]:
    """The adopt form's starting text for one of the viewer's pending stations: as many
    plugs as it has reported. Raises :class:`NotFound` and :class:`Conflict` (already
    adopted)."""
    station = owned_station(session, viewer, charge_point_id)
    _check_adoptable(station)
    return {"site_id": "", "connectors": str(max(len(station.connectors), 1)),
            "max_power_kw": f"{station.max_power_w / 1000:g}"}


def _check_adoptable(station: Station) -> None:
    if station.site is not None and station.registration == Registration.ACCEPTED:
        raise Conflict(f"{station.charge_point_id} already belongs to {station.site.name}.")


def _adopt(session: Session, viewer: Viewer, charge_point_id: str, form: Mapping[str, str]
           ) -> tuple[Adoption, bool]:
    station = owned_station(session, viewer, charge_point_id)
    _check_adoptable(station)
    errors: dict[str, str] = {}
    site = _site_choice(session, viewer, form, errors)
    count = _whole(_text(form, "connectors"), 1, MAX_CONNECTORS)
    if count is None:
        errors["connectors"] = _CONNECTORS_ERROR
    power_w = _kilowatts(_text(form, "max_power_kw"))
    if power_w is None:
        errors["max_power_kw"] = _POWER_ERROR
    if errors or site is None or count is None or power_w is None:
        raise FormInvalid(errors)
    station.site = site
    # Sessions it recorded while pending counted network-wide only; now they are the site's.
    reports.count_station_history(session, station.id, site.id)
    station.registration = Registration.ACCEPTED
    station.max_power_w = power_w
    have = {c.connector_id for c in station.connectors}
    for number in range(1, count + 1):
        if number not in have:
            station.connectors.append(Connector(connector_id=number, max_power_w=power_w))
    session.flush()
    for connector in station.connectors:
        if connector.evse_id is None:
            evse_id = make_evse_id(stations.EVSE_COUNTRY, stations.EVSE_OPERATOR, station.id,
                                   connector.connector_id)
            _check_evse_id_free(session, evse_id, connector.id)
            connector.evse_id = evse_id
    password = None
    if station.password_hash is None:
        # Security Profile 1 from day one: a station that came in without a password
        # gets one now, shown to the owner once.
        password = stations.generate_password()
        station.password_hash = generate_password_hash(password)
    session.flush()
    log.info("%s: adopted onto site %s by owner %s", charge_point_id, site.id, viewer.owner_id)
    online = station_online(station.connected, station.last_seen_at, station.heartbeat_interval,
                            utcnow())
    return Adoption(charge_point_id, site.id, site.name, password, ""), online


def adopt_station(db: Database, control: ChargerControl, viewer: Viewer, charge_point_id: str,
                  form: Mapping[str, str]) -> Adoption:
    """Put a pending station on one of the viewer's sites (form fields ``site_id``,
    ``connectors``, ``max_power_kw``): its registration becomes Accepted and every plug
    gets an EVSE id. A charger learns its registration at boot, so when the station is
    online it is asked (TriggerMessage) to send a BootNotification again.

    Raises :class:`NotFound` (not the viewer's, or no such station), :class:`Conflict`
    (already adopted) and :class:`FormInvalid`.
    """
    with db.session() as session:
        adoption, online = _adopt(session, viewer, charge_point_id, form)
    message = f"{charge_point_id} now belongs to {adoption.site_name}."
    if not online:
        message += " It is let in the next time it connects."
        return _with_message(adoption, message)
    try:
        answer = send_command(db, control, charge_point_id, "TriggerMessage",
                              {"requestedMessage": "BootNotification"})
    except (StationOffline, NoAnswer, ChargerError, UnknownCommand) as error:
        log.warning("%s: asking it to boot again after adoption failed: %s",
                    charge_point_id, error)
        answer = {}
    if answer.get("status") == "Accepted":
        message += " We asked it to announce itself again; it can charge as soon as it does."
    else:
        message += (" It can charge after its next restart; restart it from the actions below "
                    "to start right away.")
    return _with_message(adoption, message)


def _with_message(adoption: Adoption, message: str) -> Adoption:
    return Adoption(adoption.charge_point_id, adoption.site_id, adoption.site_name,
                    adoption.password, message)


def _check_evse_id_free(session: Session, evse_id: str, connector_pk: int) -> None:
    if session.scalar(select(Connector.id).where(Connector.evse_id == evse_id,
                                                 Connector.id != connector_pk)) is not None:
        raise FormInvalid({"evse_id": f"{evse_id} is already used by another plug. Each plug "
                                      "needs its own EVSE id."})


# ---------------------------------------------------------------------------------------
# Plugs


@dataclass(frozen=True)
class PlugEdit:
    """A plug's edit form: which plug, and the text its fields start with."""

    pk: int
    number: int
    charge_point_id: str
    values: dict[str, str]


def plug_for_edit(session: Session, viewer: Viewer, connector_pk: int,
                  form: Mapping[str, str] | None = None) -> PlugEdit:
    """One of the viewer's plugs with its form's text (``form`` as typed, when given)."""
    connector = owned_connector(session, viewer, connector_pk)
    values = {"connector_type": str(connector.connector_type),
              "max_power_kw": f"{connector.max_power_w / 1000:g}",
              "evse_id": connector.evse_id or ""}
    if form is not None:
        values = {name: str(form.get(name, "")) for name in values}
    return PlugEdit(connector.id, connector.connector_id, connector.station.charge_point_id,
                    values)


def update_plug(session: Session, viewer: Viewer, connector_pk: int, form: Mapping[str, str]
                ) -> PlugEdit:
    """Save a plug's type, most power and EVSE id (normalised to ``CC*OOO*E…``, unique).
    Raises :class:`NotFound` for another owner's plug and :class:`FormInvalid`."""
    connector = owned_connector(session, viewer, connector_pk)
    errors: dict[str, str] = {}
    try:
        connector_type = ConnectorType(_text(form, "connector_type"))
    except ValueError:
        connector_type = None
        errors["connector_type"] = "Choose the kind of plug: " + ", ".join(ConnectorType) + "."
    power_w = _kilowatts(_text(form, "max_power_kw"))
    if power_w is None:
        errors["max_power_kw"] = _POWER_ERROR
    evse_id = None
    try:
        evse_id = normalise_evse_id(_text(form, "evse_id"))
    except EvseIdError:
        errors["evse_id"] = ("Write the EVSE id as country, operator, E and a number, such as "
                             "NL*VSP*E1234*1.")
    if errors or connector_type is None or power_w is None or evse_id is None:
        raise FormInvalid(errors)
    _check_evse_id_free(session, evse_id, connector.id)
    connector.connector_type, connector.max_power_w, connector.evse_id = (
        connector_type, power_w, evse_id)
    session.flush()
    return plug_for_edit(session, viewer, connector_pk)
