"""Stations: registration, credentials, connection state and what they report about
themselves (boot, heartbeat, status, firmware and diagnostics)."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import string
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.orm import Session, selectinload

from voltspot.batched_lookup import BatchedLookup
from voltspot.db import Database, run_prepared
from voltspot.domain.evse_ids import make_evse_id
from voltspot.domain.statuses import ConnectorStatus, Registration
from voltspot.domain.throttle import CallLimit, FailureCounter, FailureThrottle, RateLimit
from voltspot.group_commit import GroupCommitter, insert_rows
from voltspot.models import Connector, Site, Station, StationEvent, StationEventKind, utcnow
from voltspot.passwords import hash_password, password_matches
from voltspot.services.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

# The most plugs a station can be registered with.
MAX_CONNECTORS = 32

EVSE_COUNTRY = "NL"
EVSE_OPERATOR = "VSP"


def generate_password() -> str:
    """A random station password within OCPP Security Profile 1's 16–40 characters."""
    return secrets.token_urlsafe(18)


# Where :func:`load_stations` leaves the stations it read, in ``session.info``.
_LOADED = "voltspot.stations"


def get_station(session: Session, charge_point_id: str) -> Station:
    """The station with ``charge_point_id``; raises :class:`NotFound`. A station read
    ahead into this session by :func:`load_stations` costs no query."""
    station = find_station(session, charge_point_id)
    if station is None:
        raise NotFound(f"no station with charge point id {charge_point_id!r}")
    return station


def find_station(session: Session, charge_point_id: str) -> Station | None:
    """The station with ``charge_point_id``, or None (as :func:`get_station`)."""
    station = session.info.get(_LOADED, {}).get(charge_point_id)
    if station is None:
        station = session.scalar(select(Station).where(
            Station.charge_point_id == charge_point_id))
    return station


def load_stations(session: Session, charge_point_ids: list[str]) -> None:
    """Read the stations with ``charge_point_ids``, their connectors and sites, in one
    query each, for :func:`get_station` to find in ``session`` (a group-commit batch's
    read-ahead: what each charger's message would look up on its own)."""
    loaded = session.info.setdefault(_LOADED, {})
    wanted = set(charge_point_ids) - loaded.keys()
    if not wanted:
        return
    for station in session.scalars(_STATIONS_WITH_PLUGS, {"ids": list(wanted)}):
        loaded[station.charge_point_id] = station


# Built once (building a statement costs more than running it for a batch of one or two).
_STATIONS_WITH_PLUGS = select(Station).where(
    Station.charge_point_id.in_(bindparam("ids", expanding=True))).options(
    selectinload(Station.connectors), selectinload(Station.site))


def register_station(session: Session, *, site_name: str, charge_point_id: str,
                     connectors: int, power_kw: float = 22, password: str | None = None,
                     ) -> tuple[Station, str]:
    """Register a station on the site named ``site_name`` (created if new).

    Returns the station and its plain password (generated when not given); only the hash
    is stored. Raises :class:`Conflict` when the charge point id is taken and
    :class:`InvalidInput` for an id or password a charger could not use.
    """
    validate_charge_point_id(charge_point_id)
    if password is not None and not 16 <= len(password) <= 40:
        raise InvalidInput("the password must be 16 to 40 characters (OCPP Security Profile 1)")
    if not 1 <= connectors <= MAX_CONNECTORS:
        raise InvalidInput(f"a station has 1 to {MAX_CONNECTORS} connectors")
    if session.scalar(select(Station.id).where(Station.charge_point_id == charge_point_id)):
        raise Conflict(f"a station with charge point id {charge_point_id!r} already exists")
    site = session.scalar(select(Site).where(Site.name == site_name))
    if site is None:
        site = Site(name=site_name)
        session.add(site)
    password = password or generate_password()
    power_w = int(power_kw * 1000)
    station = Station(charge_point_id=charge_point_id, site=site, max_power_w=power_w,
                      password_hash=hash_password(password),
                      registration=Registration.ACCEPTED, plug_count=connectors)
    session.add(station)
    session.flush()
    for number in range(1, connectors + 1):
        station.connectors.append(Connector(
            connector_id=number, max_power_w=power_w, tariff_id=site.tariff_id,
            evse_id=free_evse_id(session, station.id, number)))
        session.flush()
    return station, password


