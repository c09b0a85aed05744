"""The top bar's search: station id, EVSE id, card number or receipt (session) number,
among the owner's own things only; one hit opens at once."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from tests.factories import add_session, make_card, make_site, utc
from voltspot.models import IdToken, Station


@pytest.fixture
def site(db, owner):
    return make_site(db, owner.id, stations=2, plugs=2)


def found(client, query: str):
    return client.get("/owner/search", query_string={"q": query})


def test_a_station_id_opens_the_station(signed_in, site):
    cp = site.charge_point_ids[0]
    response = found(signed_in, cp.lower())
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/owner/stations/{cp}")


def test_an_evse_id_typed_as_on_the_url_opens_its_station(signed_in, site):
    evse = site.evse_ids[3]
    response = found(signed_in, evse.replace("*", "-").lower())
    assert response.headers["Location"].endswith(f"/owner/stations/{site.charge_point_ids[1]}")


def test_a_card_number_opens_the_card(signed_in, db, owner):
    id_tag = make_card(db, holder_name="Depot van", owner_id=owner.id)
    with db.session() as session:
        card_id = session.scalar(select(IdToken.id).where(IdToken.id_tag == id_tag))
    response = found(signed_in, id_tag)
    assert response.headers["Location"].endswith(f"/owner/cards/{card_id}")


def test_a_receipt_number_opens_the_session(signed_in, db, site):
    with db.session() as session:
        charging = add_session(session, _station_id(db, site), utc(2024, 5, 1, 9))
        charging.payment_reference = "pi_receipt_123"
        session_id = charging.id
    for query in (f"#{session_id}", "pi_receipt_123"):
        response = found(signed_in, query)
        assert response.headers["Location"].endswith(f"/owner/sessions/{session_id}"), query


def test_several_hits_are_listed(signed_in, site):
    page = html.unescape(found(signed_in, "CP-").get_data(as_text=True))
    for cp in site.charge_point_ids:
        assert f'href="/owner/stations/{cp}"' in page


def test_another_owners_things_are_not_found(signed_in, db, other_owner):
    theirs = make_site(db, other_owner.id)
    card = make_card(db, owner_id=other_owner.id)
    for query in (theirs.charge_point_ids[0], theirs.evse_ids[0], card):
        page = found(signed_in, query).get_data(as_text=True)
        assert 'data-testid="no-hits"' in page, query


def test_a_one_letter_search_asks_for_more(signed_in):
    page = found(signed_in, "C").get_data(as_text=True)
    assert "Type at least 2 characters" in page


def _station_id(db, site) -> int:
    with db.session() as session:
        return session.scalar(select(Station.id).where(
            Station.charge_point_id == site.charge_point_ids[0]))
