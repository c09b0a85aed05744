"""Sites and stations on the owner page: sites, adding and adopting stations, plugs, the
station page with its OCPP log, and remote actions answered by a real charger."""

from __future__ import annotations

import html
import re
import time
import uuid
from datetime import timedelta

import pytest
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.v16 import call_result
from sqlalchemy import select
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.factories import make_owner
from tests.support.library_charger import LibraryCharger, LibraryCharger201
from tests.support.owner import csrf_of, sign_in
from tests.support.owner_browser import OwnerBrowser
from tests.support.raw_charger import RawCharger
from tests.support.server import start_server, stop_server
from voltspot.domain.statuses import ConnectorStatus, Registration
from voltspot.models import Connector, OcppFrame, Site, Station, utcnow
from voltspot.passwords import hash_password, password_matches
from voltspot.services.owner import plugs, sites, station_admin
from voltspot.services.owner.accounts import Viewer
from voltspot.services.stations import registry


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def site_form(**overrides: str) -> dict[str, str]:
    form = {"name": _unique("Hotel"), "address": "Damrak 1", "city": "Amsterdam",
            "postal_code": "1012 LG", "country": "NL", "latitude": "52.3765",
            "longitude": "4.8986", "opening_hours": "24/7", "help_phone": "+31 20 123 4567",
            "currency": "EUR", "timezone": "Europe/Amsterdam"}
    return {**form, **overrides}


def make_site(db, account, **overrides: str) -> int:
    return sites.create_site(db, Viewer(account.id, False), site_form(**overrides)).id


def make_station(db, account, site_id: int, connectors: int = 2
                 ) -> station_admin.Credentials:
    return station_admin.add_station(db, Viewer(account.id, False), {
        "site_id": str(site_id), "charge_point_id": _unique("CP"),
        "connectors": str(connectors), "max_power_kw": "22"})


def connector_pk(db, charge_point_id: str, number: int = 1) -> int:
    with db.session() as session:
        return session.scalar(select(Connector.id).join(Station).where(
            Station.charge_point_id == charge_point_id, Connector.connector_id == number))


def post(client, path: str, data: dict[str, str] | None = None, **kwargs):
    return client.post(path, data={**(data or {}), "csrf_token": csrf_of(client)}, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture(scope="module")
def owner(db):
    """One owner for the module: password hashing makes a fresh owner per test slow."""
    return make_owner(db)


@pytest.fixture(scope="module")
def other_owner(db):
    return make_owner(db)


@pytest.fixture
def site_id(db, owner) -> int:
    return make_site(db, owner)


@pytest.fixture
def added(db, owner, site_id) -> station_admin.Credentials:
    return make_station(db, owner, site_id)


# --- Sites -----------------------------------------------------------------------------


def test_an_owner_adds_a_site_that_belongs_to_them(signed_in, db, owner):
    form = site_form()
    response = post(signed_in, "/owner/sites/new", form)
    assert response.status_code == 302
    with db.session() as session:
        site = session.scalar(select(Site).where(Site.name == form["name"]))
        assert (site.owner_id, site.city, site.latitude, site.help_phone) == (
            owner.id, "Amsterdam", 52.3765, "+31 20 123 4567")
    assert response.headers["Location"].endswith(f"/owner/sites/{site.id}")


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "Give the site a name"),
    ("address", "", "Write the street and number"),
    ("city", "", "Write the town or city"),
    ("postal_code", "1" * 21, "at most 20 characters"),
    ("country", "Holland", "two-letter country code"),
    ("latitude", "north", "Write the latitude as a number"),
    ("latitude", "91", "between -90 and 90"),
    ("longitude", "181", "between -180 and 180"),
    ("longitude", "", "Give both latitude and longitude"),
    ("opening_hours", "", "Say when drivers can charge"),
    ("help_phone", "call us", "Write a phone number drivers can call"),
    ("currency", "Euro", "three-letter currency code"),
    ("timezone", "Mars/Olympus", "Choose the site's timezone"),
])
def test_a_wrong_site_field_is_explained_next_to_it(signed_in, field, value, message):
    response = post(signed_in, "/owner/sites/new", site_form(**{field: value}))
    assert response.status_code == 422
    page = text(response)
    error = re.search(rf'id="f-{field}-error">([^<]*)<', page)
    assert error and message in html.unescape(error.group(1))