def free_evse_id(session: Session, station_pk: int, connector_id: int) -> str:
    """An EVSE id for plug ``connector_id`` of the station with primary key ``station_pk``
    that no plug has: ``NL*VSP*E<pk>*<n>``, or when an owner already gave that id to another
    plug, ``E<pk>A*<n>``, ``E<pk>B*<n>`` … (never a clash, so never a failed add)."""
    for suffix in ("", *string.ascii_uppercase):
        evse_id = make_evse_id(EVSE_COUNTRY, EVSE_OPERATOR, f"{station_pk}{suffix}",
                               connector_id)
        if session.scalar(select(Connector.id).where(Connector.evse_id == evse_id)) is None:
            return evse_id
    return make_evse_id(EVSE_COUNTRY, EVSE_OPERATOR,
                        f"{station_pk}X{secrets.token_hex(4).upper()}", connector_id)


@dataclass(frozen=True)
class RegisteredStation:
    """A newly registered station and the plain password to configure it with (shown
    once: only its hash is stored)."""

    charge_point_id: str
    password: str


def add_station(db: Database, *, site_name: str, charge_point_id: str, connectors: int,
                power_kw: float = 22, password: str | None = None,
                ocpp_version: str | None = None) -> RegisteredStation:
    """Register a station as :func:`register_station` does, in its own transaction, set
    to speak ``ocpp_version`` when the charger offers several (None: the newest)."""
    with db.session() as session:
        station, plain = register_station(
            session, site_name=site_name, charge_point_id=charge_point_id,
            connectors=connectors, power_kw=power_kw, password=password)
        station.ocpp_version_preferred = ocpp_version
    return RegisteredStation(charge_point_id, plain)


def validate_charge_point_id(charge_point_id: str) -> None:
    """Raise :class:`InvalidInput` unless the id is 1–48 URL-safe characters."""
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:")
    if not 1 <= len(charge_point_id) <= 48 or not set(charge_point_id) <= allowed:
        raise InvalidInput("a charge point id is 1 to 48 letters, digits, '-', '_', '.' or ':'")


class Access(StrEnum):
    """The outcome of checking a connecting charger's credentials."""

    ALLOWED = "allowed"
    PENDING = "pending"
    UNKNOWN = "unknown"
    BAD_PASSWORD = "bad password"
    THROTTLED = "throttled"


class _VerifiedPasswords:
    """The outcome of recent password checks, keyed on a digest of the password and the
    stored hash: hashes are deliberately slow, and a reconnect storm of thousands of
    chargers must not redo that work for a password already checked against the same
    stored hash. The outcome depends on those two alone (the hash carries its salt), so
    stations provisioned with one hash share one check. A new stored hash makes a new
    key; no plaintext is kept."""

    def __init__(self, size: int = 65536) -> None:
        self._size = size
        self._outcomes: OrderedDict[str, bool] = OrderedDict()
        self._lock = threading.Lock()

    def matches(self, password_hash: str, password: str) -> bool:
        key = hashlib.sha256("\0".join((password_hash, password)).encode()).hexdigest()
        with self._lock:
            known = self._outcomes.get(key)
            if known is not None:
                self._outcomes.move_to_end(key)
                return known
        outcome = password_matches(password_hash, password)
        with self._lock:
            self._outcomes[key] = outcome
            if len(self._outcomes) > self._size:
                self._outcomes.popitem(last=False)
        return outcome


_verified = _VerifiedPasswords()

# Failed Basic auth per station id: a few free tries, then growing waits (a charger with a
# stale password retries for ever; a guesser is slowed to nothing).
STATION_AUTH_RULES = {"free": 5, "base_seconds": 2.0, "max_seconds": 300.0}
# New pending stations (accept-unknown on): at most this many a minute, whatever their ids.
NEW_PENDING_RULES = {"calls": 10, "per_seconds": 60}


@dataclass
class StationThrottles:
    """The throttles of chargers at the door: failed Basic auth per station id, and new
    pending stations. The defaults count in this process; an application passes its own
    (shared through Redis when it has one)."""

    auth_failures: FailureCounter = field(
        default_factory=lambda: FailureThrottle(**STATION_AUTH_RULES))
    new_pending: CallLimit = field(default_factory=lambda: RateLimit(**NEW_PENDING_RULES))


# For callers without an application of their own (scripts, tests of the rules).
_PROCESS_THROTTLES = StationThrottles()

