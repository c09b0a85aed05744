"""Prices on the owner page: the tariff list, the editor (typed in major units, parsed
exactly), its live preview and example session, assigning tariffs to sites and plugs, the
frozen-price rule, other owners' objects and CSRF."""

from __future__ import annotations

import re
import secrets
import uuid

import pytest
from sqlalchemy import select

from tests.factories import SiteInfo, make_site, make_tariff
from tests.support.owner import csrf_of
from voltspot.domain.evse_ids import url_safe
from voltspot.domain.pricing import estimate
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, Connector, Site, Tariff, utcnow
from voltspot.services.charging.billing import terms_of

PREVIEW = {"HX-Request": "true", "HX-Target": "tariff-preview"}
WINDOWS = {"HX-Request": "true", "HX-Target": "tariff-windows"}
PRICE_BLOCK = re.compile(
    r'<section class="card mb-3" aria-labelledby="price-heading">.*?</section>', re.S)


def tariff_form(client, **values) -> dict:
    """The editor's fields as an owner would type them, with the CSRF token."""
    form = {"csrf_token": csrf_of(client), "name": f"Standard {uuid.uuid4().hex[:6]}",
            "currency": "EUR", "energy_price": "0.39", "time_price": "",
            "time_basis": "charging", "session_fee": "0.35", "idle_fee": "0.10",
            "idle_grace": "30", "idle_cap": "10", "vat_rate": "21", "hold_amount": "50"}
    form.update(values)
    return form


def stored(db, tariff_id: int) -> Tariff:
    with db.session() as session:
        return session.get(Tariff, tariff_id)


def tariff_named(db, name: str) -> Tariff:
    with db.session() as session:
        return session.scalar(select(Tariff).where(Tariff.name == name))


def plug_tariffs(db, connector_ids: list[int]) -> list[int | None]:
    with db.session() as session:
        return [session.get(Connector, pk).tariff_id for pk in connector_ids]


def test_the_prices_page_lists_each_tariff_with_its_summary_and_where_it_applies(
        signed_in, db, owner):
    site = make_site(db, owner.id)
    tariff_id = make_tariff(db, owner.id, name="Hotel standard")
    with db.session() as session:
        session.get(Connector, site.connector_ids[0]).tariff_id = tariff_id
    page = signed_in.get("/owner/tariffs").get_data(as_text=True)
    assert "Hotel standard" in page
    assert re.search(r"€0.39/kWh.*€0.35 per session.*incl. 21% VAT", page, re.S)
    assert f"{site.name}: 1 of 2 plugs ({site.evse_ids[0]})" in page


def test_the_prices_page_leaves_out_other_owners_tariffs(signed_in, db, other_owner):
    make_tariff(db, other_owner.id, name="Someone else's price")
    assert "Someone else's price" not in signed_in.get("/owner/tariffs").get_data(as_text=True)


def test_a_new_tariff_typed_in_major_units_is_stored_exactly(signed_in, db, owner):
    form = tariff_form(signed_in, energy_price="0.395", time_price="0.05",
                       time_basis="connection", session_fee="0.35", idle_fee="0.10",
                       idle_grace="30", idle_cap="12.50", vat_rate="21", hold_amount="50")
    response = signed_in.post("/owner/tariffs/new", data=form)
    assert response.status_code == 303
    tariff = tariff_named(db, form["name"])
    assert (tariff.energy_price_per_kwh, tariff.time_price_per_minute, tariff.time_price_basis,
            tariff.session_fee, tariff.idle_fee_per_minute, tariff.idle_grace_minutes,
            tariff.idle_fee_cap, tariff.vat_rate_basis_points, tariff.hold_amount,
            tariff.owner_id) == (3950, 500, "connection", 35, 1000, 30, 1250, 2100, 5000,
                                 owner.id)


def test_a_saved_new_tariff_goes_on_to_choosing_where_it_applies(signed_in, db):
    form = tariff_form(signed_in)
    response = signed_in.post("/owner/tariffs/new", data=form)
    tariff = tariff_named(db, form["name"])
    assert response.headers["Location"].endswith(f"/owner/tariffs/{tariff.id}/assign")