def test_a_site_name_already_in_use_is_refused_with_a_clear_message(signed_in, db, other_owner):
    taken = site_form()["name"]
    make_site(db, other_owner, name=taken)
    response = post(signed_in, "/owner/sites/new", site_form(name=taken))
    assert response.status_code == 422
    assert "There is already a site called" in text(response)


def test_an_owner_edits_their_site(signed_in, db, site_id):
    form = site_form(opening_hours="Mon–Sat 08:00–20:00", currency="sek",
                     timezone="Europe/Stockholm", latitude="", longitude="")
    assert post(signed_in, f"/owner/sites/{site_id}/edit", form).status_code == 302
    with db.session() as session:
        site = session.get(Site, site_id)
        assert (site.opening_hours, site.currency, site.timezone, site.latitude) == (
            "Mon–Sat 08:00–20:00", "SEK", "Europe/Stockholm", None)


def test_the_edit_form_starts_with_the_sites_values(signed_in, db, site_id):
    with db.session() as session:
        name = session.get(Site, site_id).name
    page = text(signed_in.get(f"/owner/sites/{site_id}/edit"))
    assert f'value="{name}"' in page and 'value="Damrak 1"' in page


def test_the_site_page_lists_its_stations_with_their_status(signed_in, db, site_id, added):
    with db.session() as session:
        station = session.scalar(select(Station).where(
            Station.charge_point_id == added.charge_point_id))
        station.connected, station.last_seen_at = True, utcnow()
        station.connectors[0].status = ConnectorStatus.CHARGING
    page = text(signed_in.get(f"/owner/sites/{site_id}"))
    entry = page[page.index(f'data-station="{added.charge_point_id}"'):]
    assert "Online" in entry[:2000] and "Plug 1 · Type 2 · Charging" in entry[:2000]


def test_a_station_never_connected_shows_as_offline_on_its_site(signed_in, site_id, added):
    page = text(signed_in.get(f"/owner/sites/{site_id}"))
    entry = page[page.index(f'data-station="{added.charge_point_id}"'):]
    assert "Offline" in entry[:2000]


# --- Adding a station ------------------------------------------------------------------