# Checked against when there is no stored hash, so an unknown id costs what a wrong
# password does (the cache above makes repeats of either cheap alike).
_TIMING_HASH = hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Admission:
    """Whether a connecting charger may open its socket, and the OCPP version its
    station is configured for (None: the newest it offers). ``retry_after``: the seconds a
    throttled station id must wait (``access`` is then THROTTLED)."""

    access: Access
    preferred_version: str | None
    retry_after: int = 0


class SignInDetails:
    """What a connecting charger's station is checked against (password hash,
    registration, preferred OCPP version), read for many stations in one query: the
    handshakes of a reconnect storm would each take a connection and a transaction for
    one row. The application keeps one per process (:func:`admit`'s ``details``)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lookup: BatchedLookup[str, Row] = BatchedLookup(self._read,
                                                              linger=SIGN_IN_LINGER)

    def of(self, charge_point_id: str) -> Row | None:
        """The station's details; None when no station has ``charge_point_id``."""
        return self._lookup.get(charge_point_id)

    def _read(self, charge_point_ids: list[str]) -> dict[str, Row]:
        return {row.charge_point_id: row
                for row in self._db.read(_SIGN_IN_DETAILS, {"ids": charge_point_ids})}


# How long the first of several handshakes arriving together waits for the others to
# join its look-up (a lone one waits as long: nothing next to a TLS and HTTP handshake).
SIGN_IN_LINGER = 0.005


_SIGN_IN_DETAILS = select(Station.charge_point_id, Station.password_hash,
                          Station.registration, Station.ocpp_version_preferred).where(
    Station.charge_point_id.in_(bindparam("ids", expanding=True)))


def admit(db: Database, charge_point_id: str, password: str | None, *,
          accept_unknown: bool, max_pending: int = 50,
          throttles: StationThrottles = _PROCESS_THROTTLES,
          details: SignInDetails | None = None) -> Admission:
    """Decide whether a charger may open its OCPP connection (Security Profile 1), and
    which version its station speaks when offered several.

    An unknown id is refused unless ``accept_unknown``: then it is recorded as a pending
    station for an owner to adopt (at most ``max_pending`` waiting, and a few new ones a
    minute), and the password it used becomes its password. An unknown id and a wrong
    password take the same time. After repeated failures for one station id its next tries
    are refused as THROTTLED for a growing while, without checking (``throttles`` keeps
    the counts: the application's, shared across its processes). ``details`` reads the
    station (the application's, shared by the process's handshakes). Raises
    :class:`InvalidInput` for an unknown id no charger could use."""
    now = time.monotonic()
    failures = throttles.auth_failures
    wait = failures.retry_after(charge_point_id, now)
    if wait:
        return Admission(Access.THROTTLED, None, wait)
    # Read holding no connection during the slow password check that follows.
    station = (details or SignInDetails(db)).of(charge_point_id)
    if station is None:
        with db.session() as session:
            admission = _unknown(session, charge_point_id, password,
                                 accept_unknown=accept_unknown, max_pending=max_pending,
                                 new_pending=throttles.new_pending)
        if admission.access == Access.UNKNOWN:
            # As long as a wrong password takes, so the answer's time tells nothing.
            _verified.matches(_TIMING_HASH, password or "")
            failures.failed(charge_point_id, now)
        return admission
    if station.password_hash is not None and not _verified.matches(station.password_hash,
                                                                   password or ""):
        failures.failed(charge_point_id, now)
        return Admission(Access.BAD_PASSWORD, station.ocpp_version_preferred)
    failures.succeeded(charge_point_id)
    access = Access.PENDING if station.registration == Registration.PENDING else Access.ALLOWED
    return Admission(access, station.ocpp_version_preferred)


def _unknown(session: Session, charge_point_id: str, password: str | None, *,
             accept_unknown: bool, max_pending: int, new_pending: CallLimit) -> Admission:
    """An id no station has: refused, or recorded as pending (see :func:`admit`)."""
    if not accept_unknown:
        return Admission(Access.UNKNOWN, None)
    validate_charge_point_id(charge_point_id)
    pending = session.scalar(select(func.count()).select_from(Station).where(
        Station.registration == Registration.PENDING, Station.site_id.is_(None)))
    if pending >= max_pending or new_pending.hit("new", time.monotonic()):
        log.warning("%s: not recorded as a pending station: %s pending, or too many new "
                    "ones this minute", log_safe(charge_point_id), pending)
        return Admission(Access.UNKNOWN, None)
    session.add(Station(charge_point_id=charge_point_id, registration=Registration.PENDING,
                        password_hash=hash_password(password) if password else None))
    return Admission(Access.PENDING, None)