def test_time_windows_are_stored_with_their_days_times_and_prices(signed_in, db):
    form = tariff_form(signed_in, **{
        "window-0-label": "Night", "window-0-days": ["0", "1", "2", "3", "4"],
        "window-0-start": "22:00", "window-0-end": "06:00", "window-0-energy_price": "0.29",
        "window-1-days": ["5", "6"], "window-1-idle_fee": "0"})
    signed_in.post("/owner/tariffs/new", data=form)
    assert tariff_named(db, form["name"]).windows == [
        {"label": "Night", "days": [0, 1, 2, 3, 4], "start": "22:00", "end": "06:00",
         "energy_price_per_kwh": 2900, "time_price_per_minute": None,
         "idle_fee_per_minute": None},
        {"label": "", "days": [5, 6], "start": "00:00", "end": "00:00",
         "energy_price_per_kwh": None, "time_price_per_minute": None,
         "idle_fee_per_minute": 0}]


def test_a_decimal_comma_and_a_currency_sign_are_read_as_people_write_them(signed_in, db):
    form = tariff_form(signed_in, energy_price="€ 0,39", session_fee="0.35 €", vat_rate="21 %")
    signed_in.post("/owner/tariffs/new", data=form)
    tariff = tariff_named(db, form["name"])
    assert (tariff.energy_price_per_kwh, tariff.session_fee,
            tariff.vat_rate_basis_points) == (3900, 35, 2100)


def test_an_existing_tariff_opens_in_major_units(signed_in, db, owner):
    tariff_id = make_tariff(db, owner.id, energy_price_per_kwh=3950, hold_amount=7500,
                            vat_rate_basis_points=2150, idle_fee_cap=1000)
    page = signed_in.get(f"/owner/tariffs/{tariff_id}").get_data(as_text=True)
    for name, value in (("energy_price", "0.395"), ("session_fee", "0.35"),
                        ("hold_amount", "75.00"), ("vat_rate", "21.5"), ("idle_cap", "10.00")):
        assert re.search(rf'name="{name}"\s+type="text" value="{re.escape(value)}"', page), name


