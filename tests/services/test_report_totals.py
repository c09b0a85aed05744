"""The reports' hourly totals: kept as sessions close, they give exactly the figures of the
sessions themselves, whatever the order things happen in, in every time zone.

The module has a database of its own, so the network-wide totals an admin reads hold this
module's sessions only and can be checked to the last Wh.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import select

from tests.support.server import own_database
from voltspot.domain.statuses import ConnectorStatus, PaymentState, Registration
from voltspot.migrate import alembic_config, upgrade
from voltspot.models import (
    ChargingSession,
    Connector,
    NetworkHourTotal,
    Site,
    SiteHourTotal,
    Station,
    Tariff,
)
from voltspot.services.charging import lifecycle as charging
from voltspot.services.owner.accounts import Viewer, create_owner
from voltspot.services.payments import holds as payments
from voltspot.services.payments.gateways.demo import DemoGateway
from voltspot.services.reports import periods, sql
from voltspot.services.reports.overview import Overview, overview
from voltspot.services.reports.totals import recount_session_totals

PERIOD = (date(2024, 4, 28), date(2024, 5, 6))
ZONES = ("Europe/Amsterdam", "America/New_York", "Asia/Kolkata", "Australia/Adelaide")


database_url, db = own_database("totals")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def make_site(db, owner_id: int, currency: str, *, stations: int = 1,
              timezone: str = "Europe/Amsterdam") -> tuple[int, list[str]]:
    """A site of ``owner_id`` whose stations' two plugs carry a tariff in ``currency``
    (€0.39/kWh and €0.35 a session); its id and the stations' charge point ids."""
    tag = uuid.uuid4().hex[:8]
    with db.session() as session:
        site = Site(name=f"Totals {tag}", owner_id=owner_id, timezone=timezone,
                    currency=currency)
        tariff = Tariff(name=f"T-{tag}", currency=currency, energy_price_per_kwh=3900,
                        session_fee=35)
        session.add_all([site, tariff])
        session.flush()
        ids = []
        for n in range(1, stations + 1):
            station = Station(charge_point_id=f"TOT{n}-{tag}", site_id=site.id)
            station.connectors = [Connector(connector_id=c, tariff_id=tariff.id)
                                  for c in (1, 2)]
            session.add(station)
            ids.append(station.charge_point_id)
        return site.id, ids


def start(db, charge_point_id: str, at: datetime, *, connector_id: int = 1,
          id_tag: str = "TOTALS-DRIVER", hold: bool = False) -> int:
    """A transaction the charger started at ``at`` (meter at 0); ``hold``: paid by a card
    hold, as a driver's session is. Returns its transaction id."""
    with db.session() as session:
        transaction_id = charging.start_transaction(
            session, charge_point_id, connector_id=connector_id, id_tag=id_tag,
            meter_start=0, timestamp=at).transaction_id
        if hold:
            started = session.get(ChargingSession, transaction_id)
            started.payment_state, started.payment_reference = PaymentState.HELD, "demo_hold"
            started.hold_amount = 5000
    return transaction_id


def stop(db, charge_point_id: str, transaction_id: int, at: datetime, meter_wh: int) -> None:
    with db.session() as session:
        charging.stop_transaction(session, charge_point_id, transaction_id=transaction_id,
                                  meter_stop=meter_wh, timestamp=at)


def from_sessions(db, station_ids: set[int] | None, period: periods.Period, unit: str):
    """The overview's figures worked out here, in Python, from every session row:
    (per bucket: start, sessions, Wh, revenue), sessions, Wh, revenue, (per hour: sessions,
    Wh). ``station_ids`` None: every station."""
    zone = ZoneInfo(period.timezone)
    counts, energy = defaultdict(int), defaultdict(int)
    revenue = defaultdict(lambda: defaultdict(int))
    hours = defaultdict(lambda: [0, 0])
    with db.session() as session:
        rows = session.execute(select(
            ChargingSession.station_id, ChargingSession.started_at, ChargingSession.energy_wh,
            ChargingSession.currency, ChargingSession.cost)).all()
    for station_id, started_at, energy_wh, currency, cost in rows:
        if (started_at is None or not period.start <= started_at < period.end
                or (station_ids is not None and station_id not in station_ids)):
            continue
        local = started_at.astimezone(zone)
        bucket = periods.bucket_start(local.date(), unit)
        counts[bucket] += 1
        energy[bucket] += energy_wh
        hours[local.hour][0] += 1
        hours[local.hour][1] += energy_wh
        if currency is not None and cost is not None:
            revenue[bucket][currency] += cost
    totals = defaultdict(int)
    for per_currency in revenue.values():
        for currency, amount in per_currency.items():
            totals[currency] += amount
    return ([(start, counts[start], energy[start], dict(revenue[start]))
             for start in periods.bucket_starts(period, unit)],
            sum(counts.values()), sum(energy.values()), dict(totals),
            [tuple(hours[h]) for h in range(24)])


