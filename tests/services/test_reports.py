"""Reports: local-time buckets, totals, utilisation and uptime, computed by the database."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.factories import add_event, add_session, make_place, utc
from voltspot.domain.statuses import ConnectorStatus, SessionStatus
from voltspot.models import (
    ChargingSession,
    StationEvent,
    StationEventKind,
)
from voltspot.services.errors import InvalidInput
from voltspot.services.owner.accounts import Viewer
from voltspot.services.reports import periods, sql
from voltspot.services.reports.overview import overview
from voltspot.services.reports.uptime import uptime
from voltspot.services.reports.utilisation import utilisation
from voltspot.services.stations import registry as stations


def custom(first: date, last: date, timezone: str = "Europe/Amsterdam") -> periods.Period:
    return periods.make_period(timezone, utc(2030, 1, 1), "custom", first, last)


def window(start: datetime, end: datetime) -> periods.Period:
    """A period that is not whole days, for exact uptime arithmetic."""
    return periods.Period(start, end, "UTC", start.date(), end.date(), "custom")


# --- periods and local time -----------------------------------------------------------

def test_a_preset_period_is_whole_local_days_up_to_today():
    now = utc(2024, 6, 10, 23, 30)  # 01:30 on 11 June in Amsterdam
    period = periods.make_period("Europe/Amsterdam", now, "7")
    assert (period.first_day, period.last_day) == (date(2024, 6, 5), date(2024, 6, 11))
    assert period.start == utc(2024, 6, 4, 22) and period.end == utc(2024, 6, 11, 22)


@pytest.mark.parametrize("first, last", [(date(2024, 2, 1), date(2024, 1, 1)),
                                         (date(2020, 1, 1), date(2024, 1, 1)), (None, None)])
def test_a_custom_period_must_be_in_order_and_not_too_long(first, last):
    with pytest.raises(InvalidInput):
        periods.make_period("UTC", utc(2024, 6, 1), "custom", first, last)


def test_offset_changes_are_found_to_the_second():
    changes = sql.offset_changes(ZoneInfo("Europe/Amsterdam"), utc(2024, 3, 1),
                                     utc(2024, 11, 1))
    assert changes == [(utc(2024, 3, 1), 3600), (utc(2024, 3, 31, 1), 7200),
                       (utc(2024, 10, 27, 1), 3600)]


def test_sessions_fall_on_the_local_day_they_started_across_a_summer_time_change(db):
    place = make_place(db)
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        add_session(session, station_id, utc(2024, 3, 30, 23, 30))  # 00:30 on 31 Mar (+01)
        add_session(session, station_id, utc(2024, 3, 31, 21, 30))  # 23:30 on 31 Mar (+02)
        add_session(session, station_id, utc(2024, 3, 31, 22, 30))  # 00:30 on 1 Apr (+02)
        report = overview(session, place.viewer,
                                  custom(date(2024, 3, 30), date(2024, 4, 1)), "day")
    assert [(row.start, row.sessions) for row in report.rows] == [
        (date(2024, 3, 30), 0), (date(2024, 3, 31), 2), (date(2024, 4, 1), 1)]
    assert report.by_hour[0].sessions == 2 and report.by_hour[23].sessions == 1


@pytest.mark.parametrize("unit, expected", [
    ("hour", datetime(2024, 3, 31, 3)), ("day", datetime(2024, 3, 31)),
    ("week", datetime(2024, 3, 25)), ("month", datetime(2024, 3, 1))])
def test_local_truncation_is_the_same_on_every_database(db, unit, expected):
    place = make_place(db)
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        made = add_session(session, station_id, utc(2024, 3, 31, 1, 30))  # 03:30 (+02)
        clock = sql.LocalTime(sql.dialect_of(session), "Europe/Amsterdam",
                                  utc(2024, 3, 1), utc(2024, 4, 1))
        value = session.scalar(select(clock.truncate(ChargingSession.started_at, unit))
                               .where(ChargingSession.id == made.id))
    assert sql.local_value(value) == expected


def test_energy_sessions_and_revenue_add_up_per_week_and_month_by_currency(db):
    place = make_place(db)
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        add_session(session, station_id, utc(2024, 1, 1, 10), energy_wh=5_000, cost=250,
                    currency="EUR")  # a Monday
        add_session(session, station_id, utc(2024, 1, 7, 10), energy_wh=7_000, cost=350,
                    currency="EUR")  # the Sunday of the same week
        add_session(session, station_id, utc(2024, 1, 8, 10), energy_wh=1_000, cost=900,
                    currency="SEK")
        add_session(session, station_id, utc(2024, 2, 1, 10), energy_wh=2_500)  # free
        period = custom(date(2024, 1, 1), date(2024, 2, 29))
        weeks = overview(session, place.viewer, period, "week")
        months = overview(session, place.viewer, period, "month")
    assert weeks.rows[0].start == date(2024, 1, 1)
    assert (weeks.rows[0].sessions, weeks.rows[0].energy_wh, weeks.rows[0].revenue) == (
        2, 12_000, {"EUR": 600})
    assert (weeks.rows[1].sessions, weeks.rows[1].revenue) == (1, {"SEK": 900})
    assert [(r.start, r.sessions, r.energy_wh) for r in months.rows] == [
        (date(2024, 1, 1), 3, 13_000), (date(2024, 2, 1), 1, 2_500)]
    assert months.revenue == {"EUR": 600, "SEK": 900}
    assert (months.sessions, months.energy_wh) == (4, 15_500)


def test_a_session_outside_the_period_or_never_started_is_not_counted(db):
    place = make_place(db)
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        add_session(session, station_id, utc(2024, 1, 31, 22, 59))  # 23:59 on 31 Jan local
        add_session(session, station_id, None, status=SessionStatus.FAILED,
                    created_at=utc(2024, 2, 10))
        report = overview(session, place.viewer,
                                  custom(date(2024, 2, 1), date(2024, 2, 29)), "month")
    assert report.sessions == 0


def test_reports_never_count_another_owners_sessions_or_stations(db):
    mine, theirs = make_place(db), make_place(db)
    with db.session() as session:
        add_session(session, next(iter(theirs.stations.values())), utc(2024, 5, 5, 10),
                    cost=999, currency="EUR")
        add_event(session, next(iter(theirs.stations.values())), utc(2024, 5, 1),
                  StationEventKind.CONNECTED)
        period = custom(date(2024, 5, 1), date(2024, 5, 31))
        summary = overview(session, mine.viewer, period, "day")
        use = utilisation(session, mine.viewer, period)
        up = uptime(session, mine.viewer, period)
        other_site = overview(session, mine.viewer, period, "day", site_id=theirs.site_id)
    assert summary.sessions == 0 and summary.revenue == {}
    assert other_site.sessions == 0
    assert {c.charge_point_id for c in use.connectors} == set(mine.stations)
    assert {s.charge_point_id for s in up.stations} == set(mine.stations)


def test_an_admin_report_covers_every_owners_stations(db):
    first, second = make_place(db, timezone="UTC"), make_place(db, timezone="UTC")
    admin = Viewer(first.viewer.owner_id, True)
    with db.session() as session:
        for place in (first, second):
            add_session(session, next(iter(place.stations.values())), utc(2031, 2, 3, 10),
                        energy_wh=1_000)
        period = custom(date(2031, 2, 3), date(2031, 2, 3), "UTC")
        everything = overview(session, admin, period, "day")
        one_site = overview(session, admin, period, "day", site_id=second.site_id)
        plugs = utilisation(session, admin, period, now=utc(2040, 1, 1))
    assert (everything.sessions, everything.energy_wh) == (2, 2_000)
    assert one_site.sessions == 1
    assert set(first.stations) | set(second.stations) <= {
        c.charge_point_id for c in plugs.connectors}


# --- utilisation ----------------------------------------------------------------------

def test_utilisation_is_the_share_of_the_period_a_plug_was_occupied_and_charging(db):
    place = make_place(db, timezone="UTC")
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        add_session(session, station_id, utc(2024, 4, 2, 8), minutes=120, charging_minutes=90)
        add_session(session, station_id, utc(2024, 4, 2, 20), minutes=60)
        # Half inside: started an hour before the period.
        add_session(session, station_id, utc(2024, 4, 1, 23), minutes=120, charging_minutes=30)
        report = utilisation(session, place.viewer,
                                     custom(date(2024, 4, 2), date(2024, 4, 2), "UTC"),
                                     now=utc(2030, 1, 1))
    plug1, plug2 = report.connectors
    assert report.period_seconds == 86400
    assert plug1.sessions == 3
    assert plug1.occupied_seconds == pytest.approx((120 + 60 + 60) * 60, abs=1)
    assert plug1.charging_seconds == pytest.approx((90 + 60 + 0) * 60, abs=1)
    assert plug1.occupied_share == pytest.approx(240 / 1440, abs=1e-4)
    assert (plug2.connector_id, plug2.sessions, plug2.occupied_share) == (2, 0, 0)


def test_an_open_session_occupies_its_plug_until_now(db):
    place = make_place(db, timezone="UTC")
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        add_session(session, station_id, utc(2024, 4, 2, 10), minutes=None,
                    status=SessionStatus.CHARGING)
        report = utilisation(session, place.viewer,
                                     custom(date(2024, 4, 2), date(2024, 4, 2), "UTC"),
                                     now=utc(2024, 4, 2, 12))
    assert report.period_seconds == 12 * 3600
    assert report.connectors[0].occupied_seconds == pytest.approx(7200, abs=1)


# --- uptime ---------------------------------------------------------------------------

def test_uptime_counts_connected_time_without_a_fault(db):
    """1 h connected and fine, 15 min connected with a faulted plug, 15 min disconnected."""
    place = make_place(db)
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        add_event(session, station_id, utc(2024, 7, 1, 10), StationEventKind.CONNECTED)
        add_event(session, station_id, utc(2024, 7, 1, 10), StationEventKind.STATUS, 1,
                  ConnectorStatus.AVAILABLE)
        add_event(session, station_id, utc(2024, 7, 1, 11), StationEventKind.STATUS, 1,
                  ConnectorStatus.FAULTED)
        add_event(session, station_id, utc(2024, 7, 1, 11, 15), StationEventKind.DISCONNECTED)
        report = uptime(session, place.viewer,
                                window(utc(2024, 7, 1, 10), utc(2024, 7, 1, 11, 30)),
                                now=utc(2030, 1, 1))
    (station,) = report.stations
    assert station.observed_seconds == pytest.approx(5400, abs=1)
    assert station.connected_seconds == pytest.approx(4500, abs=1)
    assert station.up_seconds == pytest.approx(3600, abs=1)
    assert station.uptime_share == pytest.approx(2 / 3, abs=1e-4)
    assert station.connected_share == pytest.approx(5 / 6, abs=1e-4)


def test_uptime_starts_from_the_state_each_stream_was_in_before_the_period(db):
    place = make_place(db)
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        add_event(session, station_id, utc(2024, 7, 1), StationEventKind.CONNECTED)
        add_event(session, station_id, utc(2024, 7, 1, 1), StationEventKind.STATUS, 0,
                  ConnectorStatus.FAULTED)
        add_event(session, station_id, utc(2024, 7, 1, 2), StationEventKind.STATUS, 2,
                  ConnectorStatus.AVAILABLE)
        # The period: 12:00-14:00; the whole station's fault clears at 12:30, plug 2
        # faults 13:00-13:15 and again from 13:45 while plug 1 is fine throughout.
        add_event(session, station_id, utc(2024, 7, 1, 12, 30), StationEventKind.STATUS, 0,
                  ConnectorStatus.AVAILABLE)
        add_event(session, station_id, utc(2024, 7, 1, 13), StationEventKind.STATUS, 2,
                  ConnectorStatus.FAULTED)
        add_event(session, station_id, utc(2024, 7, 1, 13, 15), StationEventKind.STATUS, 2,
                  ConnectorStatus.AVAILABLE)
        add_event(session, station_id, utc(2024, 7, 1, 13, 45), StationEventKind.STATUS, 2,
                  ConnectorStatus.FAULTED)
        report = uptime(session, place.viewer,
                                window(utc(2024, 7, 1, 12), utc(2024, 7, 1, 14)),
                                now=utc(2030, 1, 1))
    (station,) = report.stations
    assert station.observed_seconds == pytest.approx(7200, abs=1)
    assert station.connected_seconds == pytest.approx(7200, abs=1)
    assert station.up_seconds == pytest.approx(3600, abs=1)


def test_uptime_overlapping_faults_count_once_and_time_before_history_is_not_observed(db):
    place = make_place(db)
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        add_event(session, station_id, utc(2024, 7, 2, 10), StationEventKind.CONNECTED)
        add_event(session, station_id, utc(2024, 7, 2, 10, 30), StationEventKind.STATUS, 1,
                  ConnectorStatus.FAULTED)
        add_event(session, station_id, utc(2024, 7, 2, 10, 40), StationEventKind.STATUS, 2,
                  ConnectorStatus.FAULTED)
        add_event(session, station_id, utc(2024, 7, 2, 10, 50), StationEventKind.STATUS, 1,
                  ConnectorStatus.AVAILABLE)
        add_event(session, station_id, utc(2024, 7, 2, 11), StationEventKind.STATUS, 2,
                  ConnectorStatus.AVAILABLE)
        report = uptime(session, place.viewer,
                                window(utc(2024, 7, 2, 9), utc(2024, 7, 2, 12)),
                                now=utc(2030, 1, 1))
    (station,) = report.stations
    assert station.observed_seconds == pytest.approx(7200, abs=1)
    assert station.up_seconds == pytest.approx(7200 - 1800, abs=1)


def test_uptime_counts_only_up_to_now_and_a_station_without_history_is_unknown(db):
    place = make_place(db, stations=2)
    first, second = place.stations.values()
    with db.session() as session:
        add_event(session, first, utc(2024, 8, 1, 10), StationEventKind.CONNECTED)
        report = uptime(session, place.viewer,
                                window(utc(2024, 8, 1, 10), utc(2024, 8, 1, 20)),
                                now=utc(2024, 8, 1, 11))
    by_id = {s.charge_point_id: s for s in report.stations}
    known = [s for s in by_id.values() if s.known]
    assert len(known) == 1 and known[0].uptime_share == pytest.approx(1)
    assert known[0].observed_seconds == pytest.approx(3600, abs=1)
    assert sum(not s.known for s in by_id.values()) == 1


def test_the_station_service_records_connections_and_statuses_as_events(db):
    place = make_place(db)
    charge_point_id, station_id = next(iter(place.stations.items()))
    with db.session() as session:
        stations.mark_connected(session, charge_point_id, "conn-1", "1.6")
        stations.record_status(session, charge_point_id, 1, ConnectorStatus.FAULTED,
                               "GroundFailure", utc(2024, 1, 1))
        stations.mark_disconnected(session, charge_point_id, "stale-connection")
        stations.mark_disconnected(session, charge_point_id, "conn-1")
    with db.session() as session:
        events = session.execute(select(StationEvent.kind, StationEvent.connector_id,
                                        StationEvent.status)
                                 .where(StationEvent.station_id == station_id)
                                 .order_by(StationEvent.id)).all()
    assert events == [(StationEventKind.CONNECTED, None, None),
                      (StationEventKind.STATUS, 1, ConnectorStatus.FAULTED),
                      (StationEventKind.DISCONNECTED, None, None)]
