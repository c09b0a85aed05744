"""Report charts that read with little data: over a day or two the sessions are bars beside
the energy (a line needs points to join), session axes count whole sessions, and the rows
are named in the owner's language; over a month the sessions are a line again."""

from __future__ import annotations

import html
import json
import re

import pytest

from tests.factories import add_session, make_place, utc
from tests.support.owner import sign_in


def charts(page: str) -> list[dict]:
    return [json.loads(html.unescape(spec)) for spec in re.findall(r"data-chart='([^']*)'", page)]


@pytest.fixture
def two_days(db, owner):
    """Sessions on 2 and 3 May 2024 at one of ``owner``'s stations."""
    place = make_place(db, owner_id=owner.id)
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        add_session(session, station_id, utc(2024, 5, 2, 8), energy_wh=12_000, cost=500,
                    currency="EUR")
        add_session(session, station_id, utc(2024, 5, 3, 9), energy_wh=30_500, cost=1300,
                    currency="EUR")
    return place


def test_over_two_days_the_sessions_are_bars_beside_the_energy(signed_in, two_days):
    page = signed_in.get("/owner/reports?period=custom&from=2024-05-02&to=2024-05-03"
                         ).get_data(as_text=True)
    energy, revenue, hours = charts(page)
    assert energy["labels"] == ["Thu 2 May", "Fri 3 May"]
    assert [series["type"] if "type" in series else energy["type"]
            for series in energy["series"]] == ["bar", "bar"]
    assert energy["series"][0]["data"] == [12.0, 30.5]
    assert energy["series"][1]["data"] == [1, 1]
    assert energy["axes"]["y1"] == {"title": "sessions", "integer": True}
    assert hours["axes"]["y"]["integer"] is True
    assert revenue["type"] == "bar" and revenue["series"][0]["data"] == [5.0, 13.0]


def test_over_a_month_the_sessions_are_a_line_again(signed_in, two_days):
    page = signed_in.get("/owner/reports?period=custom&from=2024-05-01&to=2024-05-31"
                         ).get_data(as_text=True)
    energy = charts(page)[0]
    assert len(energy["labels"]) == 31 and energy["series"][1]["type"] == "line"


def test_the_chart_names_its_days_in_the_owners_language(app, owner, two_days):
    client = sign_in(app.test_client(), owner)
    page = client.get("/owner/reports?period=custom&from=2024-05-02&to=2024-05-03",
                      headers={"Accept-Language": "de"}).get_data(as_text=True)
    energy = charts(page)[0]
    assert energy["labels"] == ["Do., 2. Mai", "Fr., 3. Mai"]
    assert energy["series"][0]["label"] == "Energie (kWh)"
    assert energy["axes"]["y1"]["title"] == "Ladevorgänge"
    assert "Do., 2. Mai" in html.unescape(page)