def figures(report: Overview):
    return ([(row.start, row.sessions, row.energy_wh, row.revenue) for row in report.rows],
            report.sessions, report.energy_wh, report.revenue,
            [(row.sessions, row.energy_wh) for row in report.by_hour])


def station_ids(db, site_ids: list[int] | None) -> set[int] | None:
    if site_ids is None:
        return None
    with db.session() as session:
        return set(session.scalars(select(Station.id).where(Station.site_id.in_(site_ids))))


def assert_reports_equal_sessions(db, looks: list[tuple[Viewer, int | None, list[int] | None]]
                                  ) -> None:
    """Every viewer's overview, per day, week and month, in time zones on and off the
    hour, is what the sessions themselves add up to."""
    for viewer, site_id, sites in looks:
        expected_stations = station_ids(db, sites)
        for zone in ZONES:
            period = periods.make_period(zone, utc(2030, 1, 1), "custom", *PERIOD)
            for unit in periods.BUCKETS:
                with db.session() as session:
                    report = overview(session, viewer, period, unit, site_id)
                assert figures(report) == from_sessions(db, expected_stations, period, unit), (
                    viewer, site_id, zone, unit)


@pytest.fixture(scope="module")
def network(db):
    """Two owners: one with a euro site of two stations, one with a krona site; a pending
    station on no site; and an admin. Returns (owner, admin, euro site, its stations, krona
    site, its station, the pending station)."""
    with db.session() as session:
        first = create_owner(session, "totals-first@example.org", None).id
        second = create_owner(session, "totals-second@example.org", None).id
        admin = create_owner(session, "totals-admin@example.org", None, admin=True).id
        pending = Station(charge_point_id="TOTALS-PENDING", registration=Registration.PENDING,
                          connectors=[Connector(connector_id=1)])
        session.add(pending)
    euro_site, euro = make_site(db, first, "EUR", stations=2)
    krona_site, krona = make_site(db, second, "SEK", timezone="Europe/Stockholm")
    return (Viewer(first, False), Viewer(admin, True), euro_site, euro, krona_site, krona,
            "TOTALS-PENDING")