def test_an_existing_tariff_is_updated_in_place(signed_in, db, owner):
    tariff_id = make_tariff(db, owner.id)
    form = tariff_form(signed_in, energy_price="0.45")
    response = signed_in.post(f"/owner/tariffs/{tariff_id}", data=form)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/owner/tariffs")
    assert stored(db, tariff_id).energy_price_per_kwh == 4500


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("name", "", "Give this price a name"),
    ("currency", "XYZ", "Pick the currency from the list."),
    ("energy_price", "abc", "Write the price per kWh as a number like 0.39."),
    ("energy_price", "0.39999", "The price per kWh can have at most 4 decimals."),
    ("time_price", "-0.05", "The price per minute cannot be negative."),
    ("time_basis", "sometimes", "Choose whether the price per minute counts charging time"),
    ("session_fee", "0.355", "The session fee can have at most 2 decimals."),
    ("idle_fee", "ten", "Write the idle fee per minute as a number like 0.39."),
    ("idle_grace", "2.5", "Write the free minutes as a whole number of minutes like 30."),
    ("idle_cap", "x", "Write the idle fee cap as a number like 0.35."),
    ("vat_rate", "", "Enter the VAT rate your prices include, like 21."),
    ("vat_rate", "120", "The VAT rate is at most 100 %."),
    ("hold_amount", "0", "Enter the amount to hold on a driver&#39;s card before charging"),
])
def test_a_bad_field_gets_its_own_message_and_nothing_is_saved(signed_in, db, field, typed,
                                                               message):
    form = tariff_form(signed_in, **{field: typed})
    response = signed_in.post("/owner/tariffs/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'data-error-for="{field}">{re.escape(message)}', page), page
    assert form["name"] == "" or tariff_named(db, form["name"]) is None


def test_several_bad_fields_each_get_their_message(signed_in):
    form = tariff_form(signed_in, energy_price="abc", vat_rate="", hold_amount="-5")
    page = signed_in.post("/owner/tariffs/new", data=form).get_data(as_text=True)
    errors = dict(re.findall(r'data-error-for="([^"]+)">([^<]+)<', page))
    assert set(errors) == {"energy_price", "vat_rate", "hold_amount"}
    assert errors["hold_amount"] == "The card hold cannot be negative."


def test_a_bad_field_keeps_what_was_typed_in_the_others(signed_in):
    form = tariff_form(signed_in, energy_price="abc", session_fee="0.49")
    page = signed_in.post("/owner/tariffs/new", data=form).get_data(as_text=True)
    assert 'value="abc"' in page and 'value="0.49"' in page


def test_a_time_window_without_days_or_price_gets_its_own_messages(signed_in):
    form = tariff_form(signed_in, **{"window-0-label": "Night", "window-0-start": "25:00",
                                     "window-0-end": "06:00"})
    page = signed_in.post("/owner/tariffs/new", data=form).get_data(as_text=True)
    errors = dict(re.findall(r'data-error-for="([^"]+)">([^<]+)<', page))
    assert errors == {
        "window-0-days": "Tick at least one day for this time window.",
        "window-0-start": "Write the time like 22:00.",
        "window-0-energy_price": "Set at least one price for this time window, or remove the "
                                 "window."}


def test_a_name_already_used_by_the_owner_is_refused(signed_in, db, owner):
    make_tariff(db, owner.id, name="Standard price")
    form = tariff_form(signed_in, name="Standard price")
    page = signed_in.post("/owner/tariffs/new", data=form).get_data(as_text=True)
    assert "You already have a price called “Standard price”" in page


def test_the_preview_is_the_plug_pages_price_block_exactly(signed_in, app, db, owner):
    site = make_site(db, owner.id)
    form = tariff_form(signed_in, energy_price="0.395", time_price="0.02",
                       time_basis="connection", **{
                           "window-0-label": "Night", "window-0-days": ["0", "1", "2", "3"],
                           "window-0-start": "22:00", "window-0-end": "06:00",
                           "window-0-energy_price": "0.29"})
    preview = signed_in.post("/owner/tariffs/preview", data=form, headers=PREVIEW)
    signed_in.post("/owner/tariffs/new", data=form)
    tariff = tariff_named(db, form["name"])
    signed_in.post(f"/owner/tariffs/{tariff.id}/assign",
                   data={"site": site.id, "csrf_token": csrf_of(signed_in)})
    plug_page = app.test_client().get(f"/c/{url_safe(site.evse_ids[0])}")
    driver_block = PRICE_BLOCK.search(plug_page.get_data(as_text=True)).group(0)
    assert PRICE_BLOCK.search(preview.get_data(as_text=True)).group(0) == driver_block
    assert "We hold €50.00 on your card" in driver_block


def test_the_preview_follows_afir_order_with_vat_included(signed_in):
    form = tariff_form(signed_in, time_price="0.05", session_fee="0.35", idle_fee="0.10")
    page = signed_in.post("/owner/tariffs/preview", data=form,
                          headers=PREVIEW).get_data(as_text=True)
    assert re.search(r"€0.39/kWh.*€0.05/min charging.*€0.35 per session.*€0.10/min idle.*"
                     r"incl. 21% VAT", page, re.S)


def test_the_preview_says_what_to_fix_while_a_field_is_bad(signed_in):
    form = tariff_form(signed_in, energy_price="abc")
    page = signed_in.post("/owner/tariffs/preview", data=form,
                          headers=PREVIEW).get_data(as_text=True)
    assert "The preview appears once these are fixed" in page
    assert "Write the price per kWh as a number like 0.39." in page
    assert "price-heading" not in page


def test_the_preview_does_not_wait_for_a_name(signed_in):
    form = tariff_form(signed_in, name="")
    page = signed_in.post("/owner/tariffs/preview", data=form,
                          headers=PREVIEW).get_data(as_text=True)
    assert "€0.39/kWh" in page


def test_the_example_session_is_the_estimate_for_30_kwh_in_45_min_and_20_min_idle(signed_in):
    form = tariff_form(signed_in, idle_fee="0.10", idle_grace="10", example_energy_kwh="30",
                       example_minutes="45", example_idle_minutes="20")
    page = signed_in.post("/owner/tariffs/preview", data=form,
                          headers=PREVIEW).get_data(as_text=True)
    terms = terms_of(Tariff(currency="EUR", energy_price_per_kwh=3900, time_price_per_minute=0,
                            time_price_basis="charging", session_fee=35,
                            idle_fee_per_minute=1000, idle_grace_minutes=10,
                            idle_fee_cap=1000, vat_rate_basis_points=2100, hold_amount=5000,
                            windows=[]), None)
    bill = estimate(terms, 30_000, 45, 20)
    assert bill.total == 1170 + 35 + 100
    for line in bill.lines:
        assert line.description in page
    assert 'data-testid="example-total">€13.05<' in page
    assert "of which VAT (21 %)" in page and "€2.26" in page


def test_the_example_session_applies_a_time_window_from_its_start(signed_in):
    form = tariff_form(signed_in, example_day="1", example_start="23:00", **{
        "window-0-label": "Night", "window-0-days": ["0", "1", "2", "3", "4"],
        "window-0-start": "22:00", "window-0-end": "06:00", "window-0-energy_price": "0.29"})
    page = signed_in.post("/owner/tariffs/preview", data=form,
                          headers=PREVIEW).get_data(as_text=True)
    assert "30.0 kWh × €0.29 (Night)" in page


def test_the_example_session_warns_when_it_costs_more_than_the_hold(signed_in):
    form = tariff_form(signed_in, hold_amount="10", example_energy_kwh="60")
    page = signed_in.post("/owner/tariffs/preview", data=form,
                          headers=PREVIEW).get_data(as_text=True)
    assert "costs more than the card hold of €10.00" in page


def test_the_example_session_says_when_its_numbers_are_bad(signed_in):
    form = tariff_form(signed_in, example_energy_kwh="lots")
    page = signed_in.post("/owner/tariffs/preview", data=form,
                          headers=PREVIEW).get_data(as_text=True)
    assert "Write the energy as a number like 30." in page


def test_the_preview_without_htmx_is_the_whole_editor(signed_in):
    response = signed_in.post("/owner/tariffs/preview", data=tariff_form(signed_in))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="tariff-form"' in page and "€0.39/kWh" in page


def test_a_time_window_row_is_added_keeping_the_typed_rows(signed_in):
    form = tariff_form(signed_in, window_action="add", **{
        "window-0-label": "Night", "window-0-days": ["0"], "window-0-energy_price": "0.29"})
    page = signed_in.post("/owner/tariffs/windows", data=form,
                          headers=WINDOWS).get_data(as_text=True)
    assert page.count("<fieldset") == 2
    assert 'name="window-0-label"' in page and 'value="Night"' in page
    assert 'name="window-1-label"' in page


def test_a_time_window_row_is_removed_and_the_rest_renumbered(signed_in):
    form = tariff_form(signed_in, window_action="remove-0", **{
        "window-0-label": "Night", "window-0-days": ["0"], "window-0-energy_price": "0.29",
        "window-1-label": "Weekend", "window-1-days": ["5"], "window-1-energy_price": "0.25"})
    page = signed_in.post("/owner/tariffs/windows", data=form,
                          headers=WINDOWS).get_data(as_text=True)
    assert page.count("<fieldset") == 1
    assert re.search(r'name="window-0-label"\s+type="text" value="Weekend"', page)


def test_a_boosted_navigation_to_the_editor_gets_the_whole_page(signed_in):
    response = signed_in.get("/owner/tariffs/new", headers={"HX-Request": "true",
                                                             "HX-Boosted": "true"})
    assert "<!doctype html>" in response.get_data(as_text=True)


def test_a_tariff_is_assigned_to_every_plug_of_a_site(signed_in, db, owner):
    site = make_site(db, owner.id, stations=2, plugs=2)
    tariff_id = make_tariff(db, owner.id)
    response = signed_in.post(f"/owner/tariffs/{tariff_id}/assign",
                              data={"site": site.id, "csrf_token": csrf_of(signed_in)})
    assert response.status_code == 303
    assert plug_tariffs(db, site.connector_ids) == [tariff_id] * 4


def test_a_tariff_is_assigned_to_single_plugs_only(signed_in, db, owner):
    site = make_site(db, owner.id, plugs=3)
    tariff_id = make_tariff(db, owner.id)
    signed_in.post(f"/owner/tariffs/{tariff_id}/assign", data={
        "connector": [site.connector_ids[0], site.connector_ids[2]],
        "csrf_token": csrf_of(signed_in)})
    assert plug_tariffs(db, site.connector_ids) == [tariff_id, None, tariff_id]


def test_the_assign_page_shows_each_plug_and_its_current_price(signed_in, db, owner):
    site = make_site(db, owner.id)
    other = make_tariff(db, owner.id, name="Old price")
    with db.session() as session:
        session.get(Connector, site.connector_ids[1]).tariff_id = other
    tariff_id = make_tariff(db, owner.id)
    page = signed_in.get(f"/owner/tariffs/{tariff_id}/assign").get_data(as_text=True)
    assert site.name in page and site.evse_ids[0] in page
    assert "now no price" in page and "now Old price" in page


def test_assigning_nothing_says_what_to_choose(signed_in, db, owner):
    tariff_id = make_tariff(db, owner.id)
    response = signed_in.post(f"/owner/tariffs/{tariff_id}/assign",
                              data={"csrf_token": csrf_of(signed_in)})
    assert response.status_code == 422
    assert "Tick the plugs that should use this price" in response.get_data(as_text=True)


def test_a_tariff_in_another_currency_than_the_site_is_refused(signed_in, db, owner):
    site = make_site(db, owner.id, currency="GBP")
    tariff_id = make_tariff(db, owner.id, name="Euro price")
    response = signed_in.post(f"/owner/tariffs/{tariff_id}/assign",
                              data={"site": site.id, "csrf_token": csrf_of(signed_in)})
    assert response.status_code == 422
    assert "“Euro price” is in EUR but" in response.get_data(as_text=True)
    assert plug_tariffs(db, site.connector_ids) == [None, None]


def _running_session(db, site: SiteInfo, tariff_id: int) -> tuple[int, dict]:
    with db.session() as session:
        connector = session.get(Connector, site.connector_ids[0])
        price = terms_of(session.get(Tariff, tariff_id), session.get(Site, site.id)).to_dict()
        charging = ChargingSession(
            token=secrets.token_urlsafe(32), station_id=connector.station_id,
            connector_pk=connector.id, connector_id=connector.connector_id,
            status=SessionStatus.CHARGING, origin="driver", tariff_id=tariff_id, price=price,
            currency="EUR", hold_amount=5000, started_at=utcnow(), meter_start_wh=0)
        session.add(charging)
        session.flush()
        return charging.id, price


def _session(db, session_id: int) -> ChargingSession:
    with db.session() as session:
        return session.get(ChargingSession, session_id)


def test_a_running_session_keeps_its_frozen_price_when_the_tariff_is_edited(
        signed_in, app, db, owner):
    site = make_site(db, owner.id)
    tariff_id = make_tariff(db, owner.id)
    with db.session() as session:
        for pk in site.connector_ids:
            session.get(Connector, pk).tariff_id = tariff_id
    session_id, frozen = _running_session(db, site, tariff_id)
    signed_in.post(f"/owner/tariffs/{tariff_id}", data=tariff_form(signed_in, energy_price="0.59"))
    assert _session(db, session_id).price == frozen
    assert frozen["energy_price_per_kwh"] == 3900
    plug_page = app.test_client().get(f"/c/{url_safe(site.evse_ids[1])}").get_data(as_text=True)
    assert "€0.59/kWh" in plug_page


def test_a_running_session_keeps_its_frozen_price_when_its_plug_gets_another_tariff(
        signed_in, db, owner):
    site = make_site(db, owner.id)
    old = make_tariff(db, owner.id)
    with db.session() as session:
        session.get(Connector, site.connector_ids[0]).tariff_id = old
    session_id, frozen = _running_session(db, site, old)
    new = make_tariff(db, owner.id, energy_price_per_kwh=5900)
    signed_in.post(f"/owner/tariffs/{new}/assign",
                   data={"site": site.id, "csrf_token": csrf_of(signed_in)})
    charging = _session(db, session_id)
    assert (charging.price, charging.tariff_id) == (frozen, old)
    assert plug_tariffs(db, site.connector_ids[:1]) == [new]


@pytest.mark.parametrize("path", ["/owner/tariffs/new", "/owner/tariffs/{id}/assign",
                                  "/owner/tariffs"])
def test_the_pages_that_change_prices_say_running_sessions_keep_theirs(signed_in, db, owner,
                                                                      path):
    tariff_id = make_tariff(db, owner.id)
    page = signed_in.get(path.format(id=tariff_id)).get_data(as_text=True)
    assert ("Changes apply to new sessions only: a session already running keeps the price it "
            "started with.") in page


def test_the_editor_counts_the_sessions_running_on_the_tariff(signed_in, db, owner):
    site = make_site(db, owner.id)
    tariff_id = make_tariff(db, owner.id)
    _running_session(db, site, tariff_id)
    page = signed_in.get(f"/owner/tariffs/{tariff_id}").get_data(as_text=True)
    assert "1 session running on this price now keeps it until it ends." in page


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/owner/tariffs/{id}"), ("POST", "/owner/tariffs/{id}"),
    ("GET", "/owner/tariffs/{id}/assign"), ("POST", "/owner/tariffs/{id}/assign")])
