"""The report pages: the period picker, numbers as tables and charts, and only the
owner's own stations in them."""

from __future__ import annotations

import html
import json
import re
import uuid
from datetime import timedelta

import pytest

from tests.factories import add_event, add_session, make_owner, make_place, utc
from tests.support.owner import csrf_of, sign_in
from voltspot.domain.statuses import ConnectorStatus, Registration
from voltspot.models import Connector, Station, StationEventKind, utcnow

CUSTOM_MAY = "period=custom&from=2024-05-01&to=2024-05-31"


def charts(page: str) -> list[dict]:
    return [json.loads(html.unescape(spec)) for spec in re.findall(r"data-chart='([^']*)'", page)]


@pytest.fixture
def place(db, owner):
    return make_place(db, owner_id=owner.id)


@pytest.fixture
def theirs(db, other_owner):
    return make_place(db, owner_id=other_owner.id)


def test_a_stranger_is_sent_to_sign_in(app):
    for path in ("/owner/reports", "/owner/reports/utilisation", "/owner/reports/uptime"):
        assert app.test_client().get(path).status_code == 302


def test_the_overview_shows_energy_sessions_and_revenue_per_day_as_table_and_chart(
        db, signed_in, place, theirs):
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        add_session(session, station_id, utc(2024, 5, 3, 8), energy_wh=20_000, cost=800,
                    currency="EUR")
        add_session(session, station_id, utc(2024, 5, 3, 17), energy_wh=5_000, cost=200,
                    currency="EUR")
        add_session(session, next(iter(theirs.stations.values())), utc(2024, 5, 3, 9),
                    energy_wh=99_000, cost=9_900, currency="EUR")
    page = signed_in.get(f"/owner/reports?{CUSTOM_MAY}").get_data(as_text=True)
    assert '<span class="h4 num mb-0" data-testid="sessions-total">2</span>' in page
    assert "25.0 kWh" in page and "€10.00" in page and "€99.00" not in page
    row = re.search(r'<tr data-bucket="2024-05-03">(.*?)</tr>', page, re.S).group(1)
    assert ">2<" in row and "25.00 kWh" in row and "€10.00" in row
    energy, revenue, hours = charts(page)
    assert len(energy["labels"]) == 31 and energy["series"][0]["data"][2] == 25.0
    assert revenue["series"][0] == {"label": "Revenue (EUR)", "axis": "y",
                                    "data": [0.0, 0.0, 10.0] + [0.0] * 28}
    assert hours["series"][0]["data"][10] == 1 and hours["series"][0]["data"][19] == 1


def test_the_overview_groups_by_week_or_month_when_asked(db, signed_in, place):
    page = signed_in.get(f"/owner/reports?{CUSTOM_MAY}&by=week").get_data(as_text=True)
    assert 'data-bucket="2024-04-29"' in page and 'data-bucket="2024-05-27"' in page
    page = signed_in.get(f"/owner/reports?{CUSTOM_MAY}&by=month").get_data(as_text=True)
    assert re.findall(r'data-bucket="([^"]+)"', page) == ["2024-05-01"]


def test_the_period_picker_offers_presets_and_keeps_the_period_across_tabs(signed_in, place):
    page = signed_in.get("/owner/reports?period=7").get_data(as_text=True)
    assert '<option value="7" selected>Last 7 days</option>' in page
    assert len(re.findall(r'<tr data-bucket=', page)) == 7
    assert 'href="/owner/reports/uptime?period=7&amp;by=day"' in page
    page = signed_in.get(f"/owner/reports/uptime?{CUSTOM_MAY}").get_data(as_text=True)
    assert "from=2024-05-01" in page and "01 May 2024 to 31 May 2024" in page


def test_changed_days_under_a_preset_make_a_custom_period(signed_in, place):
    page = signed_in.get("/owner/reports?period=30&from=2024-05-01&to=2024-05-03"
                         ).get_data(as_text=True)
    assert '<option value="custom" selected>' in page
    assert len(re.findall(r'<tr data-bucket=', page)) == 3


def test_a_period_that_cannot_be_made_is_explained_and_the_last_30_days_shown(
        signed_in, place):
    page = signed_in.get("/owner/reports?period=custom&from=2024-05-31&to=2024-05-01"
                         ).get_data(as_text=True)
    assert "the last day is before the first day" in page and "Showing the last 30 days" in page


def test_utilisation_shows_each_plugs_occupied_and_charging_share(db, signed_in, owner):
    place = make_place(db, owner_id=owner.id, timezone="UTC")
    charge_point_id, station_id = next(iter(place.stations.items()))
    with db.session() as session:
        add_session(session, station_id, utc(2024, 5, 2, 6), minutes=6 * 60,
                    charging_minutes=3 * 60)
    page = signed_in.get(f"/owner/reports/utilisation?period=custom&from=2024-05-02"
                         f"&to=2024-05-02&site={place.site_id}").get_data(as_text=True)
    row = re.search(rf'<tr data-connector="{charge_point_id}/1">(.*?)</tr>', page, re.S).group(1)
    assert "6.0 h" in row and "25.0 %" in row and "12.5 %" in row
    (chart,) = charts(page)
    assert chart["series"][0]["data"] == [25.0, 0.0] and chart["series"][1]["data"] == [12.5, 0.0]