def test_reports_from_the_totals_equal_the_sessions_through_late_arrivals_faults_and_refunds(
        db, network):
    owner, admin, euro_site, (first, second), krona_site, (krona,), pending = network
    looks = [(owner, None, [euro_site]), (owner, euro_site, [euro_site]),
             (owner, krona_site, []), (admin, None, None), (admin, krona_site, [krona_site])]

    # Closed sessions, two of them in the same hour at the same site, one in kronor; one
    # charged on a free card (no cost); one the charger stopped twice; one at a station
    # waiting to be adopted (on no site, so only an admin's report of all sites has it).
    stop(db, pending, start(db, pending, utc(2024, 5, 3, 9, 20)), utc(2024, 5, 3, 9, 50), 4_000)
    stop(db, first, start(db, first, utc(2024, 5, 3, 9, 10)), utc(2024, 5, 3, 10, 40), 20_000)
    stop(db, second, start(db, second, utc(2024, 5, 3, 9, 55)), utc(2024, 5, 3, 11), 7_000)
    stop(db, krona, start(db, krona, utc(2024, 5, 3, 22, 30)), utc(2024, 5, 4, 1), 11_000)
    twice = start(db, second, utc(2024, 4, 30, 21, 59), connector_id=2)
    stop(db, second, twice, utc(2024, 4, 30, 23), 5_000)
    stop(db, second, twice, utc(2024, 4, 30, 23, 5), 5_500)
    free = start(db, first, utc(2024, 5, 2, 6), connector_id=2)
    with db.session() as session:
        card_session = session.get(ChargingSession, free)
        card_session.price, card_session.currency = None, None
    stop(db, first, free, utc(2024, 5, 2, 7), 3_000)
    # Still charging: counted from the session itself.
    start(db, krona, utc(2024, 5, 5, 18, 45), connector_id=2)
    assert_reports_equal_sessions(db, looks)

    # A fault ends a session at its last reading.
    faulted = start(db, first, utc(2024, 5, 4, 12, 5))
    with db.session() as session:
        charging.connector_status_changed(session, first, 1, ConnectorStatus.FAULTED,
                                          utc(2024, 5, 4, 12, 30))
    assert_reports_equal_sessions(db, looks)

    # A transaction made offline days ago arrives now: its past day changes.
    with db.session() as session:
        before = overview(session, owner, periods.make_period(
            "Europe/Amsterdam", utc(2030, 1, 1), "custom", *PERIOD), "day")
    late = start(db, second, utc(2024, 4, 29, 23, 30))  # 01:30 on 30 April in Amsterdam
    stop(db, second, late, utc(2024, 4, 30, 1), 9_000)
    with db.session() as session:
        after = overview(session, owner, periods.make_period(
            "Europe/Amsterdam", utc(2030, 1, 1), "custom", *PERIOD), "day")
    changed = [(b.start, a.sessions - b.sessions, a.energy_wh - b.energy_wh)
               for b, a in zip(before.rows, after.rows, strict=True) if a != b]
    assert changed == [(date(2024, 4, 30), 1, 9_000)]
    assert_reports_equal_sessions(db, looks)

    # A paid session is captured, then partly refunded: revenue is what sessions cost.
    paid = start(db, first, utc(2024, 5, 1, 15, 20), hold=True)
    stop(db, first, paid, utc(2024, 5, 1, 16), 10_000)
    payments.settle_pending(db, DemoGateway())
    payments.refund(db, DemoGateway(), paid, 100, "Slow charging")
    with db.session() as session:
        refunded = session.get(ChargingSession, paid)
        assert (refunded.payment_state, refunded.amount_refunded) == (PaymentState.CAPTURED,
                                                                      100)
    assert_reports_equal_sessions(db, looks)
    with db.session() as session:
        assert session.get(ChargingSession, faulted).stopped_at is not None


# --- Counting again ----------------------------------------------------------------------

def totals(db) -> tuple[list, list]:
    """Every row of both totals, in order."""
    with db.session() as session:
        return (session.execute(select(
                    NetworkHourTotal.hour_start, NetworkHourTotal.currency,
                    NetworkHourTotal.sessions, NetworkHourTotal.energy_wh,
                    NetworkHourTotal.revenue)
                .order_by(NetworkHourTotal.hour_start, NetworkHourTotal.currency)).all(),
                session.execute(select(
                    SiteHourTotal.site_id, SiteHourTotal.hour_start, SiteHourTotal.currency,
                    SiteHourTotal.sessions, SiteHourTotal.energy_wh, SiteHourTotal.revenue)
                .order_by(SiteHourTotal.site_id, SiteHourTotal.hour_start,
                          SiteHourTotal.currency)).all())


@pytest.fixture
def history(db, network) -> tuple[list, list]:
    """Some closed sessions (more when the test above ran first) and the totals kept as
    they closed."""
    _, _, _, (first, _), _, (krona,), _ = network
    stop(db, first, start(db, first, utc(2024, 5, 6, 8)), utc(2024, 5, 6, 9), 1_000)
    stop(db, krona, start(db, krona, utc(2024, 5, 6, 8, 30)), utc(2024, 5, 6, 9), 2_000)
    kept = totals(db)
    assert len(kept[0]) >= 2 and len(kept[1]) >= 2
    return kept


def test_counting_every_closed_session_again_gives_the_totals_kept_as_they_closed(db, history):
    with db.session() as session:
        recount_session_totals(session)
    assert totals(db) == history


def test_the_migration_counts_the_sessions_closed_before_it(db, database_url, history):
    command.downgrade(alembic_config(database_url), "0008")
    upgrade(database_url)
    assert totals(db) == history


@pytest.mark.parametrize("zone, whole", [
    ("Europe/Amsterdam", True), ("America/New_York", True), ("UTC", True),
    ("Asia/Kolkata", False), ("Australia/Lord_Howe", False), ("Asia/Kathmandu", False)])
def test_hourly_totals_serve_only_time_zones_whose_hours_are_whole_utc_hours(zone, whole):
    clock = sql.LocalTime("postgresql", zone, utc(2024, 1, 1), utc(2025, 1, 1))
    assert clock.whole_hours is whole
