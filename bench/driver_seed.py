"""The driver-pages benchmark's network: sites spread over Europe, a station with two
plugs and a tariff on every site, and a history of meter samples for some sessions.

Rows go in by Core ``executemany`` with explicit primary keys (EVSE ids are made from the
station's key, as :func:`voltspot.services.stations.registry.register_station` makes them), so
10 000 sites take seconds; on PostgreSQL the id sequences are moved past them.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, text
from werkzeug.security import generate_password_hash

import driver_fleet
from voltspot.db import Database
from voltspot.domain.evse_ids import make_evse_id, url_safe
from voltspot.domain.meter import normalise
from voltspot.domain.statuses import ConnectorType, Registration
from voltspot.models import (
    ChargingSession,
    Connector,
    IdToken,
    MeterSample,
    Site,
    Station,
    Tariff,
)
from voltspot.services.stations.registry import EVSE_COUNTRY, EVSE_OPERATOR

# name, country, latitude, longitude, time zone
CITIES: tuple[tuple[str, str, float, float, str], ...] = (
    ("Amsterdam", "NL", 52.37, 4.90, "Europe/Amsterdam"),
    ("Rotterdam", "NL", 51.92, 4.48, "Europe/Amsterdam"),
    ("Utrecht", "NL", 52.09, 5.12, "Europe/Amsterdam"),
    ("Eindhoven", "NL", 51.44, 5.48, "Europe/Amsterdam"),
    ("Brussels", "BE", 50.85, 4.35, "Europe/Brussels"),
    ("Antwerp", "BE", 51.22, 4.40, "Europe/Brussels"),
    ("Luxembourg", "LU", 49.61, 6.13, "Europe/Luxembourg"),
    ("Paris", "FR", 48.86, 2.35, "Europe/Paris"),
    ("Lyon", "FR", 45.76, 4.84, "Europe/Paris"),
    ("Marseille", "FR", 43.30, 5.37, "Europe/Paris"),
    ("Toulouse", "FR", 43.60, 1.44, "Europe/Paris"),
    ("Bordeaux", "FR", 44.84, -0.58, "Europe/Paris"),
    ("Lille", "FR", 50.63, 3.06, "Europe/Paris"),
    ("Berlin", "DE", 52.52, 13.40, "Europe/Berlin"),
    ("Hamburg", "DE", 53.55, 9.99, "Europe/Berlin"),
    ("München", "DE", 48.14, 11.58, "Europe/Berlin"),
    ("Köln", "DE", 50.94, 6.96, "Europe/Berlin"),
    ("Frankfurt", "DE", 50.11, 8.68, "Europe/Berlin"),
    ("Stuttgart", "DE", 48.78, 9.18, "Europe/Berlin"),
    ("Düsseldorf", "DE", 51.23, 6.78, "Europe/Berlin"),
    ("Leipzig", "DE", 51.34, 12.37, "Europe/Berlin"),
    ("London", "GB", 51.51, -0.13, "Europe/London"),
    ("Manchester", "GB", 53.48, -2.24, "Europe/London"),
    ("Birmingham", "GB", 52.49, -1.89, "Europe/London"),
    ("Dublin", "IE", 53.35, -6.26, "Europe/Dublin"),
    ("Madrid", "ES", 40.42, -3.70, "Europe/Madrid"),
    ("Barcelona", "ES", 41.39, 2.17, "Europe/Madrid"),
    ("Valencia", "ES", 39.47, -0.38, "Europe/Madrid"),
    ("Sevilla", "ES", 37.39, -5.98, "Europe/Madrid"),
    ("Lisboa", "PT", 38.72, -9.14, "Europe/Lisbon"),
    ("Porto", "PT", 41.15, -8.61, "Europe/Lisbon"),
    ("Roma", "IT", 41.90, 12.50, "Europe/Rome"),
    ("Milano", "IT", 45.46, 9.19, "Europe/Rome"),
    ("Torino", "IT", 45.07, 7.69, "Europe/Rome"),
    ("Napoli", "IT", 40.85, 14.27, "Europe/Rome"),
    ("Bologna", "IT", 44.49, 11.34, "Europe/Rome"),
    ("Zürich", "CH", 47.37, 8.54, "Europe/Zurich"),
    ("Genève", "CH", 46.20, 6.14, "Europe/Zurich"),
    ("Wien", "AT", 48.21, 16.37, "Europe/Vienna"),
    ("Graz", "AT", 47.07, 15.44, "Europe/Vienna"),
    ("Praha", "CZ", 50.08, 14.44, "Europe/Prague"),
    ("Warszawa", "PL", 52.23, 21.01, "Europe/Warsaw"),
    ("Kraków", "PL", 50.06, 19.94, "Europe/Warsaw"),
    ("Budapest", "HU", 47.50, 19.04, "Europe/Budapest"),
    ("Ljubljana", "SI", 46.06, 14.51, "Europe/Ljubljana"),
    ("Zagreb", "HR", 45.81, 15.98, "Europe/Zagreb"),
    ("København", "DK", 55.68, 12.57, "Europe/Copenhagen"),
    ("Aarhus", "DK", 56.16, 10.20, "Europe/Copenhagen"),
    ("Stockholm", "SE", 59.33, 18.07, "Europe/Stockholm"),
    ("Göteborg", "SE", 57.71, 11.97, "Europe/Stockholm"),
    ("Oslo", "NO", 59.91, 10.75, "Europe/Oslo"),
    ("Helsinki", "FI", 60.17, 24.94, "Europe/Helsinki"),
)
BRANDS = ("Hotel", "Supermarket", "Park & Ride", "Office park", "Shopping centre", "Depot",
          "Garage", "Town hall", "Station car park", "Sports centre")
STREETS = ("Station Road", "High Street", "Market Square", "Harbour Way", "Church Lane",
           "Industrial Avenue", "Park Road", "Ring Road", "Canal Street", "Airport Road")
# Network-wide tariffs (VAT included, units as in voltspot.models.tariffs.Tariff).
AC_TARIFFS = (
    dict(name="AC standard", energy_price_per_kwh=3900, session_fee=35,
         idle_fee_per_minute=1000, idle_grace_minutes=30, idle_fee_cap=2000, hold_amount=5000),
    dict(name="AC day and night", energy_price_per_kwh=4200, idle_fee_per_minute=1000,
         idle_grace_minutes=60, idle_fee_cap=3000, hold_amount=5000,
         windows=[{"label": "Night", "days": list(range(7)), "start": "22:00",
                   "end": "07:00", "energy_price_per_kwh": 2900}]),
    dict(name="AC energy and time", energy_price_per_kwh=3500, time_price_per_minute=5,
         time_price_basis="charging", hold_amount=5000),
)
DC_TARIFF = dict(name="DC fast", energy_price_per_kwh=5900, session_fee=50,
                 idle_fee_per_minute=2000, idle_grace_minutes=10, idle_fee_cap=5000,
                 hold_amount=8000,
                 windows=[{"label": "Weekend", "days": [5, 6], "start": "00:00",
                           "end": "00:00", "energy_price_per_kwh": 5400}])
DC_TARIFF_ID = len(AC_TARIFFS) + 1
CHUNK = 5000


def charge_point_id(station_id: int) -> str:
    return f"DRV-{station_id:05d}"


def is_dc(station_id: int) -> bool:
    """Every fourth station is a 50 kW CCS fast charger (it reports the car's SoC)."""
    return station_id % 4 == 0


def plug_url_id(station_id: int, connector_id: int) -> str:
    return url_safe(make_evse_id(EVSE_COUNTRY, EVSE_OPERATOR, station_id, connector_id))


@dataclass
class Network:
    """What was seeded: one station per site, station id = site id."""

    sites: int
    connected: list[int]  # station ids whose chargers connect
    cities: list[str]
    password: str
    seconds: float


def _site_rows(count: int, rng: random.Random) -> list[dict]:
    """85 % of the sites in clusters around cities, 15 % along the roads between two
    cities (a straight line with some scatter)."""
    rows = []
    for site_id in range(1, count + 1):
        city, country, lat, lon, zone = rng.choice(CITIES)
        if rng.random() < 0.85:
            lat, lon = rng.gauss(lat, 0.15), rng.gauss(lon, 0.25)
        else:
            _, _, lat2, lon2, _ = rng.choice(CITIES)
            share = rng.random()
            lat = lat + share * (lat2 - lat) + rng.gauss(0, 0.05)
            lon = lon + share * (lon2 - lon) + rng.gauss(0, 0.08)
        rows.append({
            "id": site_id, "name": f"{rng.choice(BRANDS)} {city} {site_id:05d}",
            "address": f"{rng.choice(STREETS)} {rng.randint(1, 250)}", "city": city,
            "postal_code": f"{rng.randint(1000, 99999)}", "country": country,
            "latitude": round(lat, 6), "longitude": round(lon, 6), "timezone": zone,
            "currency": "EUR", "help_phone": "+31 20 123 4567", "opening_hours": "24/7"})
    return rows


def _insert(connection, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        connection.execute(insert(table), rows[start:start + CHUNK])


def seed_network(url: str, sites: int, connected: int, password: str, seed: int) -> Network:
    """Fill a fresh, migrated database; ``connected`` stations (chosen at random, spread
    over the map) are the ones whose chargers will connect."""
    started = time.monotonic()
    rng = random.Random(seed)
    password_hash = generate_password_hash(password)  # once: hashing is slow on purpose
    tariffs = [{"id": n, "currency": "EUR", **terms}
               for n, terms in enumerate((*AC_TARIFFS, DC_TARIFF), start=1)]
    stations, connectors = [], []
    for station_id in range(1, sites + 1):
        dc = is_dc(station_id)
        power_w = 50_000 if dc else 22_000
        stations.append({
            "id": station_id, "charge_point_id": charge_point_id(station_id),
            "site_id": station_id, "password_hash": password_hash,
            "registration": Registration.ACCEPTED, "max_power_w": power_w})
        tariff_id = DC_TARIFF_ID if dc else 1 + station_id % len(AC_TARIFFS)
        for number in (1, 2):
            connectors.append({
                "id": 2 * (station_id - 1) + number, "station_id": station_id,
                "connector_id": number,
                "evse_id": make_evse_id(EVSE_COUNTRY, EVSE_OPERATOR, station_id, number),
                "connector_type": ConnectorType.CCS2 if dc else ConnectorType.TYPE2,
                "max_power_w": power_w, "tariff_id": tariff_id})
    database = Database(url)
    try:
        with database.engine.begin() as connection:
            for tariff in tariffs:  # not one executemany: each sets different columns
                connection.execute(insert(Tariff.__table__), tariff)
            _insert(connection, Site.__table__, _site_rows(sites, rng))
            _insert(connection, Station.__table__, stations)
            _insert(connection, Connector.__table__, connectors)
            connection.execute(insert(IdToken.__table__),
                               [{"id_tag": driver_fleet.FLEET_TAG, "holder_name": "fleet",
                                 "billing": "invoice"}])  # priced at the plug's tariff
            if connection.dialect.name == "postgresql":
                for table in ("tariffs", "sites", "stations", "connectors"):
                    connection.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"))
    finally:
        database.dispose()
    chosen = sorted(rng.sample(range(1, sites + 1), connected))
    return Network(sites, chosen, [c[0] for c in CITIES], password,
                   time.monotonic() - started)


@dataclass
class History:
    tokens: list[str]
    rows: int
    seconds: float


def backfill_history(url: str, station_ids: list[int], interval: float) -> History:
    """Meter samples every ``interval`` seconds from the start of the connector-1
    session of each station in ``station_ids`` until now, as its charger would have sent
    them (the same readings :class:`driver_fleet.Transaction` streams from here on).
    Returns the sessions' tokens."""
    started = time.monotonic()
    database = Database(url)
    try:
        with database.session() as session:
            found = session.execute(
                select(ChargingSession.id, ChargingSession.token, ChargingSession.station_id,
                       ChargingSession.started_at, ChargingSession.meter_start_wh)
                .where(ChargingSession.station_id.in_(station_ids),
                       ChargingSession.connector_id == 1,
                       ChargingSession.transaction_id.is_not(None))).all()
        now = time.time()
        rows = []
        for session_id, _, station_id, started_at, meter_start in found:
            dc = is_dc(station_id)
            transaction = driver_fleet.Transaction(
                1, session_id, started_at.timestamp(), meter_start or 0,
                driver_fleet.DC_POWER_W if dc else driver_fleet.AC_POWER_W, dc)
            moment = transaction.started + interval
            while moment < now:
                payload = transaction.meter_values(moment)
                taken_at = datetime.fromtimestamp(moment, UTC)
                for raw in payload["meterValue"][0]["sampledValue"]:
                    sample = normalise(taken_at, **raw)
                    rows.append({
                        "station_id": station_id, "session_id": session_id, "connector_id": 1,
                        "taken_at": sample.taken_at, "measurand": sample.measurand,
                        "value": sample.value, "unit": sample.unit, "phase": sample.phase,
                        "context": sample.context, "location": sample.location})
                moment += interval
        for start in range(0, len(rows), CHUNK):
            with database.engine.begin() as connection:
                connection.execute(insert(MeterSample.__table__), rows[start:start + CHUNK])
    finally:
        database.dispose()
    return History([token for _, token, *_ in found], len(rows), time.monotonic() - started)