def test_adding_a_station_shows_its_address_id_and_password_once(signed_in, db, site_id):
    charge_point_id = _unique("CP")
    response = post(signed_in, "/owner/stations/new", {
        "site_id": str(site_id), "charge_point_id": charge_point_id, "connectors": "2",
        "max_power_kw": "7,4"})
    page = text(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert f"/ocpp/{charge_point_id}</code>" in page
    assert "OCPP 2.0.1" in page and "OCPP 1.6J" in page and "Security Profile 1" in page
    password = re.search(r'data-testid="password">([^<]+)<', page).group(1)
    with db.session() as session:
        station = session.scalar(select(Station).where(
            Station.charge_point_id == charge_point_id))
        assert station.site_id == site_id
        assert [(c.connector_id, c.max_power_w, c.evse_id) for c in station.connectors] == [
            (1, 7400, f"NL*VSP*E{station.id}*1"), (2, 7400, f"NL*VSP*E{station.id}*2")]
        assert password not in (station.password_hash or "")


def test_the_password_is_not_shown_again_on_the_station_page(signed_in, added):
    page = text(signed_in.get(f"/owner/stations/{added.charge_point_id}"))
    assert added.charge_point_id in page and added.password not in page


@pytest.mark.parametrize(("field", "value", "message"), [
    ("charge_point_id", "has spaces", "no spaces"),
    ("connectors", "0", "1 to 32 plugs"),
    ("max_power_kw", "-3", "most power one plug gives"),
    ("site_id", "", "Choose the site"),
])
def test_a_wrong_station_field_is_explained_next_to_it(signed_in, site_id, field, value,
                                                       message):
    form = {"site_id": str(site_id), "charge_point_id": _unique("CP"), "connectors": "2",
            "max_power_kw": "22", field: value}
    response = post(signed_in, "/owner/stations/new", form)
    assert response.status_code == 422
    error = re.search(rf'id="f-{field}-error">([^<]*)<', text(response))
    assert error and message in html.unescape(error.group(1))


def test_a_charge_point_id_already_registered_is_refused_with_a_clear_message(
        signed_in, site_id, added):
    response = post(signed_in, "/owner/stations/new", {
        "site_id": str(site_id), "charge_point_id": added.charge_point_id, "connectors": "1",
        "max_power_kw": "22"})
    assert response.status_code == 422
    assert f"A station with the id {added.charge_point_id} is already registered" in text(
        response)


def test_a_charge_point_id_another_owner_registers_at_the_same_moment_is_a_form_error(
        signed_in, db, site_id, other_owner, monkeypatch):
    """Both adds pass the "is it free?" checks; the other commits first. Ours then meets
    the unique key in the database and must answer as the checks would have."""
    charge_point_id = _unique("CP")
    theirs = make_site(db, other_owner)
    password = registry.generate_password

    def other_add_lands_first() -> str:
        monkeypatch.setattr(registry, "generate_password", password)  # the other add's own
        with db.session() as concurrent:
            registry.register_station(concurrent, site_name=sites_name(db, theirs),
                                      charge_point_id=charge_point_id, connectors=1)
        return password()

    monkeypatch.setattr(registry, "generate_password", other_add_lands_first)
    response = post(signed_in, "/owner/stations/new", {
        "site_id": str(site_id), "charge_point_id": charge_point_id, "connectors": "1",
        "max_power_kw": "22"})
    assert response.status_code == 422
    assert f"A station with the id {charge_point_id} was registered a moment ago" in text(
        response)
    with db.session() as session:
        assert session.scalar(select(Station.site_id).where(
            Station.charge_point_id == charge_point_id)) == theirs


def sites_name(db, site_id: int) -> str:
    with db.session() as session:
        return session.get(Site, site_id).name


def test_adding_a_station_to_another_owners_site_is_404(signed_in, db, other_owner):
    theirs = make_site(db, other_owner)
    response = post(signed_in, "/owner/stations/new", {
        "site_id": str(theirs), "charge_point_id": _unique("CP"), "connectors": "1",
        "max_power_kw": "22"})
    assert response.status_code == 404


def test_an_owner_without_sites_is_asked_to_add_one_first(app, db):
    client = sign_in(app.test_client(), make_owner(db))
    page = text(client.get("/owner/stations/new"))
    assert "Add that site first" in page and "/owner/sites/new" in page


def test_a_new_password_replaces_the_old_one_and_is_shown_once(signed_in, db, added):
    response = post(signed_in, f"/owner/stations/{added.charge_point_id}/password")
    password = re.search(r'data-testid="password">([^<]+)<', text(response)).group(1)
    assert password != added.password
    assert response.headers["Cache-Control"] == "no-store"


# --- The station page ------------------------------------------------------------------


def test_the_station_page_shows_connection_maker_and_each_plugs_status(signed_in, db, added):
    with db.session() as session:
        station = session.scalar(select(Station).where(
            Station.charge_point_id == added.charge_point_id))
        station.connected, station.last_seen_at = True, utcnow()
        station.vendor, station.model, station.firmware_version = "Alfen", "Eve Double", "6.1"
        station.connectors[0].status = ConnectorStatus.AVAILABLE
        station.connectors[1].status = ConnectorStatus.FAULTED
        station.connectors[1].error_code = "GroundFailure"
    page = text(signed_in.get(f"/owner/stations/{added.charge_point_id}"))
    assert 'data-online="yes"' in page
    assert "Alfen" in page and "Eve Double" in page and "6.1" in page
    plug_1 = page[page.index('data-plug="1"'):page.index('data-plug="2"')]
    plug_2 = page[page.index('data-plug="2"'):]
    assert "Free" in plug_1
    assert "Fault" in plug_2[:1500] and "GroundFailure" in plug_2[:1500]


def test_an_offline_station_shows_when_it_was_last_heard(signed_in, db, added):
    with db.session() as session:
        station = session.scalar(select(Station).where(
            Station.charge_point_id == added.charge_point_id))
        station.last_seen_at = utcnow() - timedelta(hours=3)
    page = text(signed_in.get(f"/owner/stations/{added.charge_point_id}"))
    assert 'data-online="no"' in page and "last heard 3 h ago" in page


def test_the_live_part_of_the_station_page_comes_alone_to_htmx(signed_in, added):
    response = signed_in.get(f"/owner/stations/{added.charge_point_id}",
                             headers={"HX-Request": "true", "HX-Target": "station-live"})
    page = text(response)
    assert page.lstrip().startswith("<div id=\"station-live\"") and "<html" not in page


def test_a_boosted_navigation_gets_the_whole_station_page(signed_in, added):
    response = signed_in.get(f"/owner/stations/{added.charge_point_id}",
                             headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in text(response) and 'id="station-live"' in text(response)


def _log_frames(db, charge_point_id: str, count: int) -> None:
    with db.session() as session:
        session.add_all(OcppFrame(charge_point_id=charge_point_id, direction="in",
                                  frame=f'[2,"{n}","Heartbeat",{{}}]') for n in range(count))


def test_the_station_page_shows_its_latest_ocpp_messages_newest_first(signed_in, db, added):
    _log_frames(db, added.charge_point_id, 3)
    page = text(signed_in.get(f"/owner/stations/{added.charge_point_id}"))
    shown = re.findall(r'\[2,&#34;(\d+)&#34;,&#34;Heartbeat', page)
    assert shown == ["2", "1", "0"]


def test_ocpp_messages_come_fifty_to_a_page_with_a_link_to_older_ones(signed_in, db, added):
    _log_frames(db, added.charge_point_id, 120)
    first = text(signed_in.get(f"/owner/stations/{added.charge_point_id}"))
    assert len(re.findall(r"data-frame=", first)) == 50
    older = re.search(r'href="([^"]+before=\d+)#frames"', first).group(1)
    second = text(signed_in.get(older.replace("&amp;", "&"),
                                headers={"HX-Request": "true", "HX-Target": "station-frames"}))
    shown = re.findall(r'\[2,&#34;(\d+)&#34;', second)
    assert shown[0] == "69" and len(shown) == 50


def test_another_owners_station_log_is_not_shown(signed_in, db, other_owner):
    theirs = make_station(db, other_owner, make_site(db, other_owner))
    _log_frames(db, theirs.charge_point_id, 1)
    assert signed_in.get(f"/owner/stations/{theirs.charge_point_id}").status_code == 404


# --- Plugs -----------------------------------------------------------------------------


def test_an_owner_sets_a_plugs_kind_power_and_evse_id(signed_in, db, added):
    pk = connector_pk(db, added.charge_point_id)
    response = post(signed_in, f"/owner/connectors/{pk}/edit", {
        "connector_type": "CCS", "max_power_kw": "50", "evse_id": "nl-vsp-e9001-1"})
    assert response.status_code == 302
    with db.session() as session:
        connector = session.get(Connector, pk)
        assert (connector.connector_type, connector.max_power_w, connector.evse_id) == (
            "CCS", 50000, "NL*VSP*E9001*1")


def test_an_evse_id_already_in_use_is_refused_with_a_clear_message(signed_in, db, added):
    first, second = (connector_pk(db, added.charge_point_id, n) for n in (1, 2))
    with db.session() as session:
        taken = session.get(Connector, second).evse_id
    response = post(signed_in, f"/owner/connectors/{first}/edit", {
        "connector_type": "Type 2", "max_power_kw": "22", "evse_id": taken})
    assert response.status_code == 422
    assert f"{taken} is already used by another plug" in text(response)


def test_an_evse_id_another_owner_takes_at_the_same_moment_is_a_form_error_not_500(
        signed_in, db, added, other_owner, monkeypatch):
    """Both saves pass the "is it free?" check; the other commits first. Ours then meets
    the unique key in the database and must answer as the check would have."""
    pk = connector_pk(db, added.charge_point_id)
    theirs = connector_pk(db, make_station(db, other_owner,
                                           make_site(db, other_owner)).charge_point_id)
    wanted = f"NL*VSP*E{uuid.uuid4().int % 10**8}*1"
    checked = plugs.check_evse_id_free

    def check_then_lose_the_race(session, evse_id, connector_pk):
        checked(session, evse_id, connector_pk)
        with db.session() as concurrent:
            concurrent.get(Connector, theirs).evse_id = evse_id

    monkeypatch.setattr(plugs, "check_evse_id_free", check_then_lose_the_race)
    response = post(signed_in, f"/owner/connectors/{pk}/edit", {
        "connector_type": "Type 2", "max_power_kw": "22", "evse_id": wanted})
    assert response.status_code == 422
    assert f"{wanted} is already used by another plug" in text(response)
    with db.session() as session:
        assert session.get(Connector, theirs).evse_id == wanted
        assert session.get(Connector, pk).evse_id != wanted


def test_a_malformed_evse_id_is_refused(signed_in, db, added):
    pk = connector_pk(db, added.charge_point_id)
    response = post(signed_in, f"/owner/connectors/{pk}/edit", {
        "connector_type": "Type 2", "max_power_kw": "22", "evse_id": "plug one"})
    assert response.status_code == 422
    assert "such as NL*VSP*E1234*1" in text(response)


def test_an_unknown_plug_kind_is_refused(signed_in, db, added):
    pk = connector_pk(db, added.charge_point_id)
    response = post(signed_in, f"/owner/connectors/{pk}/edit", {
        "connector_type": "Tesla", "max_power_kw": "22", "evse_id": "NL*VSP*E7*1"})
    assert response.status_code == 422
    assert "Choose the kind of plug" in text(response)


# --- Other owners' things and CSRF ------------------------------------------------------


@pytest.fixture
def theirs(db, other_owner) -> dict[str, object]:
    site = make_site(db, other_owner)
    station = make_station(db, other_owner, site)
    return {"site": site, "cp": station.charge_point_id,
            "connector": connector_pk(db, station.charge_point_id)}


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/owner/sites/{site}"),
    ("GET", "/owner/sites/{site}/edit"),
    ("POST", "/owner/sites/{site}/edit"),
    ("GET", "/owner/stations/{cp}"),
    ("POST", "/owner/stations/{cp}/actions/reset"),
    ("POST", "/owner/stations/{cp}/password"),
    ("POST", "/owner/stations/{cp}/protocol"),
    ("GET", "/owner/stations/{cp}/adopt"),
    ("POST", "/owner/stations/{cp}/adopt"),
    ("GET", "/owner/connectors/{connector}/edit"),
    ("POST", "/owner/connectors/{connector}/edit"),
])
def test_another_owners_site_station_or_plug_is_404(signed_in, theirs, method, path):
    url = path.format(**theirs)
    if method == "GET":
        response = signed_in.get(url)
    else:
        response = post(signed_in, url, {**site_form(), "type": "soft", "site_id": "1",
                                          "connector_type": "CCS", "max_power_kw": "22",
                                          "evse_id": "NL*VSP*E1*9", "connectors": "1"})
    assert response.status_code == 404
    assert "We could not find that among your sites" in text(response)