def test_uptime_shows_each_stations_share_connected_without_a_fault(db, signed_in, owner):
    place = make_place(db, owner_id=owner.id, stations=2, timezone="UTC")
    (measured, station_id), (silent, _) = place.stations.items()
    day = utc(2024, 5, 2)
    with db.session() as session:
        add_event(session, station_id, day, StationEventKind.CONNECTED)
        add_event(session, station_id, day + timedelta(hours=12), StationEventKind.STATUS, 1,
                  ConnectorStatus.FAULTED)
        add_event(session, station_id, day + timedelta(hours=18), StationEventKind.DISCONNECTED)
    page = signed_in.get("/owner/reports/uptime?period=custom&from=2024-05-02&to=2024-05-02"
                         ).get_data(as_text=True)
    row = re.search(rf'<tr data-station="{measured}">(.*?)</tr>', page, re.S).group(1)
    assert "24.0 h" in row and "75.0 %" in row and "6.0 h" in row and "50.0 %" in row
    row = re.search(rf'<tr data-station="{silent}">(.*?)</tr>', page, re.S).group(1)
    assert "Unknown" in row
    (chart,) = charts(page)
    assert chart["labels"] == [measured] and chart["series"][0]["data"] == [50.0]


def test_another_owners_site_and_stations_never_appear_in_reports(
        db, signed_in, place, theirs):
    foreign_cp, foreign_id = next(iter(theirs.stations.items()))
    with db.session() as session:
        add_session(session, foreign_id, utcnow() - timedelta(hours=2), cost=4242,
                    currency="EUR")
        add_event(session, foreign_id, utcnow() - timedelta(days=1), StationEventKind.CONNECTED)
    for path in ("/owner/reports", "/owner/reports/utilisation", "/owner/reports/uptime"):
        page = signed_in.get(f"{path}?site={theirs.site_id}").get_data(as_text=True)
        assert foreign_cp not in page and "€42.42" not in page
        assert f'value="{theirs.site_id}" selected' not in page


def test_a_stations_sessions_from_before_its_adoption_count_in_its_sites_report(app, db):
    admin = sign_in(app.test_client(), make_owner(db, admin=True))
    place = make_place(db)
    charge_point_id = f"WAITING-{uuid.uuid4().hex[:6]}"
    # A pending station's chargers may not start transactions (B02.FR.09), so its history
    # is written as one imported from another system would be.
    with db.session() as session:
        waiting = Station(charge_point_id=charge_point_id, registration=Registration.PENDING,
                          password_hash="x", connectors=[Connector(connector_id=1)])
        session.add(waiting)
        session.flush()
        add_session(session, waiting.id, utc(2024, 5, 3, 8), minutes=60, energy_wh=12_000,
                    id_tag="BEFORE-ADOPTION")
    report = f"/owner/reports?{CUSTOM_MAY}&site={place.site_id}"
    assert 'data-testid="sessions-total">0<' in admin.get(report).get_data(as_text=True)
    assert admin.post(f"/owner/stations/{charge_point_id}/adopt", data={
        "site_id": str(place.site_id), "connectors": "1", "max_power_kw": "22",
        "csrf_token": csrf_of(admin)}).status_code == 200
    page = admin.get(report).get_data(as_text=True)
    assert 'data-testid="sessions-total">1<' in page and "12.0 kWh" in page


def test_the_report_pages_only_read_so_only_sign_out_posts(signed_in, place):
    for path in ("/owner/reports", "/owner/reports/utilisation", "/owner/reports/uptime"):
        response = signed_in.get(path)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert page.count('method="post"') == 1 and 'method="get"' in page
        assert "owner_charts.js" in page


def test_the_overview_is_newest_first_compared_with_before_and_net_of_refunds(
        db, signed_in, owner):
    place = make_place(db, owner_id=owner.id, timezone="UTC")
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        for day, cost in ((1, 1000), (2, 1000), (3, 2000)):  # this period: 3 May
            add_session(session, station_id, utc(2024, 5, day, 9), cost=cost,
                        currency="EUR", energy_wh=10_000)
        refunded = add_session(session, station_id, utc(2024, 5, 3, 12), cost=500,
                               currency="EUR", energy_wh=5_000)
        refunded.amount_refunded = 300
    page = html.unescape(signed_in.get(
        "/owner/reports?period=custom&from=2024-05-02&to=2024-05-03&by=day").get_data(
        as_text=True))
    assert re.findall(r'data-bucket="([^"]+)"', page) == ["2024-05-03", "2024-05-02"]
    # This period: 2 + 3 May, €35.00 gross, €3.00 refunded; before: 30 Apr + 1 May, €10.00.
    assert "€35.00" in page and "€32.00 net of €3.00 refunds" in page
    assert re.search(r'data-testid="change-eur">\+220 % on the 2 days before', page)
    assert re.search(r'data-testid="change-sessions">\+200 % on the 2 days before', page)
