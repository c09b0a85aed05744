"""Drivers' RFID cards on the owner page: register, block and unblock, expiry, the list with
its filters and CSV export, a card's sessions; other owners' cards stay out of reach; and a
real charger on the live server is refused a card blocked or expired here."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.factories import make_owner
from tests.support.owner import csrf_of, sign_in
from tests.support.raw_charger import RawCharger
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, IdToken, Site
from voltspot.services.charging.lifecycle import new_session_token
from voltspot.services.errors import InvalidInput
from voltspot.services.owner import cards
from voltspot.services.owner.accounts import Viewer
from voltspot.services.stations.registry import register_station


def new_tag() -> str:
    return f"T{uuid.uuid4().hex[:12].upper()}"


def add_card(db, owner_id: int, id_tag: str | None = None, **fields) -> tuple[int, str]:
    """A card straight in the database (for cards the signed-in owner did not register)."""
    id_tag = id_tag or new_tag()
    with db.session() as session:
        card = IdToken(id_tag=id_tag, owner_id=owner_id, **fields)
        session.add(card)
        session.flush()
        return card.id, id_tag


def card_by_tag(db, id_tag: str) -> IdToken:
    with db.session() as session:
        return session.scalar(select(IdToken).where(IdToken.id_tag == id_tag))


def owned_station(db, owner_id: int, timezone: str = "Europe/Amsterdam") -> tuple[int, str, str]:
    """A station on a new site of ``owner_id``: (station id, charge point id, password)."""
    suffix = uuid.uuid4().hex[:8]
    with db.session() as session:
        station, password = register_station(session, site_name=f"Depot {suffix}",
                                             charge_point_id=f"CARD-{suffix}", connectors=2)
        site = session.get(Site, station.site_id)
        site.owner_id, site.timezone = owner_id, timezone
        return station.id, station.charge_point_id, password


def add_session(db, station_id: int, id_tag: str, energy_wh: int = 12_000,
                cost: int | None = 480) -> None:
    with db.session() as session:
        session.add(ChargingSession(
            token=new_session_token(), station_id=station_id, connector_id=1, id_tag=id_tag,
            status=SessionStatus.COMPLETED, started_at=datetime.now(UTC) - timedelta(hours=2),
            stopped_at=datetime.now(UTC) - timedelta(hours=1), energy_wh=energy_wh, cost=cost,
            currency="EUR" if cost is not None else None))


def register(client, id_tag: str, **fields: str):
    return client.post("/owner/cards", data={"csrf_token": csrf_of(client), "id_tag": id_tag,
                                             **fields})


def text_of(response) -> str:
    return response.get_data(as_text=True)


# Registering


def test_an_owner_registers_a_card_and_lands_on_its_page(signed_in, owner, db):
    tag = new_tag()
    response = register(signed_in, tag, holder_name="Ann Driver", note="Van 12",
                        billing="invoice")
    assert response.status_code == 303
    card = card_by_tag(db, tag)
    assert (card.owner_id, card.holder_name, card.note, card.billing, card.blocked) == (
        owner.id, "Ann Driver", "Van 12", "invoice", False)
    page = text_of(signed_in.get(response.headers["Location"]))
    assert tag in page and "Ann Driver" in page and "is registered" in page


def test_a_card_number_is_stored_in_capitals_without_spaces_or_colons(signed_in, db):
    tag = new_tag()
    spaced = " " + ":".join(tag[i:i + 2] for i in range(0, len(tag), 2)).lower() + " "
    assert register(signed_in, spaced).status_code == 303
    assert card_by_tag(db, tag) is not None


def test_a_card_number_longer_than_20_characters_is_refused_with_a_message(signed_in, db):
    response = register(signed_in, "X" * 21)
    assert response.status_code == 422
    assert "at most 20 characters" in text_of(response)
    assert card_by_tag(db, "X" * 21) is None


def test_an_empty_card_number_is_refused_with_a_message(signed_in):
    response = register(signed_in, " : ")
    assert response.status_code == 422
    assert "Enter the card" in text_of(response)


def test_a_card_number_with_characters_a_charger_cannot_send_is_refused(signed_in):
    response = register(signed_in, "CARTÉ1")
    assert response.status_code == 422
    assert "without accents" in text_of(response)


def test_a_card_number_already_registered_is_refused_and_the_form_keeps_its_values(
        signed_in, other_owner, db):
    _, tag = add_card(db, other_owner.id)
    response = register(signed_in, tag, holder_name="Bob")
    assert response.status_code == 422
    page = text_of(response)
    assert "already registered" in page and 'value="Bob"' in page
    assert card_by_tag(db, tag).owner_id == other_owner.id


def test_a_card_registered_with_an_expiry_date_is_valid_through_that_day_in_the_sites_timezone(
        signed_in, owner, db):
    owned_station(db, owner.id, timezone="Europe/Amsterdam")
    tag = new_tag()
    register(signed_in, tag, expires_on="2030-06-30")
    expected = datetime(2030, 7, 1, tzinfo=ZoneInfo("Europe/Amsterdam"))
    assert card_by_tag(db, tag).expires_at == expected


def test_an_unknown_billing_is_refused(signed_in):
    response = register(signed_in, new_tag(), billing="monthly")
    assert response.status_code == 422
    assert "free or invoice later" in text_of(response)


# Blocking, unblocking, expiry


def test_an_owner_blocks_a_card_and_unblocks_it(signed_in, owner, db):
    card_id, tag = add_card(db, owner.id)
    response = signed_in.post(f"/owner/cards/{card_id}/block",
                              data={"csrf_token": csrf_of(signed_in)})
    assert response.status_code == 303
    assert card_by_tag(db, tag).blocked
    assert "Blocked" in text_of(signed_in.get(f"/owner/cards/{card_id}"))
    signed_in.post(f"/owner/cards/{card_id}/unblock", data={"csrf_token": csrf_of(signed_in)})
    assert not card_by_tag(db, tag).blocked


def test_blocking_from_the_list_gives_htmx_the_updated_row(signed_in, owner, db):
    card_id, tag = add_card(db, owner.id)
    response = signed_in.post(f"/owner/cards/{card_id}/block", headers={
        "HX-Request": "true", "HX-Target": f"card-{card_id}",
        "X-CSRFToken": csrf_of(signed_in)})
    assert response.status_code == 200
    row = text_of(response)
    assert row.lstrip().startswith(f'<tr id="card-{card_id}"')
    assert "Blocked" in row and f"/owner/cards/{card_id}/unblock" in row


def test_an_owner_changes_a_cards_expiry_date(signed_in, owner, db):
    card_id, tag = add_card(db, owner.id)
    response = signed_in.post(f"/owner/cards/{card_id}", data={
        "csrf_token": csrf_of(signed_in), "holder_name": "Ann", "expires_on": "2031-01-31",
        "billing": "free"})
    assert response.status_code == 303
    assert card_by_tag(db, tag).expires_at == datetime(2031, 2, 1, tzinfo=UTC)
    assert "Charges through 31 Jan 2031" in text_of(signed_in.get(f"/owner/cards/{card_id}"))


def test_clearing_the_expiry_date_lets_a_card_charge_with_no_end(signed_in, owner, db):
    card_id, tag = add_card(db, owner.id, expires_at=datetime.now(UTC) - timedelta(days=1))
    signed_in.post(f"/owner/cards/{card_id}", data={"csrf_token": csrf_of(signed_in),
                                                    "expires_on": "", "billing": "free"})
    assert card_by_tag(db, tag).expires_at is None


def test_a_date_that_is_not_one_is_refused_with_a_message(signed_in, owner, db):
    card_id, tag = add_card(db, owner.id)
    response = signed_in.post(f"/owner/cards/{card_id}", data={
        "csrf_token": csrf_of(signed_in), "expires_on": "2031-02-30", "billing": "free"})
    assert response.status_code == 422
    assert "Pick the last day" in text_of(response)
    assert card_by_tag(db, tag).expires_at is None


def test_an_expiry_date_beyond_the_century_is_refused_with_a_message(signed_in, owner, db):
    card_id, tag = add_card(db, owner.id)
    response = signed_in.post(f"/owner/cards/{card_id}", data={
        "csrf_token": csrf_of(signed_in), "expires_on": "9999-12-31", "billing": "free"})
    assert response.status_code == 422
    assert "Pick a day before 2100" in text_of(response)


def test_a_past_expiry_date_shows_the_card_as_expired(signed_in, owner, db):
    card_id, _ = add_card(db, owner.id)
    signed_in.post(f"/owner/cards/{card_id}", data={"csrf_token": csrf_of(signed_in),
                                                    "expires_on": "2020-01-31",
                                                    "billing": "free"})
    page = text_of(signed_in.get(f"/owner/cards/{card_id}"))
    assert "Expired after 31 Jan 2020" in page


# The list


def test_the_list_shows_the_owners_cards_and_not_another_owners(signed_in, owner,
                                                                other_owner, db):
    _, mine = add_card(db, owner.id, holder_name="Mine")
    _, theirs = add_card(db, other_owner.id, holder_name="Theirs")
    page = text_of(signed_in.get("/owner/cards"))
    assert mine in page and theirs not in page


def test_the_list_filters_blocked_and_expired_cards(signed_in, owner, db):
    _, active = add_card(db, owner.id, expires_at=datetime.now(UTC) + timedelta(days=5))
    _, blocked = add_card(db, owner.id, blocked=True)
    _, expired = add_card(db, owner.id, expires_at=datetime.now(UTC) - timedelta(minutes=1))
    shown = {state: text_of(signed_in.get(f"/owner/cards?state={state}"))
             for state in ("active", "blocked", "expired")}
    assert active in shown["active"] and blocked not in shown["active"]
    assert expired not in shown["active"]
    assert blocked in shown["blocked"] and active not in shown["blocked"]
    assert expired in shown["expired"] and active not in shown["expired"]
    assert "1 active, 1 blocked, 1 expired" in " ".join(
        text_of(signed_in.get("/owner/cards")).replace('<span class="num">', "")
        .replace("</span>", "").split())


def test_the_list_finds_a_card_by_number_typed_loosely_or_by_driver(signed_in, owner, db):
    _, tag = add_card(db, owner.id, holder_name="Zoë Fleet")
    _, other = add_card(db, owner.id, holder_name="Someone Else")
    loose = " ".join(tag[i:i + 4] for i in range(0, len(tag), 4)).lower()
    by_number = text_of(signed_in.get("/owner/cards", query_string={"q": loose}))
    assert tag in by_number and other not in by_number
    by_driver = text_of(signed_in.get("/owner/cards", query_string={"q": "zoë"}))
    assert tag in by_driver and other not in by_driver


def test_a_filter_change_gives_htmx_the_table_alone(signed_in, owner, db):
    add_card(db, owner.id)
    response = signed_in.get("/owner/cards?state=blocked", headers={
        "HX-Request": "true", "HX-Target": "card-list"})
    page = text_of(response)
    assert 'id="card-list"' in page and "<html" not in page


def test_a_boosted_navigation_to_the_list_gets_the_whole_page(signed_in):
    page = text_of(signed_in.get("/owner/cards", headers={"HX-Request": "true",
                                                           "HX-Boosted": "true"}))
    assert "<html" in page and "RFID cards" in page


def test_the_csv_export_has_the_filtered_cards_with_their_use(signed_in, owner, db):
    station_id, _, _ = owned_station(db, owner.id)
    _, blocked = add_card(db, owner.id, holder_name="Blocked One", blocked=True,
                          billing="invoice")
    _, active = add_card(db, owner.id)
    add_session(db, station_id, blocked, energy_wh=7_500)
    response = signed_in.get("/owner/cards.csv?state=blocked")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(text_of(response))))
    assert [(r["id_tag"], r["holder_name"], r["status"], r["billing"], r["sessions"],
             r["energy_kwh"]) for r in rows] == [
        (blocked, "Blocked One", "Blocked", "invoice", "1", "7.500")]


def test_the_list_is_paged(owner, db):
    viewer = Viewer(owner.id, False)
    for _ in range(3):
        add_card(db, owner.id)
    first = cards.list_cards(db, viewer, page_size=2)
    second = cards.list_cards(db, viewer, page=2, page_size=2)
    assert (first.pages, len(first.rows), len(second.rows)) == (2, 2, 1)
    assert not {r.id for r in first.rows} & {r.id for r in second.rows}


# A card's sessions


def test_a_cards_page_lists_its_sessions_on_the_owners_stations_only(
        signed_in, owner, other_owner, db):
    card_id, tag = add_card(db, owner.id)
    mine, my_cp, _ = owned_station(db, owner.id)
    theirs, their_cp, _ = owned_station(db, other_owner.id)
    add_session(db, mine, tag, energy_wh=10_000, cost=400)
    add_session(db, theirs, tag, energy_wh=50_000, cost=2_000)
    add_session(db, mine, new_tag())
    page = text_of(signed_in.get(f"/owner/cards/{card_id}"))
    assert my_cp in page and their_cp not in page
    flat = " ".join(page.replace('<span class="num">', "").replace("</span>", "").split())
    assert "1 session, 10.0 kWh, €4.00 at your prices" in flat


def test_a_cards_sessions_are_paged(owner, db):
    card_id, tag = add_card(db, owner.id)
    station_id, _, _ = owned_station(db, owner.id)
    for _ in range(3):
        add_session(db, station_id, tag)
    page = cards.card_page(db, Viewer(owner.id, False), card_id, page=2, page_size=2)
    assert (page.sessions.count, page.sessions.pages, len(page.sessions.rows)) == (3, 2, 1)


# Other owners' cards, CSRF


@pytest.mark.parametrize("path", ["/owner/cards/{id}", "/owner/cards/{id}?page=2"])
def test_another_owners_card_page_is_not_found(signed_in, other_owner, db, path):
    card_id, tag = add_card(db, other_owner.id)
    response = signed_in.get(path.format(id=card_id))
    assert response.status_code == 404
    assert tag not in text_of(response)


@pytest.mark.parametrize("action", ["", "/block", "/unblock"])
def test_another_owners_card_cannot_be_changed(signed_in, other_owner, db, action):
    card_id, tag = add_card(db, other_owner.id, holder_name="Theirs")
    response = signed_in.post(f"/owner/cards/{card_id}{action}", data={
        "csrf_token": csrf_of(signed_in), "holder_name": "Mine now", "expires_on": "2020-01-01",
        "billing": "free"})
    assert response.status_code == 404
    card = card_by_tag(db, tag)
    assert (card.holder_name, card.blocked, card.expires_at) == ("Theirs", False, None)


def test_an_admin_reaches_every_owners_card(app, other_owner, db):
    admin = sign_in(app.test_client(), make_owner(db, admin=True))
    card_id, tag = add_card(db, other_owner.id)
    assert tag in text_of(admin.get(f"/owner/cards/{card_id}"))
    admin.post(f"/owner/cards/{card_id}/block", data={"csrf_token": csrf_of(admin)})
    assert card_by_tag(db, tag).blocked


@pytest.mark.parametrize("action", ["", "/block", "/unblock"])
def test_changing_a_card_without_the_csrf_token_is_refused(signed_in, owner, db, action):
    card_id, tag = add_card(db, owner.id)
    response = signed_in.post(f"/owner/cards/{card_id}{action}", data={"billing": "free"})
    assert response.status_code == 400
    assert not card_by_tag(db, tag).blocked


def test_registering_a_card_without_the_csrf_token_is_refused(signed_in, db):
    tag = new_tag()
    assert signed_in.post("/owner/cards", data={"id_tag": tag}).status_code == 400
    assert card_by_tag(db, tag) is None


def test_the_card_pages_send_a_stranger_to_sign_in(app, owner, db):
    card_id, _ = add_card(db, owner.id)
    for path in ("/owner/cards", f"/owner/cards/{card_id}", "/owner/cards.csv"):
        response = app.test_client().get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith(
            "/owner/login")


# The rules behind the forms


@pytest.mark.parametrize(("typed", "stored"), [
    ("04a2b3c4", "04A2B3C4"), ("04:A2:B3:C4", "04A2B3C4"), (" 04 a2 b3 c4\t", "04A2B3C4"),
    ("NL-TNM-C12345678-X", "NL-TNM-C12345678-X")])
def test_a_typed_card_number_is_normalised(typed, stored):
    assert cards.normalise_id_tag(typed) == stored


def test_a_card_number_of_exactly_20_characters_is_accepted():
    assert cards.normalise_id_tag("A" * 20) == "A" * 20
    with pytest.raises(InvalidInput):
        cards.normalise_id_tag("A" * 21)


def test_the_expiry_instant_and_day_are_inverse_across_a_clock_change():
    for day in (date(2030, 3, 30), date(2030, 3, 31), date(2030, 10, 27)):
        instant = cards.expiry_instant(day, "Europe/Amsterdam")
        assert cards.expiry_day(instant, "Europe/Amsterdam") == day


# A real charger against the live server


def test_a_card_blocked_on_the_owner_page_is_refused_by_a_charger(server, app, owner, db):
    client = sign_in(app.test_client(), owner)
    _, charge_point_id, password = owned_station(db, owner.id)
    tag = new_tag()
    register(client, tag)
    card_id = card_by_tag(db, tag).id
    with RawCharger(server.ws_url, charge_point_id, password) as charger:
        charger.boot()
        assert charger.result("Authorize", {"idTag": tag})["idTagInfo"]["status"] == "Accepted"
        client.post(f"/owner/cards/{card_id}/block", data={"csrf_token": csrf_of(client)})
        assert charger.result("Authorize", {"idTag": tag})["idTagInfo"]["status"] == "Blocked"
        client.post(f"/owner/cards/{card_id}/unblock", data={"csrf_token": csrf_of(client)})
        assert charger.result("Authorize", {"idTag": tag})["idTagInfo"]["status"] == "Accepted"


def test_a_card_whose_expiry_date_has_passed_is_refused_by_a_charger(server, app, owner, db):
    client = sign_in(app.test_client(), owner)
    _, charge_point_id, password = owned_station(db, owner.id)
    tag = new_tag()
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
    register(client, tag, expires_on=(today - timedelta(days=1)).isoformat())
    with RawCharger(server.ws_url, charge_point_id, password) as charger:
        charger.boot()
        info = charger.result("Authorize", {"idTag": tag})["idTagInfo"]
    assert info["status"] == "Expired"
    assert datetime.fromisoformat(info["expiryDate"]) == datetime.combine(
        today, time(), tzinfo=ZoneInfo("Europe/Amsterdam"))