def log_safe(text: str) -> str:
    """``text`` fit for one log line: control characters (a forged newline that would fake
    a log entry, terminal escapes) shown escaped, the length capped."""
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:200])
    return escaped + ("…" if len(text) > 200 else "")


def connect(committer: GroupCommitter, charge_point_id: str, connection_id: str,
            ocpp_version: str) -> int:
    """:func:`mark_connected` in the group-commit writer's next batch (a reconnect storm's
    connections are committed together); returns the station's primary key once
    committed. The batch does not linger: the charger is already talking, and commands
    to it wait for the connection to be registered."""
    return committer.submit(
        lambda session: mark_connected(session, charge_point_id, connection_id, ocpp_version),
        prepare=load_stations, key=charge_point_id, linger=False)


def disconnect(committer: GroupCommitter, charge_point_id: str, connection_id: str) -> None:
    """:func:`mark_disconnected` in the group-commit writer's next batch; returns once
    committed."""
    committer.submit(
        lambda session: mark_disconnected(session, charge_point_id, connection_id),
        prepare=load_stations, key=charge_point_id)


def disconnect_all(db: Database) -> None:
    """At start-up of the only process holding sockets, nobody is connected yet: every
    station is recorded as disconnected since it was last heard from."""
    with db.session() as session:
        _mark_all_disconnected(session)


def mark_connected(session: Session, charge_point_id: str, connection_id: str,
                   ocpp_version: str) -> int:
    """Record that ``connection_id`` is now the station's live socket; returns the
    station's primary key."""
    station = get_station(session, charge_point_id)
    now = utcnow()
    station.connected = True
    station.connection_id = connection_id
    station.connected_at = now
    station.last_seen_at = now
    station.ocpp_version = ocpp_version
    _record_event(session, station_id=station.id, at=now, kind=StationEventKind.CONNECTED)
    return station.id


def mark_disconnected(session: Session, charge_point_id: str, connection_id: str) -> None:
    """Record that a socket closed, unless a newer socket has already replaced it."""
    # One conditional UPDATE: the charger may be reconnecting to another process at this
    # very moment, and a read-then-write here would overwrite its new connection. In a
    # group-commit batch the reconnect may be an unflushed write just before this one:
    # flushed first, the UPDATE sees it.
    session.flush()
    station_id = session.scalar(
        update(Station)
        .where(Station.charge_point_id == charge_point_id,
               Station.connection_id == connection_id, Station.connected.is_(True))
        .values(connected=False)
        .returning(Station.id))
    if station_id is not None:
        _record_event(session, station_id=station_id, at=utcnow(),
                      kind=StationEventKind.DISCONNECTED)


def _record_event(session: Session, **event: Any) -> None:
    # A row, not an object: a group-commit batch inserts its writes' events in one
    # statement (an object is inserted alone, a round trip each, to learn its id).
    insert_rows(session, StationEvent.__table__, [{"connector_id": None, "status": None,
                                                   **event}])


def _mark_all_disconnected(session: Session) -> None:
    now = utcnow()
    for station in session.scalars(select(Station).where(Station.connected.is_(True))):
        station.connected = False
        # The socket died with the previous process, last heard from at last_seen_at.
        session.add(StationEvent(station_id=station.id, at=station.last_seen_at or now,
                                 kind=StationEventKind.DISCONNECTED))


@dataclass(frozen=True)
class BootInfo:
    vendor: str
    model: str
    serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None
    boot_reason: str | None = None  # 2.0.1: PowerUp, RemoteReset, Watchdog, ...


@dataclass(frozen=True)
class Booted:
    """A boot recorded: the station's registration and the heartbeat interval to hand
    it (its BootNotification answer), and whether it is known how many plugs it has (a
    1.6 station that nobody declared them for is asked)."""

    registration: Registration
    heartbeat_interval: int
    plug_count_known: bool


def record_boot(session: Session, charge_point_id: str, info: BootInfo,
                default_interval: int) -> Booted:
    """Store what the station says about itself."""
    station = get_station(session, charge_point_id)
    for name, value in vars(info).items():
        setattr(station, name, value)
    now = utcnow()
    station.last_boot_at = now
    station.last_seen_at = now
    station.heartbeat_interval = station.heartbeat_interval or default_interval
    return Booted(station.registration, station.heartbeat_interval,
                  station.plug_count is not None)


