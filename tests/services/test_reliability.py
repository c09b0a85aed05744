"""The reliability report (UK PCPR 2023, US NEVI 23 CFR 680.116(b)) against figures
worked out by hand for a scripted status history: one day, a fault carried in across the
period's start and one running past its end, an outage while offline, a whole-station
outage, and outages the owner excluded (one for a plug, one for the whole station).

Period: 1 March 2024, 00:00-24:00 UTC, T = 1,440 min. Station A, plug 1 (150 kW, rapid):

    outage                 cause                          minutes   excluded
    00:00-00:30            fault since 29 Feb 23:30            30          0
    02:00-03:30            offline 02-03, fault 02:30-03:30    90         60  (grid, 02-03)
    10:00-12:00            fault                              120         60  (vandalism, 10-11)
    20:00-20:45            station unavailable                 45         45  (maintenance, all)
    23:00-24:00            fault, not cleared                  60          0
                                                    F = 345   E = 165
    NEVI mu = (1440 - (345 - 165)) / 1440 = 1260 / 1440 = 87.5 %; UK the same.

Plug 2 (22 kW, not rapid): offline 02:00-03:00 (60) and station unavailable 20:00-20:45
(45, excluded): F = 105, E = 45, mu = (1440 - 60) / 1440 = 95.8333 %.

Station B, first connected at 12:00: observed 720 min, never down: 100 %.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update

from tests.factories import add_event, add_session, make_place
from voltspot.domain.statuses import ConnectorStatus, SessionStatus
from voltspot.models import Connector, StationEventKind
from voltspot.services.errors import InvalidInput, NotFound
from voltspot.services.reports.periods import make_period
from voltspot.services.reports.reliability import (
    Exclusion,
    as_csv,
    csv_rows,
    exclude_outage,
    outages,
    plug_timeline,
    reliability,
)

DAY = date(2024, 3, 1)
CONNECTED, DISCONNECTED = StationEventKind.CONNECTED, StationEventKind.DISCONNECTED
FAULTED, AVAILABLE = ConnectorStatus.FAULTED, ConnectorStatus.AVAILABLE
UNAVAILABLE = ConnectorStatus.UNAVAILABLE


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2024, 3 if day else 2, day or 29, hour, minute, tzinfo=UTC)


@pytest.fixture
def scripted(db):
    place = make_place(db, stations=2, timezone="UTC")
    (cp_a, a), (cp_b, b) = place.stations.items()
    with db.session() as session:
        session.execute(update(Connector).where(Connector.station_id == a,
                                                Connector.connector_id == 1)
                        .values(max_power_w=150_000))
        session.execute(update(Connector).where(Connector.station_id == a,
                                                Connector.connector_id == 2)
                        .values(max_power_w=22_000))
        for when, kind in ((at(22, day=0), CONNECTED), (at(2), DISCONNECTED),
                           (at(3), CONNECTED)):
            add_event(session, a, when, kind)
        for when, plug, status in (
                (at(23, 30, day=0), 1, FAULTED), (at(0, 30), 1, AVAILABLE),
                (at(2, 30), 1, FAULTED), (at(3, 30), 1, AVAILABLE),
                (at(10), 1, FAULTED), (at(12), 1, AVAILABLE),
                (at(20), 0, UNAVAILABLE), (at(20, 45), 0, AVAILABLE),
                (at(23), 1, FAULTED)):
            add_event(session, a, when, StationEventKind.STATUS, plug, status)
        add_event(session, b, at(12), CONNECTED)
        add_session(session, a, None, status=SessionStatus.FAILED, created_at=at(9))
        add_session(session, a, None, status=SessionStatus.FAILED, created_at=at(9, day=0))
    exclude_outage(db, place.viewer, cp_a, 1, at(2), at(3), "grid", "Grid operator cut")
    exclude_outage(db, place.viewer, cp_a, 1, at(10), at(11), "vandalism", "Cable cut")
    exclude_outage(db, place.viewer, cp_a, 0, at(20), at(20, 45), "maintenance",
                   "Planned inspection")
    return place, cp_a, cp_b


def report(db, place):
    period = make_period("UTC", at(12, day=10), "custom", DAY, DAY)
    with db.session() as session:
        return reliability(session, place.viewer, period, now=at(12, day=10))


def plug(found, charge_point_id: str, number: int):
    return next(p for site in found.sites for p in site.plugs
                if (p.charge_point_id, p.plug_number) == (charge_point_id, number))


def test_a_rapid_plugs_figures_match_the_hand_worked_ones(db, scripted):
    place, cp_a, _ = scripted
    one = plug(report(db, place), cp_a, 1)
    assert one.figures.observed_seconds == 1440 * 60
    assert one.figures.down_seconds == 345 * 60
    assert one.figures.excluded_seconds == 165 * 60
    assert one.figures.nevi_uptime == pytest.approx(87.5)
    assert one.figures.uk_availability == pytest.approx(87.5)
    assert one.rapid and one.failed_starts == 1


def test_outages_are_listed_with_durations_causes_and_what_was_excluded(db, scripted):
    place, cp_a, _ = scripted
    found = plug(report(db, place), cp_a, 1).outages
    assert [(o.start, o.end, o.seconds / 60, o.excluded_seconds / 60) for o in found] == [
        (at(0), at(0, 30), 30, 0), (at(2), at(3, 30), 90, 60), (at(10), at(12), 120, 60),
        (at(20), at(20, 45), 45, 45), (at(23), at(0, day=2), 60, 0)]
    assert found[1].causes == ("Station offline", "Fault reported")
    assert found[3].causes == ("Unavailable",) and found[3].fully_excluded
    assert [x.cause for x in found[2].exclusions] == ["vandalism"]


def test_a_whole_station_outage_and_its_exclusion_count_for_every_plug(db, scripted):
    place, cp_a, _ = scripted
    two = plug(report(db, place), cp_a, 2)
    assert (two.figures.down_seconds / 60, two.figures.excluded_seconds / 60) == (105, 45)
    assert two.figures.nevi_uptime == pytest.approx(1380 / 1440 * 100)
    assert not two.rapid and two.failed_starts == 0


def test_time_before_a_station_first_connected_is_not_counted(db, scripted):
    place, _, cp_b = scripted
    one = plug(report(db, place), cp_b, 1)
    assert one.figures.observed_seconds == 720 * 60
    assert one.figures.nevi_uptime == 100 and one.outages == []


def test_a_site_averages_its_rapid_plugs_for_the_uk_and_every_port_for_nevi(db, scripted):
    place, *_ = scripted
    site = report(db, place).sites[0]
    assert site.uk_availability == pytest.approx(87.5)
    assert site.nevi_uptime == pytest.approx((87.5 + 1380 / 14.4 + 100 + 100) / 4)
    assert site.ports_below_nevi == 2 and site.failed_starts == 1


def test_the_csv_has_a_row_per_plug_with_the_figures(db, scripted):
    place, cp_a, _ = scripted
    rows = list(csv.DictReader(io.StringIO(as_csv(csv_rows(report(db, place))))))
    mine = next(r for r in rows if (r["station"], r["plug"]) == (cp_a, "1"))
    assert mine["nevi_uptime_percent"] == "87.50" and mine["uk_availability_percent"] == "87.50"
    assert (mine["outage_minutes"], mine["excluded_minutes"]) == ("345.0", "165.0")
    assert mine["outages"] == "5" and mine["failed_starts"] == "1"
    assert next(r for r in rows if (r["station"], r["plug"]) == (cp_a, "2"))[
        "uk_availability_percent"] == ""


def test_overlapping_exclusions_count_once():
    timeline = plug_timeline(at(0), at(4), [(at(0), True)], [], [(at(1), FAULTED),
                                                               (at(3), AVAILABLE)])
    windows = [Exclusion(1, at(1), at(2), "grid", "x"), Exclusion(2, at(1, 30), at(2, 30),
                                                                 "grid", "y")]
    (outage,) = outages(timeline, windows)
    assert outage.seconds == 2 * 3600 and outage.excluded_seconds == 90 * 60


@pytest.mark.parametrize(("plug_number", "cause", "reason", "end", "error"), [
    (1, "bad luck", "x", at(3), InvalidInput),
    (1, "grid", "  ", at(3), InvalidInput),
    (1, "grid", "x", at(1), InvalidInput),
    (9, "grid", "x", at(3), NotFound),
])
def test_an_exclusion_needs_a_known_cause_a_reason_a_span_and_a_plug(
        db, scripted, plug_number, cause, reason, end, error):
    place, cp_a, _ = scripted
    with pytest.raises(error):
        exclude_outage(db, place.viewer, cp_a, plug_number, at(2), end, cause, reason)


def test_another_owners_station_cannot_be_excluded(db, scripted):
    place, cp_a, _ = scripted
    stranger = make_place(db).viewer
    with pytest.raises(NotFound):
        exclude_outage(db, stranger, cp_a, 1, at(2), at(3), "grid", "not mine")