def test_another_owners_tariff_is_not_found(signed_in, db, owner, other_owner, method, path):
    theirs = make_tariff(db, other_owner.id)
    mine = make_site(db, owner.id)
    data = tariff_form(signed_in, site=mine.id) if method == "POST" else None
    response = signed_in.open(path.format(id=theirs), method=method, data=data)
    assert response.status_code == 404
    assert stored(db, theirs).energy_price_per_kwh == 3900
    assert plug_tariffs(db, mine.connector_ids) == [None, None]


def test_another_owners_site_cannot_take_a_tariff(signed_in, db, owner, other_owner):
    tariff_id = make_tariff(db, owner.id)
    theirs = make_site(db, other_owner.id)
    response = signed_in.post(f"/owner/tariffs/{tariff_id}/assign",
                              data={"site": theirs.id, "csrf_token": csrf_of(signed_in)})
    assert response.status_code == 404
    assert plug_tariffs(db, theirs.connector_ids) == [None, None]


def test_another_owners_plug_cannot_take_a_tariff(signed_in, db, owner, other_owner):
    tariff_id = make_tariff(db, owner.id)
    mine, theirs = make_site(db, owner.id), make_site(db, other_owner.id)
    response = signed_in.post(f"/owner/tariffs/{tariff_id}/assign", data={
        "connector": [mine.connector_ids[0], theirs.connector_ids[0]],
        "csrf_token": csrf_of(signed_in)})
    assert response.status_code == 404
    assert plug_tariffs(db, [mine.connector_ids[0], theirs.connector_ids[0]]) == [None, None]


