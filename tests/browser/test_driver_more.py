"""No dead ends on a phone (390x844), in English and German: the live session says its
numbers are live, never "0 min", keeps Stop in place when the battery estimate arrives and
warns before an idle fee; the ended session says unplug now, how long and what happened to
the hold, and updates by itself until the payment is final; the receipt carries its number,
the operator and the payment method and prints without the app around it; the plug page
says whether to bring a cable and takes a problem report; the map's pins show the free
count and open a popup with the price, the power and a way to navigate there."""

from __future__ import annotations

import random
import re
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tests.factories import make_owner, make_site
from tests.support.browser import (
    another_page,
    axe_check,
    no_map_tiles,
    screenshot,
    touch_targets_ok,
)
from voltspot.domain.meter import SOC
from voltspot.domain.pricing import TariffTerms
from voltspot.domain.statuses import ConnectorStatus, PaymentState, SessionStatus
from voltspot.models import (
    ChargingSession,
    Connector,
    MeterSample,
    Site,
    Station,
    Tariff,
    utcnow,
)
from voltspot.services.owner.problems import open_problems

WAIT_MS = 10_000
LOCALES = ["en-GB", "de-DE"]
WORDS = {
    "en-GB": {"live": "Live · updated", "first minute": "under 1 min", "stop": "Stop charging",
              "idle": "Charging has finished. Unplug before",
              "unplug": "Unplug your car now.", "finalising": "Payment being finalised",
              "released": "released the rest of the €50.00 hold",
              "number": "No. ", "sold": "Sold by Leeuw Laden B.V.", "card": "Card",
              "socket": "Socket: bring your own charging cable.",
              "report": "Report a problem", "wrong": "What is wrong?",
              "send": "Send to the owner", "thanks": "Thank you, the owner has your report",
              "map": "Map", "near": "Near me", "navigate": "Navigate", "free": "1 of 2 free",
              "you": "You are here"},
    "de-DE": {"live": "Live · aktualisiert", "first minute": "unter 1 Min.",
              "stop": "Laden beenden", "idle": "Der Ladevorgang ist beendet. Stecken Sie vor",
              "unplug": "Stecken Sie Ihr Auto jetzt aus.",
              "finalising": "Die Zahlung wird abgeschlossen",
              "released": "den Rest der Reservierung von 50,00\xa0€ freigegeben",
              "number": "Nr. ", "sold": "Verkauft von Leeuw Laden B.V.", "card": "Karte",
              "socket": "Steckdose: Bringen Sie Ihr eigenes Ladekabel mit.",
              "report": "Problem melden", "wrong": "Was ist los?",
              "send": "An den Betreiber senden",
              "thanks": "Danke, der Betreiber hat Ihre Meldung",
              "map": "Karte", "near": "In der Nähe", "navigate": "Route",
              "free": "1 von 2 frei", "you": "Sie sind hier"},
}

TERMS = TariffTerms(currency="EUR", vat_rate_basis_points=2100, energy_price_per_kwh=3900,
                    idle_fee_per_minute=1000, idle_grace_minutes=30, hold_amount=5000,
                    timezone="Europe/Amsterdam")


@pytest.fixture
def site(db):
    """An owner's site with two priced, free plugs, its charger heard from just now."""
    made = make_site(db, make_owner(db).id)
    with db.session() as session:
        tariff = Tariff(name=f"T-{made.name}", currency="EUR", energy_price_per_kwh=3900,
                        idle_fee_per_minute=1000, idle_grace_minutes=30, hold_amount=5000,
                        vat_rate_basis_points=2100)
        session.add(tariff)
        session.flush()
        stored = session.get(Site, made.id)
        stored.legal_name, stored.vat_number = "Leeuw Laden B.V.", "NL123456789B01"
        for connector in session.scalars(select(Connector).where(
                Connector.id.in_(made.connector_ids))):
            connector.tariff_id, connector.status = tariff.id, ConnectorStatus.AVAILABLE
        station = session.scalar(select(Station).where(
            Station.charge_point_id == made.charge_point_ids[0]))
        station.connected, station.last_seen_at = True, utcnow()
    return made


def _session(db, site, **values) -> tuple[str, int]:
    now = utcnow()
    fields = dict(status=SessionStatus.CHARGING, origin="driver", price=TERMS.to_dict(),
                  currency="EUR", hold_amount=5000, payment_state=PaymentState.HELD,
                  payment_reference="demo_" + uuid.uuid4().hex[:12],
                  requested_at=now - timedelta(minutes=1), started_at=now - timedelta(seconds=5),
                  energy_wh=150, power_w=7200, soc_percent=40)
    fields.update(values)
    with db.session() as session:
        connector = session.get(Connector, site.connector_ids[0])
        charging = ChargingSession(token="more-" + uuid.uuid4().hex,
                                   station_id=connector.station_id, connector_pk=connector.id,
                                   connector_id=connector.connector_id, **fields)
        session.add(charging)
        session.flush()
        return charging.token, charging.id


