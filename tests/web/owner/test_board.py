"""The live board: plugs link to their running session with who charges, stations link to
their page, the sidebar marks the current page, and drivers' problem reports arrive as
alerts with the plug and the time until the owner marks them handled."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import add_session, make_card, make_place
from tests.support.owner import csrf_of
from voltspot.domain.statuses import SessionStatus
from voltspot.models import Connector, Station
from voltspot.services.errors import InvalidInput, NotFound
from voltspot.services.owner.problems import report_problem


@pytest.fixture
def place(db, owner):
    return make_place(db, owner_id=owner.id)


def give_evse_id(db, charge_point_id: str, number: int = 1) -> str:
    evse_id = f"NL*VSP*E{uuid.uuid4().int % 10**8}*{number}"
    with db.session() as session:
        connector = session.scalar(select(Connector).join(Station).where(
            Station.charge_point_id == charge_point_id, Connector.connector_id == number))
        connector.evse_id = evse_id
    return evse_id


def board(client) -> str:
    return html.unescape(client.get("/owner/").get_data(as_text=True))


def test_a_charging_plug_links_to_its_session_with_the_card_holder(db, signed_in, place):
    charge_point_id, station_id = next(iter(place.stations.items()))
    id_tag = make_card(db, holder_name="Depot van")
    with db.session() as session:
        connector_pk = session.scalar(select(Connector.id).where(
            Connector.station_id == station_id, Connector.connector_id == 1))
        running = add_session(session, station_id, datetime.now(UTC) - timedelta(minutes=20),
                              minutes=None, id_tag=id_tag, status=SessionStatus.CHARGING)
        running.connector_pk = connector_pk
        session_id = running.id
    page = board(signed_in)
    assert f'href="/owner/sessions/{session_id}"' in page
    plug = page[page.index('data-plug="1"'):page.index('data-plug="2"')]
    assert "Depot van" in plug and "since" in plug
    assert f'href="/owner/stations/{charge_point_id}"' in page


def test_an_app_session_shows_as_an_app_driver_not_its_tag(db, signed_in, place):
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        add_session(session, station_id, datetime.now(UTC), minutes=None,
                    id_tag="VS7DC42F7D8BF392902F", status=SessionStatus.CHARGING)
    page = board(signed_in)
    assert "App driver" in page and "VS7DC42F7D8BF392902F" not in page


def test_the_sidebar_marks_the_page_the_owner_is_on(signed_in, place):
    page = signed_in.get("/owner/sessions").get_data(as_text=True)
    assert re.search(r'href="/owner/sessions"\s+aria-current="page"', page)
    assert not re.search(r'href="/owner/"\s+aria-current', page)
    cp = next(iter(place.stations))
    station = signed_in.get(f"/owner/stations/{cp}").get_data(as_text=True)
    assert re.search(rf'href="/owner/stations/{cp}"\s+aria-current="page"', station)


def test_a_drivers_problem_report_is_an_alert_with_the_plug_and_time_until_handled(
        db, signed_in, place):
    charge_point_id = next(iter(place.stations))
    evse_id = give_evse_id(db, charge_point_id, 2)
    reported = report_problem(db, evse_id.lower().replace("*", "-"),
                              "  The cable   is damaged ")
    assert (reported.charge_point_id, reported.plug_number) == (charge_point_id, 2)
    page = board(signed_in)
    assert f"A driver reports a problem at {charge_point_id} plug 2" in page
    assert "“The cable is damaged”" in page
    assert re.search(r"\(\d\d \w{3} \d\d:\d\d\)", page), "the time it was reported"
    response = signed_in.post(f"/owner/problems/{reported.id}/handled",
                              data={"csrf_token": csrf_of(signed_in)})
    assert response.status_code == 303
    assert "The cable is damaged" not in board(signed_in)


def test_another_owners_problem_reports_are_neither_shown_nor_handled(db, signed_in,
                                                                      other_owner):
    theirs = make_place(db, owner_id=other_owner.id)
    evse_id = give_evse_id(db, next(iter(theirs.stations)))
    reported = report_problem(db, evse_id, "Screen is broken")
    assert "Screen is broken" not in board(signed_in)
    response = signed_in.post(f"/owner/problems/{reported.id}/handled",
                              data={"csrf_token": csrf_of(signed_in)})
    assert response.status_code == 404


@pytest.mark.parametrize(("evse_id", "message", "error"), [
    ("NL*VSP*E99999999*1", "Broken", NotFound),
    ("not a code", "Broken", NotFound),
    ("NL*VSP*E1*1", "   ", InvalidInput),
    ("NL*VSP*E1*1", "x" * 1001, InvalidInput),
])
def test_a_problem_report_needs_a_known_plug_and_a_message(db, evse_id, message, error):
    with pytest.raises(error):
        report_problem(db, evse_id, message)
