"""The reliability report page: per plug figures, outages the owner excludes from the
page with a reason (and counts again), and its CSV export."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime

import pytest

from tests.factories import add_event, make_place
from tests.support.owner import csrf_of
from voltspot.domain.statuses import ConnectorStatus
from voltspot.models import StationEventKind

QUERY = "period=custom&from=2024-03-01&to=2024-03-01"


def at(hour: int) -> datetime:
    return datetime(2024, 3, 1, hour, tzinfo=UTC)


@pytest.fixture
def faulty(db, owner):
    """Connected all day; plug 1 faulted 06:00-12:00: 360 of 1,440 minutes down, 75 %."""
    place = make_place(db, owner_id=owner.id, timezone="UTC")
    charge_point_id, station_id = next(iter(place.stations.items()))
    with db.session() as session:
        add_event(session, station_id, at(0), StationEventKind.CONNECTED)
        add_event(session, station_id, at(6), StationEventKind.STATUS, 1,
                  ConnectorStatus.FAULTED)
        add_event(session, station_id, at(12), StationEventKind.STATUS, 1,
                  ConnectorStatus.AVAILABLE)
    return charge_point_id


def page(client) -> str:
    return html.unescape(client.get(f"/owner/reports/reliability?{QUERY}")
                         .get_data(as_text=True))


def nevi(text: str, charge_point_id: str, plug: int) -> str:
    row = text[text.index(f'data-plug="{charge_point_id}-{plug}"'):]
    return re.search(r'data-testid="nevi-uptime"><strong>([^<]+)<', row)[1]


def test_the_report_shows_each_plugs_uptime_and_its_outages(signed_in, faulty):
    text = page(signed_in)
    assert nevi(text, faulty, 1) == "75.00 %" and nevi(text, faulty, 2) == "100.00 %"
    assert "01 Mar 06:00 – 01 Mar 12:00" in text and "6 h 00 min" in text
    assert "Fault reported" in text


def test_an_owner_excludes_part_of_an_outage_with_a_reason_and_counts_it_again(
        signed_in, faulty):
    response = signed_in.post("/owner/reports/reliability/exclusions", data={
        "csrf_token": csrf_of(signed_in), "station": faulty, "plug": "1",
        "start": at(6).isoformat(), "end": at(9).isoformat(), "cause": "vandalism",
        "reason": "Cable cut", "back": f"/owner/reports/reliability?{QUERY}"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/owner/reports/reliability?{QUERY}")
    text = page(signed_in)
    assert nevi(text, faulty, 1) == "87.50 %"
    assert "Vandalism or theft — “Cable cut”" in text
    exclusion = re.search(r"/owner/reports/reliability/exclusions/(\d+)/remove", text)[1]
    signed_in.post(f"/owner/reports/reliability/exclusions/{exclusion}/remove",
                   data={"csrf_token": csrf_of(signed_in)})
    assert nevi(page(signed_in), faulty, 1) == "75.00 %"


def test_an_exclusion_without_a_reason_is_refused_and_said_why(signed_in, faulty):
    signed_in.post("/owner/reports/reliability/exclusions", data={
        "csrf_token": csrf_of(signed_in), "station": faulty, "plug": "1",
        "start": at(6).isoformat(), "end": at(9).isoformat(), "cause": "grid",
        "reason": " "})
    text = page(signed_in)
    assert "The outage was not excluded: Say in a few words what happened" in text
    assert nevi(text, faulty, 1) == "75.00 %"


def test_the_form_does_not_redirect_off_the_report(signed_in, faulty):
    response = signed_in.post("/owner/reports/reliability/exclusions", data={
        "csrf_token": csrf_of(signed_in), "station": faulty, "plug": "1",
        "start": at(6).isoformat(), "end": at(9).isoformat(), "cause": "grid",
        "reason": "x", "back": "https://evil.example/"})
    assert response.headers["Location"].endswith("/owner/reports/reliability")


def test_the_csv_export_has_the_figures_per_plug(signed_in, faulty):
    response = signed_in.get(f"/owner/reports/reliability.csv?{QUERY}")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    mine = next(r for r in rows if (r["station"], r["plug"]) == (faulty, "1"))
    assert (mine["outage_minutes"], mine["nevi_uptime_percent"]) == ("360.0", "75.00")