def registration_of(session: Session, charge_point_id: str) -> Registration:
    """Whether the station is Accepted, Pending or Rejected (its BootNotification answer)."""
    return get_station(session, charge_point_id).registration


def record_seen(session: Session, charge_point_id: str) -> None:
    """A heartbeat (or another message that changes nothing else): the station is alive
    now. One UPDATE, without reading the station: a fleet's heartbeats are a sixth of its
    steady traffic. A station that no longer exists is left alone."""
    run_prepared(session.connection(), _SEEN, {"cp_id": charge_point_id, "seen_at": utcnow()})


# Built once (see ``record_seen``); on the table, so no ORM object is read or refreshed.
_SEEN = update(Station.__table__).where(
    Station.__table__.c.charge_point_id == bindparam("cp_id")).values(
    last_seen_at=bindparam("seen_at"))


# A station whose plugs nobody declared (and which has not reported how many it has)
# learns them from its status notifications, up to this many: more than a charger in the
# field has, few enough that a hostile one cannot fill the plug list.
MAX_LEARNT_PLUGS = 16


def has_plug(station: Station, number: int) -> bool:
    """Whether ``number`` can be one of the station's plugs (0: the station itself).

    The rule: a negative number never is; when the station's plug count is known (its
    owner declared it, or the station reported it: :func:`record_plug_count`) a number
    beyond it is not; otherwise a number up to :data:`MAX_LEARNT_PLUGS` is (and the plug
    is added when its status arrives)."""
    if number < 0:
        return False
    limit = station.plug_count if station.plug_count is not None else MAX_LEARNT_PLUGS
    return number <= limit


def record_plug_count(session: Session, charge_point_id: str, count: int, source: str) -> None:
    """The station reported having ``count`` plugs (``source``: how, for the log). Kept
    only while its count is unknown: an owner's declaration is not overridden by the
    charger (a mismatch shows as refused status notifications in the log)."""
    station = get_station(session, charge_point_id)
    if station.plug_count is None and 1 <= count <= MAX_CONNECTORS:
        station.plug_count = count
        log.info("%s: has %s plugs (%s)", log_safe(charge_point_id), count, source)


def record_status(session: Session, charge_point_id: str, connector_id: int,
                  status: ConnectorStatus, error_code: str, timestamp: datetime | None,
                  info: str | None = None, vendor_error_code: str | None = None
                  ) -> bool | None:
    """Keep the newest status of the station (connector 0) or one connector; returns
    whether this notification was the newest (and so was kept), or None when the
    station cannot have that connector (:func:`has_plug`): then nothing is stored.

    A notification older than the one stored (chargers replay queued ones after a
    reconnect) is ignored. A connector the station may have but that has no row yet is
    added (a station nobody declared the plugs of learns them this way).
    """
    station = get_station(session, charge_point_id)
    if not has_plug(station, connector_id):
        log.warning("%s: status for connector %s refused: the station has %s", log_safe(
            charge_point_id), connector_id, f"{station.plug_count} plugs"
            if station.plug_count is not None else f"no more than {MAX_LEARNT_PLUGS} plugs")
        return None
    now = utcnow()
    at = timestamp or now
    station.last_seen_at = now
    # History keeps every notification, replayed ones too, at the time it happened (a
    # charger clock ahead of ours cannot put it in the future).
    _record_event(session, station_id=station.id, at=min(at, now),
                  kind=StationEventKind.STATUS, connector_id=connector_id, status=status)
    if connector_id == 0:
        if station.status_at is not None and at < station.status_at:
            return False
        station.status, station.error_code, station.status_at = status, error_code, at
        return True
    connector = next((c for c in station.connectors if c.connector_id == connector_id), None)
    if connector is None:
        connector = Connector(connector_id=connector_id, max_power_w=station.max_power_w,
                              tariff_id=station.site.tariff_id if station.site else None)
        station.connectors.append(connector)
    if connector.status_at is not None and at < connector.status_at:
        return False
    connector.status, connector.error_code, connector.status_at = status, error_code, at
    connector.info, connector.vendor_error_code = info, vendor_error_code
    return True


_EVSE_OF_COMPONENT = re.compile(r"@(\d{1,3})$")