@pytest.mark.parametrize("path", [
    "/owner/sites/new",
    "/owner/sites/{site}/edit",
    "/owner/stations/new",
    "/owner/stations/{cp}/actions/reset",
    "/owner/stations/{cp}/password",
    "/owner/stations/{cp}/protocol",
    "/owner/stations/{cp}/adopt",
    "/owner/connectors/{connector}/edit",
])
def test_a_post_without_the_csrf_token_is_refused(signed_in, db, owner, path):
    site = make_site(db, owner)
    station = make_station(db, owner, site)
    url = path.format(site=site, cp=station.charge_point_id,
                      connector=connector_pk(db, station.charge_point_id))
    assert signed_in.post(url, data=site_form()).status_code == 400


# --- Adopting a pending station ---------------------------------------------------------


def _pending(db, connectors: int = 0, password_hash: str | None = "x") -> str:
    charge_point_id = _unique("PENDING")
    with db.session() as session:
        station = Station(charge_point_id=charge_point_id, registration=Registration.PENDING,
                          password_hash=password_hash)
        station.connectors = [Connector(connector_id=n) for n in range(1, connectors + 1)]
        session.add(station)
    return charge_point_id


@pytest.fixture
def admin_client(app, db):
    return sign_in(app.test_client(), make_owner(db, admin=True))