def _poll_only(page: Page) -> None:
    """Refresh by polling (every 3 s): these tests change the database behind the page,
    which sends no event."""
    page.context.route("**/events", lambda route: route.abort())


def _update(db, model, pk: int, **values) -> None:
    with db.session() as session:
        row = session.get(model, pk)
        for name, value in values.items():
            setattr(row, name, value)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_live_session_says_it_is_live_and_stop_stays_put_when_the_estimate_comes(
        browser: Browser, server, db, site, locale):
    words = WORDS[locale]
    token, number = _session(db, site)
    with another_page(browser, locale=locale) as page:
        _poll_only(page)
        page.goto(f"{server.base_url}/sessions/{token}")
        expect(page.get_by_test_id("live-sign")).to_contain_text(words["live"])
        expect(page.get_by_test_id("time")).to_have_text(words["first minute"])
        stop = page.get_by_role("button", name=words["stop"])
        before = stop.bounding_box()
        screenshot(page, f"session-live-{locale}")
        axe_check(page)
        touch_targets_ok(page)
        with db.session() as session:
            station_id = session.get(ChargingSession, number).station_id
            now = utcnow()
            session.add_all([MeterSample(station_id=station_id, session_id=number,
                                         connector_id=1, taken_at=now - timedelta(minutes=m),
                                         measurand=SOC, value=40 - m, unit="Percent")
                             for m in (0, 4)])
        expect(page.get_by_test_id("eta")).not_to_be_empty(timeout=WAIT_MS)
        assert stop.bounding_box() == before, "the estimate pushed Stop"


@pytest.mark.parametrize("locale", LOCALES)
def test_a_car_done_charging_is_warned_before_the_idle_fee(browser: Browser, server, db, site,
                                                           locale):
    ended = utcnow() - timedelta(minutes=10)
    token, _ = _session(db, site, status=SessionStatus.SUSPENDED, charging_ended_at=ended,
                        started_at=ended - timedelta(minutes=50))
    with another_page(browser, locale=locale) as page:
        page.goto(f"{server.base_url}/sessions/{token}")
        expect(page.get_by_test_id("idle-warning")).to_contain_text(WORDS[locale]["idle"])
        screenshot(page, f"session-idle-warning-{locale}")
        axe_check(page)
        touch_targets_ok(page)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_ended_session_and_its_receipt_update_by_themselves_until_paid(
        browser: Browser, server, db, site, locale):
    words = WORDS[locale]
    started = utcnow() - timedelta(minutes=80)
    token, number = _session(db, site, status=SessionStatus.COMPLETED, started_at=started,
                             stopped_at=started + timedelta(minutes=65), energy_wh=12_000)
    with another_page(browser, locale=locale) as page:
        _poll_only(page)
        page.goto(f"{server.base_url}/sessions/{token}")
        expect(page.get_by_test_id("unplug")).to_have_text(words["unplug"])
        expect(page.get_by_test_id("duration")).to_have_text(
            "1 h 05 min" if locale == "en-GB" else "1 Std. 05 Min.")
        expect(page.get_by_test_id("hold-outcome")).to_contain_text(words["finalising"])
        screenshot(page, f"session-ended-{locale}")
        axe_check(page)
        touch_targets_ok(page)
        _update(db, ChargingSession, number, amount_captured=520,
                payment_state=PaymentState.CAPTURED)
        expect(page.get_by_test_id("hold-outcome")).to_contain_text(words["released"],
                                                                    timeout=WAIT_MS)

        receipt_token, receipt_number = _session(
            db, site, status=SessionStatus.COMPLETED, started_at=started,
            stopped_at=started + timedelta(minutes=65), energy_wh=12_000)
        page.goto(f"{server.base_url}/sessions/{receipt_token}/receipt")
        expect(page.get_by_test_id("receipt-number")).to_have_text(
            words["number"] + str(receipt_number))
        expect(page.get_by_test_id("operator")).to_contain_text(words["sold"])
        expect(page.get_by_test_id("operator")).to_contain_text("NL123456789B01")
        expect(page.get_by_test_id("payment-method")).to_have_text(words["card"])
        expect(page.get_by_test_id("payment-state")).to_be_visible()
        _update(db, ChargingSession, receipt_number, amount_captured=520,
                payment_state=PaymentState.CAPTURED)
        expect(page.get_by_test_id("payment-state")).to_have_count(0, timeout=WAIT_MS)
        screenshot(page, f"receipt-{locale}", full_page=True)
        axe_check(page)
        touch_targets_ok(page)

        page.emulate_media(media="print")
        expect(page.locator(".vs-header")).to_be_hidden()
        expect(page.locator(".vs-demo-notice")).to_be_hidden()
        expect(page.get_by_test_id("receipt-number")).to_be_visible()
        screenshot(page, f"receipt-print-{locale}", full_page=True)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_plug_page_says_to_bring_a_cable_and_takes_a_problem_report(
        browser: Browser, server, db, site, locale):
    words = WORDS[locale]
    message = f"Screen is black {uuid.uuid4().hex[:6]}"
    with another_page(browser, locale=locale) as page:
        page.goto(f"{server.base_url}/c/{site.evse_ids[1].replace('*', '-')}")
        expect(page.get_by_test_id("cable")).to_have_text(words["socket"])
        screenshot(page, f"plug-cable-{locale}")
        page.get_by_role("link", name=words["report"]).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(words["report"],
                                                                  timeout=WAIT_MS)
        page.get_by_label(words["wrong"]).fill(message)
        screenshot(page, f"report-problem-{locale}")
        axe_check(page)
        touch_targets_ok(page)
        page.get_by_role("button", name=words["send"]).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(words["thanks"],
                                                                  timeout=WAIT_MS)
        screenshot(page, f"report-sent-{locale}")
        axe_check(page)
        touch_targets_ok(page)
    with db.session() as session:
        station_ids = [session.get(Connector, pk).station_id for pk in site.connector_ids]
        reports = open_problems(session, station_ids)
    assert [(r.plug_number, r.message) for r in reports if r.message == message] == [
        (2, message)]