def record_device_report(session: Session, charge_point_id: str,
                         report_data: list[dict], *, first_part: bool,
                         last_part: bool = True) -> None:
    """Fold one NotifyReport part (2.0.1, snake_case keys) into the station's device
    model: each variable's Actual value (or its first attribute's) under
    "Component[/instance][@evse]:Variable[/instance]". The first part of a report
    replaces what the previous report said; once the last part is in, the EVSEs it lists
    are the station's plug count if that is not known yet (:func:`record_plug_count`)."""
    station = get_station(session, charge_point_id)
    model = {} if first_part or station.device_model is None else dict(station.device_model)
    for item in report_data:
        attributes = item.get("variable_attribute") or []
        actual = next((a for a in attributes if a.get("type", "Actual") == "Actual"),
                      attributes[0] if attributes else {})
        model[device_model_key(item.get("component", {}), item.get("variable", {}))] = \
            actual.get("value")
    station.device_model = model
    station.device_model_at = utcnow()
    if last_part:
        # EVSE ids run 1, 2, … without gaps (2.0.1's three-tier model): the highest any
        # component names is the station's number of EVSEs.
        evses = [int(found.group(1)) for key in model
                 if (found := _EVSE_OF_COMPONENT.search(key.split(":", 1)[0]))]
        if evses:
            record_plug_count(session, charge_point_id, max(evses), "its device model")


def device_model_key(component: dict, variable: dict) -> str:
    """How a component's variable is named in the station's device model record."""
    name = component.get("name", "?")
    if component.get("instance"):
        name += f"/{component['instance']}"
    if component.get("evse"):
        name += f"@{component['evse'].get('id')}"
    key = f"{name}:{variable.get('name', '?')}"
    return key + (f"/{variable['instance']}" if variable.get("instance") else "")


def record_firmware_status(session: Session, charge_point_id: str, status: str) -> None:
    get_station(session, charge_point_id).firmware_status = status


def record_diagnostics_status(session: Session, charge_point_id: str, status: str) -> None:
    get_station(session, charge_point_id).diagnostics_status = status


def _list_stations(session: Session) -> list[Station]:
    """Every station with its connectors, by charge point id."""
    return list(session.scalars(
        select(Station).options(selectinload(Station.connectors), selectinload(Station.site))
        .order_by(Station.charge_point_id)))


@dataclass(frozen=True)
class ConnectorInfo:
    """A connector as the operator API shows it."""

    connector_id: int
    evse_id: str | None
    status: str
    error_code: str | None
    info: str | None
    status_at: datetime | None
    max_power_w: int
    connector_type: str


@dataclass(frozen=True)
class StationInfo:
    """A station as the operator API shows it: connection state, what it reported about
    itself, and its connectors."""

    charge_point_id: str
    site: str | None
    registration: str
    connected: bool
    last_seen_at: datetime | None
    ocpp_version: str | None
    status: ConnectorStatus | None
    vendor: str | None
    model: str | None
    serial_number: str | None
    firmware_version: str | None
    firmware_status: str | None
    diagnostics_status: str | None
    last_boot_at: datetime | None
    heartbeat_interval: int | None
    error_code: str | None
    boot_reason: str | None
    device_model: dict[str, Any] | None
    device_model_at: datetime | None
    connectors: list[ConnectorInfo]


def _station_info(station: Station) -> StationInfo:
    return StationInfo(
        charge_point_id=station.charge_point_id,
        site=station.site.name if station.site else None,
        registration=str(station.registration), connected=station.connected,
        last_seen_at=station.last_seen_at, ocpp_version=station.ocpp_version,
        status=station.status, vendor=station.vendor, model=station.model,
        serial_number=station.serial_number, firmware_version=station.firmware_version,
        firmware_status=station.firmware_status,
        diagnostics_status=station.diagnostics_status, last_boot_at=station.last_boot_at,
        heartbeat_interval=station.heartbeat_interval, error_code=station.error_code,
        boot_reason=station.boot_reason, device_model=station.device_model,
        device_model_at=station.device_model_at,
        connectors=[ConnectorInfo(
            connector_id=c.connector_id, evse_id=c.evse_id, status=str(c.status),
            error_code=c.error_code, info=c.info, status_at=c.status_at,
            max_power_w=c.max_power_w, connector_type=str(c.connector_type))
            for c in station.connectors])


def station_infos(db: Database) -> list[StationInfo]:
    """Every station with its connectors, by charge point id."""
    with db.session() as session:
        return [_station_info(station) for station in _list_stations(session)]


def station_info(db: Database, charge_point_id: str) -> StationInfo:
    """The station with ``charge_point_id``; raises :class:`NotFound`."""
    with db.session() as session:
        return _station_info(get_station(session, charge_point_id))