def test_an_admin_adopts_a_pending_station_onto_a_site(admin_client, db, site_id):
    charge_point_id = _pending(db, connectors=1)
    response = post(admin_client, f"/owner/stations/{charge_point_id}/adopt", {
        "site_id": str(site_id), "connectors": "2", "max_power_kw": "11"})
    assert response.status_code == 200
    with db.session() as session:
        station = session.scalar(select(Station).where(
            Station.charge_point_id == charge_point_id))
        assert (station.site_id, station.registration) == (site_id, "Accepted")
        assert [c.evse_id for c in station.connectors] == [
            f"NL*VSP*E{station.id}*1", f"NL*VSP*E{station.id}*2"]
    page = text(response)
    assert "now belongs to" in page and "the next time it connects" in page


@pytest.mark.parametrize("came_with", [None, "its-own-password-123"])
def test_an_adopted_station_gets_a_new_password_shown_once(admin_client, db, site_id,
                                                           came_with):
    charge_point_id = _pending(
        db, password_hash=hash_password(came_with) if came_with else None)
    response = post(admin_client, f"/owner/stations/{charge_point_id}/adopt", {
        "site_id": str(site_id), "connectors": "1", "max_power_kw": "22"})
    assert response.status_code == 200
    shown = re.search(r'data-testid="password">([^<]+)<', text(response)).group(1)
    with db.session() as session:
        stored = session.scalar(select(Station.password_hash).where(
            Station.charge_point_id == charge_point_id))
    assert password_matches(stored, shown)
    assert came_with is None or not password_matches(stored, came_with)