@pytest.mark.parametrize("locale", LOCALES)
def test_the_map_shows_free_counts_the_popup_and_the_drivers_position(
        browser: Browser, server, db, site, locale):
    # Somewhere in the Atlantic no other test puts a site.
    lat, lon = 40 + random.uniform(-2, 2), -40 + random.uniform(-2, 2)
    _update(db, Site, site.id, latitude=lat, longitude=lon)
    with db.session() as session:
        session.get(Connector, site.connector_ids[0]).status = ConnectorStatus.CHARGING
    try:
        _map_pins_and_popup(browser, server, site, locale, lat, lon)
    finally:
        # Off the map again, so that the next run's pin is not drawn over by this one.
        _update(db, Site, site.id, latitude=None, longitude=None)


def _map_pins_and_popup(browser: Browser, server, site, locale: str, lat: float,
                        lon: float) -> None:
    words = WORDS[locale]
    with another_page(browser, locale=locale, permissions=["geolocation"],
                      geolocation={"latitude": lat + 0.02, "longitude": lon + 0.02}) as page:
        no_map_tiles(page)
        page.goto(server.base_url + "/")
        page.get_by_role("button", name=words["near"]).click()
        spot = page.locator(".vs-spot").first
        expect(spot).to_contain_text(site.name, timeout=WAIT_MS)
        expect(spot).to_contain_text(words["free"])
        page.get_by_role("tab", name=words["map"]).click()
        pin = page.locator(f'.leaflet-marker-icon[title^="{site.name}"]')
        expect(pin).to_have_text("1")
        expect(pin.locator(".vs-pin")).to_have_class(re.compile(r"\bvs-pin-free\b"))
        expect(page.locator(f'.leaflet-marker-icon[title="{words["you"]}"]')).to_have_count(1)
        # By keyboard, as a screen-reader user opens it (other sites' pins may overlap it
        # when the map is zoomed out to show them all).
        pin.focus()
        page.keyboard.press("Enter")
        popup = page.locator(".leaflet-popup-content")
        expect(popup).to_contain_text(site.name)
        expect(popup).to_contain_text(words["free"])
        expect(popup).to_contain_text("0,39\xa0€/kWh" if locale == "de-DE" else "€0.39/kWh")
        expect(popup).to_contain_text("22 kW")
        navigate = popup.get_by_role("link", name=words["navigate"])
        expect(navigate).to_have_attribute("href", re.compile(
            re.escape(f"destination={lat},{lon}") + "$"))
        screenshot(page, f"map-pins-{locale}")
        axe_check(page)
        touch_targets_ok(page)
