"""No dead ends, the rest of the walk: the plug page says whether to bring a cable and
takes a problem report that reaches the owner's board; the live session says its numbers
are live, never "0 min", and warns before an idle fee; the ended session and the receipt
say what happened to the money, with the receipt's number (the one the owner searches by),
the operator's legal name and VAT number and the payment method; the map's tiles are a
setting."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import make_owner, make_site
from tests.support.owner import sign_in
from voltspot.app import create_app
from voltspot.domain.pricing import TariffTerms
from voltspot.domain.statuses import ConnectorType, PaymentState, SessionStatus
from voltspot.models import ChargingSession, Connector, Site, Tariff, utcnow
from voltspot.runtime import runtime
from voltspot.services.driver.receipt import Receipt
from voltspot.services.owner.accounts import Viewer
from voltspot.services.owner.problems import open_problems
from voltspot.services.owner.search import search
from voltspot.services.payments.gateways.base import CardOnFile
from voltspot.web.driver_text import payment_method


@pytest.fixture
def app(database_url):
    app = create_app({"database_url": database_url, "secret_key": "test-secret",
                      "driver_reports_per_hour": 3})
    yield app
    runtime(app).db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def owner(db):
    return make_owner(db)


@pytest.fixture
def site(db, owner):
    return make_site(db, owner.id)


TERMS = TariffTerms(currency="EUR", vat_rate_basis_points=2100, energy_price_per_kwh=3900,
                    idle_fee_per_minute=1000, idle_grace_minutes=30, hold_amount=5000,
                    timezone="UTC")


def _price(db, site) -> None:
    with db.session() as session:
        tariff = Tariff(name=f"T-{site.name}", currency="EUR", energy_price_per_kwh=3900,
                        hold_amount=5000, vat_rate_basis_points=2100)
        session.add(tariff)
        session.flush()
        for connector in session.scalars(select(Connector).where(
                Connector.id.in_(site.connector_ids))):
            connector.tariff_id = tariff.id


def _path(evse_id: str) -> str:
    return "/c/" + evse_id.replace("*", "-")


def _text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
                    .split())


def _session(db, site, **values) -> tuple[str, int]:
    """A driver's session on the site's first plug; returns its token and number."""
    now = utcnow()
    fields = dict(status=SessionStatus.CHARGING, origin="driver", price=TERMS.to_dict(),
                  currency="EUR", hold_amount=5000, payment_state=PaymentState.HELD,
                  payment_reference="demo_ref", requested_at=now - timedelta(minutes=2),
                  started_at=now - timedelta(seconds=20), energy_wh=150, power_w=7200)
    fields.update(values)
    with db.session() as session:
        connector = session.get(Connector, site.connector_ids[0])
        token = f"more-{uuid.uuid4().hex}"
        charging = ChargingSession(token=token, station_id=connector.station_id,
                                   connector_pk=connector.id,
                                   connector_id=connector.connector_id, **fields)
        session.add(charging)
        session.flush()
        return token, charging.id


# --- The plug page ---------------------------------------------------------------------


@pytest.mark.parametrize(("language", "socket", "tethered"), [
    ("en", "Socket: bring your own charging cable.",
     "Cable attached: no need to bring your own."),
    ("de", "Steckdose: Bringen Sie Ihr eigenes Ladekabel mit.",
     "Kabel fest angeschlossen: Sie brauchen kein eigenes."),
])
def test_the_plug_page_says_whether_to_bring_a_cable(client, db, site, language, socket,
                                                     tethered):
    _price(db, site)
    headers = {"Accept-Language": language}
    assert socket in _text(client.get(_path(site.evse_ids[0]), headers=headers))
    with db.session() as session:
        session.get(Connector, site.connector_ids[0]).tethered = True
    assert tethered in _text(client.get(_path(site.evse_ids[0]), headers=headers))


def test_a_dc_plug_always_has_its_cable(client, db, site):
    _price(db, site)
    with db.session() as session:
        session.get(Connector, site.connector_ids[0]).connector_type = ConnectorType.CCS2
    page = _text(client.get(_path(site.evse_ids[0])))
    assert "Cable attached: no need to bring your own." in page


def test_the_owner_sets_whether_a_plug_has_its_own_cable(app, db, owner, site):
    client = sign_in(app.test_client(), owner)
    page = client.get(f"/owner/connectors/{site.connector_ids[0]}/edit").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(f"/owner/connectors/{site.connector_ids[0]}/edit", data={
        "csrf_token": token, "connector_type": "CCS", "cable": "tethered",
        "max_power_kw": "50", "evse_id": site.evse_ids[0]})
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)
    with db.session() as session:
        assert session.get(Connector, site.connector_ids[0]).tethered is True
    edit = client.get(f"/owner/connectors/{site.connector_ids[0]}/edit").get_data(as_text=True)
    assert '<option value="tethered" selected>' in edit


def _report_token(client, evse_id: str) -> str:
    page = client.get(_path(evse_id) + "/problem").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_the_plug_page_links_a_problem_form_not_an_email(client, db, site):
    _price(db, site)
    page = client.get(_path(site.evse_ids[0])).get_data(as_text=True)
    assert "mailto:" not in page
    assert f'href="{_path(site.evse_ids[0])}/problem"' in page


def test_a_reported_problem_reaches_the_owners_board(client, db, owner, site):
    token = _report_token(client, site.evse_ids[0])
    response = client.post(_path(site.evse_ids[0]) + "/problem", data={
        "csrf_token": token, "message": "  The screen   is black "})
    assert response.status_code == 200
    assert "Thank you, the owner has your report" in _text(response)
    with db.session() as session:
        station_ids = [session.get(Connector, pk).station_id for pk in site.connector_ids]
        reports = open_problems(session, station_ids)
    assert [(r.plug_number, r.message) for r in reports] == [(1, "The screen is black")]
    board = sign_in(client.application.test_client(), owner).get("/owner/")
    assert "The screen is black" in board.get_data(as_text=True)


def test_a_problem_report_without_the_forms_token_is_refused(client, db, site):
    _report_token(client, site.evse_ids[0])
    response = client.post(_path(site.evse_ids[0]) + "/problem",
                           data={"message": "Broken", "csrf_token": "forged"})
    assert response.status_code == 400
    with db.session() as session:
        station_ids = [session.get(Connector, pk).station_id for pk in site.connector_ids]
        assert open_problems(session, station_ids) == []


@pytest.mark.parametrize(("language", "error"), [
    ("en", "Write what is wrong, for example “the cable is damaged”."),
    ("fr", "Écrivez ce qui ne va pas, par exemple « le câble est abîmé »."),
])
def test_an_empty_problem_report_says_what_to_write(client, site, language, error):
    token = _report_token(client, site.evse_ids[0])
    response = client.post(_path(site.evse_ids[0]) + "/problem", data={
        "csrf_token": token, "message": "   "}, headers={"Accept-Language": language})
    assert response.status_code == 400
    assert error in _text(response)


def test_problem_reports_from_one_address_are_limited(client, db, site):
    token = _report_token(client, site.evse_ids[0])
    codes = [client.post(_path(site.evse_ids[0]) + "/problem", data={
        "csrf_token": token, "message": f"Problem {n}"}).status_code for n in range(4)]
    assert codes == [200, 200, 200, 429]
    with db.session() as session:
        station_ids = [session.get(Connector, pk).station_id for pk in site.connector_ids]
        assert len(open_problems(session, station_ids)) == 3


# --- The live session ------------------------------------------------------------------


def test_the_first_minute_of_a_session_is_not_zero_minutes(client, db, site):
    token, _ = _session(db, site)
    page = client.get(f"/sessions/{token}").get_data(as_text=True)
    assert re.search(r'data-testid="time">under 1 min<', page)
    assert ">0 min<" not in page


def test_a_running_session_says_its_numbers_are_live_or_paused(client, db, site):
    token, _ = _session(db, site)
    page = _text(client.get(f"/sessions/{token}", headers={"Accept-Language": "nl"}))
    assert re.search(r"Gepauzeerd · laatst bijgewerkt \d\d:\d\d:\d\d", page), "offline"
    with db.session() as session:
        station = session.get(Connector, site.connector_ids[0]).station
        station.connected, station.last_seen_at = True, utcnow()
    page = _text(client.get(f"/sessions/{token}", headers={"Accept-Language": "nl"}))
    assert re.search(r"Live · bijgewerkt \d\d:\d\d:\d\d", page)


@pytest.mark.parametrize(("language", "ended_ago", "expected"), [
    ("en", 10, "Charging has finished. Unplug before {at}: from then an idle fee of "
               "€0.10/min applies."),
    ("de", 10, "Der Ladevorgang ist beendet. Stecken Sie vor {at} aus: danach fällt eine "
               "Standgebühr von 0,10\xa0€/min an."),
    ("en", 40, "An idle fee of €0.10/min has applied since {at}. Unplug now."),
])
def test_a_car_done_charging_is_warned_before_the_idle_fee(client, db, site, language,
                                                           ended_ago, expected):
    ended = utcnow() - timedelta(minutes=ended_ago)
    token, _ = _session(db, site, status=SessionStatus.SUSPENDED, charging_ended_at=ended,
                        started_at=ended - timedelta(minutes=60))
    page = _text(client.get(f"/sessions/{token}", headers={"Accept-Language": language}))
    expected = expected.format(at=(ended + timedelta(minutes=30)).strftime("%H:%M"))
    assert " ".join(expected.split()) in page


def test_no_idle_warning_while_the_car_is_charging(client, db, site):
    token, _ = _session(db, site)
    assert "idle-warning" not in client.get(f"/sessions/{token}").get_data(as_text=True)


def test_an_ended_session_says_unplug_now_how_long_and_what_happened_to_the_hold(
        client, db, site):
    started = utcnow() - timedelta(minutes=75)
    token, _ = _session(db, site, status=SessionStatus.COMPLETED, started_at=started,
                        stopped_at=started + timedelta(minutes=65), energy_wh=12_000,
                        payment_state=PaymentState.CAPTURED, amount_captured=520)
    page = _text(client.get(f"/sessions/{token}"))
    assert "Unplug your car now." in page
    assert "Duration 1 h 05 min" in page
    assert "We took €5.20 and released the rest of the €50.00 hold (€44.80)." in page


def test_an_ended_session_keeps_refreshing_until_its_payment_is_final(client, db, site):
    started = utcnow() - timedelta(minutes=30)
    token, number = _session(db, site, status=SessionStatus.COMPLETED, started_at=started,
                             stopped_at=started + timedelta(minutes=20))
    page = client.get(f"/sessions/{token}").get_data(as_text=True)
    assert "Payment being finalised" in _text(client.get(f"/sessions/{token}"))
    assert 'data-poll-every="3"' in page
    # A page still holding the station's event stream polls too: no event tells of money.
    assert "data-poll-always" in page
    with db.session() as session:
        charging = session.get(ChargingSession, number)
        charging.amount_captured, charging.payment_state = 0, PaymentState.RELEASED
    final = client.get(f"/sessions/{token}").get_data(as_text=True)
    assert "data-poll-every" not in final
    assert "Your hold of €50.00 is released; nothing was charged." in html.unescape(final)


# --- The receipt -----------------------------------------------------------------------


def _ended(db, site, **values) -> tuple[str, int]:
    started = utcnow() - timedelta(hours=2)
    fields = dict(status=SessionStatus.COMPLETED, started_at=started,
                  stopped_at=started + timedelta(minutes=50), energy_wh=20_000,
                  payment_state=PaymentState.CAPTURED, amount_captured=780)
    return _session(db, site, **{**fields, **values})


def test_the_receipt_number_is_the_one_the_owner_searches_by(client, db, owner, site):
    token, number = _ended(db, site)
    page = client.get(f"/sessions/{token}/receipt").get_data(as_text=True)
    shown = re.search(r'data-testid="receipt-number">No\. (\d+)<', page).group(1)
    hits = search(db, Viewer(owner.id, False), shown)
    assert [hit.session_id for hit in hits if hit.exact] == [number]


@pytest.mark.parametrize(("language", "sold_by", "vat"), [
    ("en", "Sold by De Gouden Leeuw B.V.", "VAT number NL123456789B01"),
    ("es", "Vendido por De Gouden Leeuw B.V.", "NIF-IVA NL123456789B01"),
])
def test_the_receipt_names_the_operator_and_its_vat_number(client, db, site, language,
                                                           sold_by, vat):
    with db.session() as session:
        stored = session.get(Site, site.id)
        stored.legal_name, stored.vat_number = "De Gouden Leeuw B.V.", "NL123456789B01"
    token, _ = _ended(db, site)
    page = _text(client.get(f"/sessions/{token}/receipt",
                            headers={"Accept-Language": language}))
    assert sold_by in page and vat in page


def test_the_receipt_says_how_it_was_paid(client, db, site):
    token, _ = _ended(db, site)
    paid = _text(client.get(f"/sessions/{token}/receipt"))
    assert "Paid with Card" in paid
    free, _ = _ended(db, site, hold_amount=None, payment_reference=None,
                     payment_state=PaymentState.NONE, amount_captured=None)
    assert "Paid with" not in _text(client.get(f"/sessions/{free}/receipt"))


@pytest.mark.parametrize(("card", "words"), [
    (CardOnFile("visa", "4242"), "Visa •••• 4242"),
    (CardOnFile("cartes_bancaires", "0005"), "CB •••• 0005"),
    (CardOnFile("link_card", "1234"), "Link Card •••• 1234"),
    (None, "Card"),
])
def test_the_card_is_named_as_the_provider_names_it(app, card, words):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert payment_method(Receipt(live=None, legal_name="", vat_number="",
                                      paid_by_card=True, card=card)) == words


def test_a_receipt_still_being_paid_refreshes_its_payment_part_until_final(client, db, site):
    token, number = _ended(db, site, payment_state=PaymentState.HELD, amount_captured=None)
    page = client.get(f"/sessions/{token}/receipt").get_data(as_text=True)
    part = page[page.index('id="receipt-payment"'):]
    assert 'hx-trigger="poll"' in part[:400] and "being finalised" in part
    with db.session() as session:
        charging = session.get(ChargingSession, number)
        charging.amount_captured, charging.payment_state = 780, PaymentState.CAPTURED
    final = client.get(f"/sessions/{token}/receipt").get_data(as_text=True)
    part = final[final.index('id="receipt-payment"'):]
    assert 'hx-trigger="poll"' not in part[:400] and "being finalised" not in part


def test_printing_a_receipt_hides_the_app_around_it(client):
    response = client.get("/static/css/app.css")
    css = response.get_data(as_text=True)
    response.close()
    rules = css[css.index("@media print"):]
    hidden = rules[:rules.index("}")]
    assert all(part in hidden for part in (".vs-header", ".vs-demo-notice", ".vs-bottom-bar"))


# --- The operator's details, set by the owner ----------------------------------------


def _site_form(client, site_id: int, **values: str):
    page = client.get(f"/owner/sites/{site_id}/edit").get_data(as_text=True)
    form = {name: html.unescape(value) for name, value in re.findall(
        r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', page)}
    return client.post(f"/owner/sites/{site_id}/edit", data={**form, **values})


def test_the_owner_sets_the_legal_name_and_vat_number_printed_on_receipts(app, db, owner,
                                                                         site):
    client = sign_in(app.test_client(), owner)
    response = _site_form(client, site.id, address="Damrak 1", city="Amsterdam",
                          legal_name="De Gouden Leeuw B.V.", vat_number="nl 1234.56789.B01")
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    with db.session() as session:
        stored = session.get(Site, site.id)
        assert (stored.legal_name, stored.vat_number) == ("De Gouden Leeuw B.V.",
                                                          "NL123456789B01")


def test_a_vat_number_without_its_country_prefix_is_explained(app, owner, site):
    client = sign_in(app.test_client(), owner)
    response = _site_form(client, site.id, address="Damrak 1", city="Amsterdam",
                          vat_number="123456789")
    assert response.status_code == 422
    assert "Write the VAT number with its country prefix" in response.get_data(as_text=True)


# --- The map's tiles -------------------------------------------------------------------


def test_the_map_tiles_and_their_attribution_are_a_setting(database_url):
    app = create_app({"database_url": database_url,
                      "map_tiles": "https://{s}.tiles.example.net/{z}/{x}/{y}.png",
                      "map_attribution": "© Example Maps"})
    try:
        response = app.test_client().get("/")
        page = response.get_data(as_text=True)
        assert 'data-tiles="https://{s}.tiles.example.net/{z}/{x}/{y}.png"' in page
        assert "Map: © Example Maps. The list works without it." in html.unescape(page)
        assert "https://*.tiles.example.net" in response.headers["Content-Security-Policy"]
        assert "openstreetmap" not in response.headers["Content-Security-Policy"]
    finally:
        runtime(app).db.dispose()


def test_without_map_tiles_find_a_spot_is_the_list_alone(database_url):
    app = create_app({"database_url": database_url, "map_tiles": ""})
    try:
        response = app.test_client().get("/")
        page = response.get_data(as_text=True)
        assert 'id="map"' not in page and 'id="spots"' in page
        img = re.search(r"img-src ([^;]+)", response.headers["Content-Security-Policy"])[1]
        assert img.split() == ["'self'", "data:", "blob:"]
    finally:
        runtime(app).db.dispose()