def test_the_pending_station_page_offers_adoption(admin_client, db):
    charge_point_id = _pending(db)
    page = text(admin_client.get(f"/owner/stations/{charge_point_id}"))
    assert "waiting" in page and f"/owner/stations/{charge_point_id}/adopt" in page


def test_an_owner_who_is_not_admin_cannot_reach_pending_stations(signed_in, db):
    assert signed_in.get(f"/owner/stations/{_pending(db)}").status_code == 404


def test_the_adopt_form_of_an_adopted_station_leads_back_to_the_station(admin_client,
                                                                          added):
    response = admin_client.get(f"/owner/stations/{added.charge_point_id}/adopt")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/owner/stations/{added.charge_point_id}")


def test_adopting_a_station_twice_says_it_already_belongs_to_a_site(admin_client, added,
                                                                    site_id):
    response = post(admin_client, f"/owner/stations/{added.charge_point_id}/adopt", {
        "site_id": str(site_id), "connectors": "1", "max_power_kw": "22"})
    assert response.status_code == 302
    assert "already belongs to" in text(admin_client.get(response.headers["Location"]))


# --- Remote actions (in process: no charger connected) --------------------------------


def test_a_remote_action_to_an_offline_station_says_so_in_one_sentence(signed_in, added):
    response = post(signed_in, f"/owner/stations/{added.charge_point_id}/actions/reset",
                    {"type": "soft"}, headers={"HX-Request": "true",
                                               "HX-Target": "station-reply"})
    assert response.status_code == 200
    assert f"{added.charge_point_id} is offline, so it did not get this." in text(response)


def test_a_remote_action_without_javascript_answers_with_the_whole_station_page(signed_in,
                                                                                 added):
    response = post(signed_in, f"/owner/stations/{added.charge_point_id}/actions/reset",
                    {"type": "soft"})
    page = text(response)
    assert "<html" in page and "is offline, so it did not get this" in page


def test_unlocking_a_plug_the_station_does_not_have_is_refused(signed_in, added):
    response = post(signed_in, f"/owner/stations/{added.charge_point_id}/actions/unlock",
                    {"connector": "7"}, headers={"HX-Request": "true",
                                                 "HX-Target": "station-reply"})
    assert response.status_code == 422
    assert "Choose one of this station's plugs: 1, 2." in html.unescape(text(response))


def test_an_action_that_does_not_exist_is_404(signed_in, added):
    response = post(signed_in, f"/owner/stations/{added.charge_point_id}/actions/explode")
    assert response.status_code == 404


# --- Against the live server, with a real charger ---------------------------------------


@pytest.fixture
def browser(server, owner) -> OwnerBrowser:
    return OwnerBrowser(server, owner)


@pytest.fixture
def charger(server, added):
    with LibraryCharger(server.ws_url, added.charge_point_id, added.password) as charger:
        charger.boot()
        yield charger