def test_another_owners_sites_are_not_offered_on_the_assign_page(signed_in, db, owner,
                                                                 other_owner):
    theirs = make_site(db, other_owner.id)
    tariff_id = make_tariff(db, owner.id)
    page = signed_in.get(f"/owner/tariffs/{tariff_id}/assign").get_data(as_text=True)
    assert theirs.name not in page


@pytest.mark.parametrize("path", ["/owner/tariffs/new", "/owner/tariffs/{id}",
                                  "/owner/tariffs/{id}/assign", "/owner/tariffs/preview",
                                  "/owner/tariffs/windows"])
def test_a_post_without_the_csrf_token_is_refused(signed_in, db, owner, path):
    tariff_id = make_tariff(db, owner.id)
    form = tariff_form(signed_in, energy_price="0.99")
    del form["csrf_token"]
    response = signed_in.post(path.format(id=tariff_id), data=form)
    assert response.status_code == 400
    assert stored(db, tariff_id).energy_price_per_kwh == 3900


def test_an_htmx_post_carries_the_token_in_its_header(signed_in):
    form = tariff_form(signed_in)
    token = form.pop("csrf_token")
    response = signed_in.post("/owner/tariffs/preview", data=form,
                              headers={**PREVIEW, "X-CSRFToken": token})
    assert response.status_code == 200