@pytest.mark.parametrize(("action", "form", "sent", "sentence"), [
    ("reset", {"type": "soft"}, ("Reset", {"type": "Soft"}),
     "accepted the soft restart"),
    ("reset", {"type": "hard"}, ("Reset", {"type": "Hard"}),
     "accepted the hard restart"),
    ("unlock", {"connector": "2"}, ("UnlockConnector", {"connector_id": 2}),
     "Plug 2 is unlocked"),
    ("availability", {"connector": "1", "availability": "unavailable"},
     ("ChangeAvailability", {"connector_id": 1, "type": "Inoperative"}),
     "Plug 1 is now unavailable."),
    ("availability", {"connector": "0", "availability": "available"},
     ("ChangeAvailability", {"connector_id": 0, "type": "Operative"}),
     "The whole station is now available."),
    ("trigger-status", {"connector": "1"},
     ("TriggerMessage", {"requested_message": "StatusNotification", "connector_id": 1}),
     "will report the status of plug 1"),
    ("change-configuration", {"key": "HeartbeatInterval", "value": "60"},
     ("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}),
     "HeartbeatInterval is now 60."),
])
def test_a_remote_action_reaches_the_charger_and_shows_its_answer(
        browser, added, charger, action, form, sent, sentence):
    status, page = browser.action(added.charge_point_id, action, form)
    assert status == 200, page
    assert sentence in page and 'data-ok="yes"' in page
    assert charger.cp.received[-1] == sent


@pytest.fixture
def charger_201(server, added):
    with LibraryCharger201(server.ws_url, added.charge_point_id, added.password) as charger:
        charger.boot()
        charger.configured()
        yield charger


@pytest.mark.parametrize(("action", "form", "sent", "sentence"), [
    ("reset", {"type": "soft"}, ("Reset", {"type": "OnIdle"}),
     "accepted the soft restart"),
    ("reset", {"type": "hard"}, ("Reset", {"type": "Immediate"}),
     "accepted the hard restart"),
    ("unlock", {"connector": "2"}, ("UnlockConnector", {"evse_id": 2, "connector_id": 1}),
     "Plug 2 is unlocked"),
    ("availability", {"connector": "1", "availability": "unavailable"},
     ("ChangeAvailability", {"operational_status": "Inoperative", "evse": {"id": 1}}),
     "Plug 1 is now unavailable."),
    ("availability", {"connector": "0", "availability": "available"},
     ("ChangeAvailability", {"operational_status": "Operative"}),
     "The whole station is now available."),
    ("trigger-status", {"connector": "1"},
     ("TriggerMessage", {"requested_message": "StatusNotification",
                         "evse": {"id": 1, "connector_id": 1}}),
     "will report the status of plug 1"),
    ("change-configuration", {"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "60"},
     ("SetVariables", {"set_variable_data": [{
         "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
         "attribute_value": "60"}]}),
     "OCPPCommCtrlr.HeartbeatInterval is now 60."),
])
def test_a_remote_action_reaches_a_2_0_1_charger_in_its_own_words(
        browser, added, charger_201, action, form, sent, sentence):
    status, page = browser.action(added.charge_point_id, action, form)
    assert status == 200, page
    assert sentence in page and 'data-ok="yes"' in page
    assert charger_201.cp.received[-1] == sent


def test_reading_a_2_0_1_chargers_settings_shows_each_variable_and_the_unknown_ones(
        browser, added, charger_201):
    _, page = browser.action(added.charge_point_id, "get-configuration",
                             {"keys": "OCPPCommCtrlr.HeartbeatInterval, Nothing.Here"})
    assert re.search(r"<code>OCPPCommCtrlr.HeartbeatInterval</code></td><td[^>]*>300</td>",
                     page)
    assert "It does not know Nothing.Here." in page


def test_the_station_page_shows_the_device_model_a_2_0_1_charger_reported(
        browser, added, charger_201):
    _, page = browser.get(f"/owner/stations/{added.charge_point_id}")
    assert "Device model" in page
    assert re.search(r"<code>ChargingStation:Model</code></td><td>Library201</td>", page)


def test_an_owner_chooses_the_version_a_charger_offering_both_gets(server, browser, added):
    browser.get(f"/owner/stations/{added.charge_point_id}")
    status, _ = browser.post(f"/owner/stations/{added.charge_point_id}/protocol",
                             {"ocpp_version": "1.6"})
    assert status == 302
    _, page = browser.get(f"/owner/stations/{added.charge_point_id}")
    assert "uses OCPP 1.6 from its next connection" in page
    assert '<option value="1.6" selected>' in page
    with RawCharger(server.ws_url, added.charge_point_id, added.password,
                    ("ocpp2.0.1", "ocpp1.6")) as charger:
        assert charger.ws.subprotocol == "ocpp1.6"


def test_a_version_that_does_not_exist_is_refused_in_one_sentence(browser, added):
    browser.get(f"/owner/stations/{added.charge_point_id}")
    browser.post(f"/owner/stations/{added.charge_point_id}/protocol", {"ocpp_version": "3.0"})
    _, page = browser.get(f"/owner/stations/{added.charge_point_id}")
    assert "Choose the newest version, OCPP 2.0.1 or OCPP 1.6J." in page
    assert '<option value="" selected>' in page


def test_reading_settings_shows_each_key_and_the_unknown_ones(browser, added, charger):
    status, page = browser.action(added.charge_point_id, "get-configuration",
                                  {"keys": "HeartbeatInterval, NoSuchKey"})
    assert status == 200
    assert re.search(r"<code>HeartbeatInterval</code></td><td[^>]*>300</td><td>Yes</td>", page)
    assert "It does not know NoSuchKey." in page
    assert charger.cp.received[-1] == ("GetConfiguration",
                                       {"key": ["HeartbeatInterval", "NoSuchKey"]})


def test_a_charger_that_refuses_is_reported_in_one_sentence(browser, added, charger):
    charger.cp.answers["UnlockConnector"] = lambda **_: call_result.UnlockConnector(
        status="UnlockFailed")
    _, page = browser.action(added.charge_point_id, "unlock", {"connector": "1"})
    assert "Plug 1 did not unlock." in page and 'data-ok="no"' in page


def test_a_charger_error_becomes_one_friendly_sentence(browser, added, charger):
    def refuse(**_):
        raise OcppNotImplemented(description="not on this model")
    charger.cp.answers["Reset"] = refuse
    _, page = browser.action(added.charge_point_id, "reset", {"type": "hard"})
    assert (f"{added.charge_point_id} could not do this; it answered "
            "“NotImplemented: not on this model”.") in page


def test_a_charger_that_does_not_answer_becomes_one_friendly_sentence(browser, added, charger):
    def hang(**_):
        time.sleep(5)
        return call_result.Reset(status="Accepted")
    charger.cp.answers["Reset"] = hang
    _, page = browser.action(added.charge_point_id, "reset", {"type": "soft"})
    assert f"{added.charge_point_id} did not answer in time." in page


def test_a_station_added_on_the_page_connects_with_the_password_shown(server, browser,
                                                                      site_id):
    charge_point_id = _unique("CP")
    browser.get("/owner/stations/new")
    status, page = browser.post("/owner/stations/new", {
        "site_id": str(site_id), "charge_point_id": charge_point_id, "connectors": "1",
        "max_power_kw": "22"})
    assert status == 200, page
    url = re.search(r'data-testid="ocpp-url">([^<]+)<', page).group(1)
    password = re.search(r'data-testid="password">([^<]+)<', page).group(1)
    assert url == f"{server.ws_url}/{charge_point_id}"
    with RawCharger(server.ws_url, charge_point_id, password) as charger:
        assert charger.boot()["status"] == "Accepted"


@pytest.fixture(scope="module")
def open_server(database_url, tmp_path_factory):
    live = start_server(database_url, tmp_path_factory.mktemp("logs") / "adopt.log",
                        accept_unknown_stations="true")
    yield live
    stop_server(live)


def test_adopting_drops_the_connection_made_with_the_password_it_came_with(open_server, db,
                                                                          owner):
    admin = make_owner(db, admin=True)
    site = make_site(db, owner)
    charge_point_id = _unique("ARRIVAL")
    with RawCharger(open_server.ws_url, charge_point_id, "its-own-password-123") as charger:
        assert charger.boot()["status"] == "Pending"
        browser = OwnerBrowser(open_server, admin)
        browser.get(f"/owner/stations/{charge_point_id}/adopt")
        status, page = browser.post(f"/owner/stations/{charge_point_id}/adopt", {
            "site_id": str(site), "connectors": "1", "max_power_kw": "22"})
        assert status == 200 and "was disconnected" in page
        with pytest.raises(ConnectionClosed):
            charger.ws.recv(timeout=10)
    password = re.search(r'data-testid="password">([^<]+)<', page).group(1)
    with pytest.raises(InvalidStatus):
        RawCharger(open_server.ws_url, charge_point_id, "its-own-password-123")
    with RawCharger(open_server.ws_url, charge_point_id, password) as charger:
        assert charger.boot()["status"] == "Accepted"
