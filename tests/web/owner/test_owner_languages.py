"""The owner's page in English, German, French, Dutch and Spanish, as the driver app is:
every word of the owner templates is marked for translation, every owner page renders in
every language with no English left and the locale's numbers, the browser's language and
the driver's language switch (the same cookie) choose the language."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.factories import add_event, add_session, make_card, make_site, make_tariff, price_plugs
from tests.support.owner import csrf_of, sign_in
from tests.support.translation_check import english_words
from voltspot.domain.statuses import ConnectorStatus, PaymentState, SessionStatus
from voltspot.models import (
    ChargingSession,
    IdToken,
    OcpiPartner,
    OcpiSession,
    PlugLoad,
    Site,
    SiteLoadSettings,
    Station,
    StationEventKind,
    StationLoadSettings,
)
from voltspot.services.messages import N_, stored
from voltspot.services.owner.problems import report_problem
from voltspot.web.i18n import COOKIE, LANGUAGES, read_catalog

ROOT = Path(__file__).resolve().parents[3]
OWNER_TEMPLATES = ROOT / "pwa" / "templates" / "owner"
TRANSLATED = [code for code in LANGUAGES if code != "en"]

# --- every word in the owner templates is marked -----------------------------------------

# Template pieces that are not words: Jinja comments, statements and expressions, scripts,
# styles, HTML comments and tags; what is left between them is text a person reads.
_TOKEN = re.compile(r"(\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}|<script\b.*?</script>|<style\b.*?</style>"
                    r"|<!--.*?-->|<(?:[^<>{]|\{\{.*?\}\}|\{%.*?%\}|\{)*>)", re.S)
_READ_ATTRIBUTES = re.compile(
    r'\b(aria-label|placeholder|title|alt|hx-confirm|data-label|data-updated-prefix)'
    r'="([^"]*)"')
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
# Words that are the same in every language: names, units and protocols.
_SAME_EVERYWHERE = {"Voltspot", "OCPP", "kW", "kWh", "EVSE", "RFID", "CSV", "QR", "SVG",
                    "UTC", "JSON", "Authorization", "Bearer"}


# Markup a macro writes around its tags: attributes and class names, not words.
_MARKUP = re.compile(r'[\w-]+="[^"]*"?|\b[a-z]+(?:-[a-z]+)+\b')


def _unmarked_words(template: str) -> list[str]:
    """The text and readable attributes of ``template`` that are not inside ``_()``."""
    found = []
    for index, piece in enumerate(_TOKEN.split(template)):
        piece = _MARKUP.sub(" ", piece) if index % 2 == 0 else piece
        if index % 2:
            if piece.startswith("<") and not piece.startswith(("<script", "<style", "<!--")):
                found += [value for _, value in _READ_ATTRIBUTES.findall(_JINJA.sub("", piece))
                          if set(re.findall(r"[A-Za-z]{2,}", value)) - _SAME_EVERYWHERE]
            continue
        if set(re.findall(r"[A-Za-z]{2,}", piece)) - _SAME_EVERYWHERE:
            found.append(" ".join(piece.split()))
    return found


def test_the_check_finds_english_left_in_a_template():
    assert _unmarked_words('<p class="small">Plug {{ n }} is free</p>') == ["Plug", "is free"]
    assert _unmarked_words('<input placeholder="Search">') == ["Search"]
    assert _unmarked_words('<input placeholder="Like {{ example }}">') == ["Like "]
    assert _unmarked_words('<p>{{ _("Plug %(n)s", n=n) }} · 22 kW</p>') == []
    assert _unmarked_words('{% if wrong %} is-invalid{% endif %} aria-invalid="true"') == []


@pytest.mark.parametrize("template", sorted(p.name for p in OWNER_TEMPLATES.glob("*.html")
                                            if not p.name.endswith(".svg.html")))
def test_every_word_of_the_owner_templates_is_marked_for_translation(template):
    assert _unmarked_words((OWNER_TEMPLATES / template).read_text()) == []


# --- every owner page in every language ------------------------------------------------------

class _VisibleText(HTMLParser):
    """The words a person sees or hears: text outside scripts, styles and code (charger
    messages and settings are the protocol's own), and the labels, titles and placeholders
    of elements."""

    SKIPPED = ("script", "style", "code", "pre")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "placeholder", "alt", "hx-confirm",
                        "data-label") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in self.SKIPPED:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _visible(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _english_sentinels(language: str) -> list[re.Pattern]:
    """The English of each message (driver's and owner's), as the words between its
    placeholders and tags, where the translation does not use the same words. A lone word
    cut out of a longer message ("Circuit" of "Circuit %(name)s is added") is left out: the
    same word may rightly be another message's translation ("Circuit" in French)."""
    catalog = read_catalog(language)
    sentinels = []
    for message in catalog:
        if not message.id:
            continue
        pieces = re.split(r"%\(\w+\)\w|%%|<[^>]+>", message.id)
        for piece in pieces:
            piece = piece.strip(" .,:;()×·?…")
            if len(piece) < 4 or piece in message.string:
                continue
            if " " not in piece and len([p for p in pieces if p.strip()]) > 1:
                continue
            sentinels.append(re.compile(rf"(?<![\w-]){re.escape(piece)}(?![\w-])"))
    return sentinels


def _english_left(html: str, sentinels: list[re.Pattern]) -> list[str]:
    text = _visible(html)
    return sorted({s.pattern for s in sentinels if s.search(text)})


@pytest.fixture
def owner_pages(db, owner):
    """Every page of an owner's network with something on it: a site with a priced station
    (one plug charging on an app tag, one reporting a fault), a card, a finished, a running
    and a failed session, an outage and a driver's problem report; yields the paths."""
    tag = uuid.uuid4().hex[:6]
    site = make_site(db, owner.id, stations=2, plugs=2)
    charge_point_id = site.charge_point_ids[0]
    tariff_id = make_tariff(db, owner.id, name=f"Tarief {tag}", time_price_per_minute=5,
                            idle_fee_per_minute=10, idle_grace_minutes=30)
    price_plugs(db, charge_point_id, tariff_id)
    card = make_card(db, owner_id=owner.id, holder_name="Jan de Vries", note="Bus 12")
    now = datetime.now(UTC).replace(microsecond=0)
    with db.session() as session:
        stored = session.get(Site, site.id)
        stored.name, stored.city, stored.address = f"Zuidas {tag}", "Amsterdam", "Gustav 1"
        station = next(s for s in stored.stations if s.charge_point_id == charge_point_id)
        station_id = station.id
        faulty = max(station.connectors, key=lambda c: c.connector_id)
        faulty.status, faulty.error_code = ConnectorStatus.FAULTED, "GroundFailure"
        done = add_session(session, station_id, now - timedelta(hours=3), minutes=75,
                           energy_wh=12345, cost=520, currency="EUR", id_tag=card,
                           payment_state=PaymentState.CAPTURED)
        done.connector_pk = site.connector_ids[0]
        running = add_session(session, station_id, now - timedelta(minutes=20), minutes=None,
                              id_tag="VS" + uuid.uuid4().hex[:18].upper(),
                              status=SessionStatus.CHARGING, energy_wh=4200)
        running.connector_pk, running.power_w = site.connector_ids[0], 7200
        failed = add_session(session, station_id, None, status=SessionStatus.FAILED,
                             stop_reason=None, created_at=now - timedelta(minutes=5))
        failed.failure_reason, failed.origin = "The charger did not respond", "driver"
        add_event(session, station_id, now - timedelta(days=2), StationEventKind.CONNECTED)
        add_event(session, station_id, now - timedelta(days=1, hours=6),
                  StationEventKind.STATUS, 2, ConnectorStatus.FAULTED)
        add_event(session, station_id, now - timedelta(days=1), StationEventKind.STATUS, 2,
                  ConnectorStatus.AVAILABLE)
        session.flush()
        ids = done.id, running.id, failed.id
        card_id = session.scalar(select(IdToken.id).where(IdToken.id_tag == card))
    report_problem(db, site.evse_ids[0], "The cable is damaged")
    plug = site.connector_ids[0]
    yield [
        "/owner/", "/owner/sessions", f"/owner/sessions?card={card}",
        *[f"/owner/sessions/{session_id}" for session_id in ids],
        f"/owner/sites/{site.id}", f"/owner/sites/{site.id}/edit", f"/owner/sites/{site.id}/load",
        "/owner/sites/new", f"/owner/stations/{charge_point_id}", "/owner/stations/new",
        f"/owner/connectors/{plug}/edit", f"/owner/connectors/{site.connector_ids[1]}/start",
        "/owner/cards", "/owner/cards?state=blocked", f"/owner/cards/{card_id}",
        "/owner/cards/new", "/owner/reports", "/owner/reports?by=week",
        "/owner/reports/utilisation", "/owner/reports/uptime", "/owner/reports/reliability",
        "/owner/tariffs", f"/owner/tariffs/{tariff_id}", f"/owner/tariffs/{tariff_id}/assign",
        "/owner/tariffs/new", "/owner/stickers", f"/owner/stickers?site={site.id}",
        "/owner/roaming", "/owner/search", "/owner/search?q=CP-",
        "/owner/search?q=nothing-like-this", "/owner/sessions/999999999",
    ]


def _get(client, path: str, language: str):
    return client.get(path, headers={"Accept-Language": f"{language}-XX,{language};q=0.9"})


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_owner_page_renders_in_the_language_with_no_english_left(
        app, owner, owner_pages, language):
    client = sign_in(app.test_client(), owner)
    sentinels = _english_sentinels(language)
    for path in owner_pages:
        response = _get(client, path, language)
        assert response.status_code == (404 if path.endswith("999999999") else 200), path
        html = response.get_data(as_text=True)
        assert f'<html lang="{language}">' in html, path
        assert _english_left(html, sentinels) == [], (path, _english_left(html, sentinels))


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_sign_in_page_is_in_the_language_too(app, language):
    response = _get(app.test_client(), "/owner/login", language)
    html = response.get_data(as_text=True)
    assert f'<html lang="{language}">' in html
    assert _english_left(html, _english_sentinels(language)) == []


def test_german_owner_pages_write_numbers_money_and_dates_the_german_way(
        app, owner, owner_pages):
    client = sign_in(app.test_client(), owner)
    finished = next(p for p in owner_pages if p.startswith("/owner/sessions/"))
    page = _visible(_get(client, finished, "de").get_data(as_text=True))
    assert "12,345 kWh" in page and "Abgeschlossen" in page
    table = _visible(_get(client, "/owner/sessions", "de").get_data(as_text=True))
    assert "12,35 kWh" in table and "5,20 €" in table
    assert re.search(r"\d{1,2}\. \w+\.? \d{4}, \d{2}:\d{2}", table), table
    english = _visible(_get(client, finished, "en").get_data(as_text=True))
    assert "12.345 kWh" in english and "Done" in english


def test_the_owner_page_follows_the_drivers_language_switch(app, owner, owner_pages):
    client = sign_in(app.test_client(), owner)
    board = _get(client, "/owner/", "fr").get_data(as_text=True)
    assert '<html lang="fr">' in board and 'aria-label="Langue"' in board
    assert 'href="/language/nl?next=/owner/"' in board
    switched = client.get("/language/nl?next=/owner/")
    assert switched.status_code == 303 and switched.headers["Location"].endswith("/owner/")
    assert f"{COOKIE}=nl" in switched.headers["Set-Cookie"]
    board = _get(client, "/owner/", "fr").get_data(as_text=True)
    assert '<html lang="nl">' in board and "Live-overzicht" in board


def test_what_an_owner_is_told_after_an_action_is_in_their_language(app, owner, owner_pages):
    client = sign_in(app.test_client(), owner)
    client.set_cookie(COOKIE, "es")
    station = next(p for p in owner_pages if p.startswith("/owner/stations/CP-"))
    response = client.post(station + "/actions/unlock",
                           data={"csrf_token": csrf_of(client), "connector": "7"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Elige uno de los conectores de esta estación: 1, 2." in html
    assert _english_left(html, _english_sentinels("es")) == []


# --- what only some states and wrong forms show, in every language --------------------------

# Words people typed, which no catalog translates: a driver's problem report on the board
# and an owner's search shown back to them.
_TYPED_WORDS = ("The cable is damaged", "nothing-like-this")


@pytest.fixture
def owner_states(db, owner, owner_pages):
    """The owner_pages' network in the states the plain pages do not show: a connection
    limit with a margin, a car whose higher current waits for the hold, stations that said
    which limits they take, a roaming partner whose last answer was a problem and a roaming
    session. Returns the site, its first station, the finished session's id and its
    payment reference."""
    now = datetime.now(UTC).replace(microsecond=0)
    with db.session() as session:
        site = session.scalar(select(Site).where(Site.owner_id == owner.id))
        in_use = select(ChargingSession).join(Station).where(Station.site_id == site.id)
        running = session.scalar(in_use.where(ChargingSession.status == SessionStatus.CHARGING))
        done = session.scalar(in_use.where(ChargingSession.status == SessionStatus.COMPLETED))
        stations = sorted(site.stations, key=lambda s: s.id != running.station_id)
        # Two sessions under one payment, so that searching for it lists them.
        done.payment_reference = running.payment_reference = f"pi_{uuid.uuid4().hex[:12]}"
        session.add(SiteLoadSettings(site_id=site.id, limit_amps=63, phases=3, margin_amps=2,
                                     min_amps=6, hold_seconds=30, enabled=True,
                                     computed_at=now))
        session.add(PlugLoad(connector_pk=running.connector_pk, site_id=site.id,
                             session_id=running.id, amps=10.0, target_amps=16.0,
                             drawn_amps=9.5, since=now))
        # The second station's error as the load job keeps it (with its values).
        ignores = stored(N_(
            "station %(station)s accepted %(amps)s A on plug %(plug)s but its schedule "
            "allows %(allows)s A: it ignores limits", station=stations[1].charge_point_id,
            amps=16.0, plug=1, allows=31.8), 300)
        for station, unit, error in zip(stations, ("W", "A"), (None, ignores), strict=True):
            session.add(StationLoadSettings(station_id=station.id, charging_rate_unit=unit,
                                            max_stack_level=3, settings_read_at=now,
                                            last_error=error))
        partner = OcpiPartner(name=f"Laadnet {uuid.uuid4().hex[:4]}", owner_id=owner.id,
                              roles=[], endpoints={}, last_error="HTTP 503")
        session.add(partner)
        session.flush()
        session.add(OcpiSession(session_id=done.id, partner_id=partner.id,
                                ocpi_id=str(done.id), cdr_token={}, auth_method="COMMAND",
                                location_id=str(site.id), evse_uid="1", connector_id="1"))
        found = site.id, stations[0].charge_point_id, done.id, done.payment_reference
    return found


def _wrong_forms(client, site_id: int, charge_point_id: str, plug: int) -> list:
    """Each owner form sent with wrong values, and the pages a wrong address shows: the
    answers, each with a message per wrong field."""
    token = csrf_of(client)
    site = {"csrf_token": token, "name": "H" * 201, "address": "Damrak 1",
            "city": "Amsterdam", "postal_code": "1012 LG", "country": "NL",
            "latitude": "noord", "longitude": "200", "opening_hours": "",
            "help_phone": "+31 20 123 4567", "currency": "EUR",
            "timezone": "Europe/Amsterdam", "legal_name": "B" * 201}
    tariff = {"csrf_token": token, "name": "T" * 130, "currency": "EUR",
              "energy_price": "abc", "time_price": "-0.05", "time_basis": "charging",
              "session_fee": "0.355", "idle_fee": "2000000", "idle_grace": "2.5",
              "idle_cap": "x", "vat_rate": "120", "hold_amount": "5.5.5"}
    load = f"/owner/sites/{site_id}/load"
    return [
        client.post("/owner/sites/new", data=site),
        client.post("/owner/tariffs/new", data=tariff),
        client.post("/owner/tariffs/new", data={**tariff, "idle_grace": "2000",
                                                "session_fee": "0.3555", "name": "Nacht",
                                                "hold_amount": "-5"}),
        client.post(load, data={"csrf_token": token, "unit": "kW", "kw": "viel",
                                "phases": "3"}),
        client.post(load, data={"csrf_token": token, "unit": "A", "amps": "1",
                                "phases": "3"}),
        client.post(f"{load}/stations/{charge_point_id}", data={
            "csrf_token": token, "max_amps": "viel"}),
        client.post(f"{load}/circuits", data={"csrf_token": token, "name": "", "amps": "32"}),
        client.post(f"{load}/meter", data={"csrf_token": token, "fallback_amps": "viel"}),
        client.post("/owner/cards", data={"csrf_token": token, "id_tag": "A" * 21}),
        client.post("/owner/cards", data={"csrf_token": token, "id_tag": "BADGE7",
                                          "expires_on": "2150-01-01"}),
        client.post(f"/owner/connectors/{plug}/edit", data={
            "csrf_token": token, "connector_type": "Schuko2", "max_power_kw": "viel"}),
        client.post("/owner/stations/new", data={
            "csrf_token": token, "site_id": str(site_id), "charge_point_id": "CP-NEU",
            "connectors": "99", "max_power_kw": "22"}),
        client.get("/owner/reports?period=custom&from=2026-12-07&to=2026-12-01"),
        client.get("/owner/reports?period=custom&from=2025-01-01&to=2026-12-01"),
        client.get("/owner/sessions?from=gestern&to=morgen&site=hier&partner=x&payment=y"),
    ]


def _state_pages(client, site_id: int, charge_point_id: str, session_id: int, payment: str
                 ) -> list:
    return [client.get(path) for path in (
        "/owner/", f"/owner/sites/{site_id}/load", "/owner/roaming",
        f"/owner/sessions/{session_id}", f"/owner/search?q={payment}",
        f"/owner/stickers.svg?site={site_id}", "/owner/tariffs/new",
        "/owner/reports/utilisation")]


@pytest.mark.parametrize("language", TRANSLATED)
def test_wrong_forms_and_busy_states_leave_no_english_in_the_language(
        app, owner, owner_pages, owner_states, language):
    client = sign_in(app.test_client(), owner)
    client.set_cookie(COOKIE, language)
    site_id, charge_point_id, session_id, payment = owner_states
    plug = int(next(p for p in owner_pages if p.endswith("/edit") and "connectors" in p)
               .split("/")[3])
    sentinels = _english_sentinels(language)
    for response in (_state_pages(client, site_id, charge_point_id, session_id, payment)
                     + _wrong_forms(client, site_id, charge_point_id, plug)):
        html = response.get_data(as_text=True)
        where = (response.request.path, response.status_code)
        assert response.status_code in (200, 404, 422), where
        assert _english_left(html, sentinels) == [], (where, _english_left(html, sentinels))


def test_german_owner_pages_show_no_english_words(app, owner, owner_pages, owner_states):
    """Words nobody marked for translation are in no catalog, so the comparison with the
    catalog cannot see them: a German page must not show English-only words at all."""
    client = sign_in(app.test_client(), owner)
    client.set_cookie(COOKIE, "de")
    site_id, charge_point_id, session_id, payment = owner_states
    plug = int(next(p for p in owner_pages if p.endswith("/edit") and "connectors" in p)
               .split("/")[3])
    answers = ([client.get(path) for path in owner_pages]
               + _state_pages(client, site_id, charge_point_id, session_id, payment)
               + _wrong_forms(client, site_id, charge_point_id, plug))
    for response in answers:
        text = _visible(response.get_data(as_text=True))
        for typed in _TYPED_WORDS:
            text = text.replace(typed, "")
        assert english_words(text) == [], (response.request.full_path, english_words(text))


def test_german_messages_carry_the_wrong_values_and_the_limits_in_german(
        app, owner, owner_pages, owner_states):
    client = sign_in(app.test_client(), owner)
    client.set_cookie(COOKIE, "de")
    site_id, charge_point_id, session_id, payment = owner_states
    plug = int(next(p for p in owner_pages if p.endswith("/edit") and "connectors" in p)
               .split("/")[3])
    text = " ".join(_visible(r.get_data(as_text=True))
                    for r in _wrong_forms(client, site_id, charge_point_id, plug))
    assert "Schreiben Sie den Preis pro kWh als Zahl, etwa 0,39." in text
    assert "Schreiben Sie den Breitengrad als Gradzahl, etwa 45,37." in text
    assert "Der Längengrad muss zwischen -180 und 180 Grad liegen." in text
    assert "Der Name darf höchstens 200 Zeichen lang sein." in text
    assert "die Grenze in kW muss eine Zahl sein" in text
    load = _visible(client.get(f"/owner/sites/{site_id}/load").get_data(as_text=True))
    assert "63 A × 3 Phasen (43,5 kW), 2 A Reserve" in load
    assert "Wird gleich erhöht (eine Grenze gilt mindestens 30 s)" in load
    assert "Nimmt Grenzen in Watt an; Stack-Level bis 3" in load
    assert "hat 16 A an Ladepunkt 1 angenommen, ihr Ladeplan erlaubt aber 31,8 A" in load
    # The plugs' "Share" is a portion (Anteil), not the driver's button (Teilen).
    assert "Anteil" in load and "Teilen" not in load
    roaming = _visible(client.get("/owner/roaming").get_data(as_text=True))
    assert "Ihre letzte Antwort war ein Fehler: HTTP 503." in roaming


def test_german_dates_on_the_board_and_in_search_are_the_german_way(
        app, owner, owner_pages, owner_states):
    client = sign_in(app.test_client(), owner)
    client.set_cookie(COOKIE, "de")
    _, _, session_id, payment = owner_states
    board = _visible(client.get("/owner/").get_data(as_text=True))
    assert re.search(r"Ladepunkt 1 \(\d{1,2}\. \w+\.?, \d{2}:\d{2}\)", board), board
    found = _visible(client.get(f"/owner/search?q={payment}").get_data(as_text=True))
    assert f"Ladevorgang {session_id}" in found
    assert re.search(r", \d{1,2}\. \w+\.? \d{4}", found), found


def test_the_tariff_editor_calls_charging_an_activity_not_a_state(app, owner, owner_pages):
    client = sign_in(app.test_client(), owner)
    client.set_cookie(COOKIE, "de")
    editor = _visible(client.get("/owner/tariffs/new").get_data(as_text=True))
    assert "Laden" in editor and "Lädt" not in editor
    client.set_cookie(COOKIE, "en")
    assert "Charging" in _visible(client.get("/owner/tariffs/new").get_data(as_text=True))


def test_the_svg_sticker_sheet_is_worded_in_the_owners_language(app, owner, owner_states):
    client = sign_in(app.test_client(), owner)
    client.set_cookie(COOKIE, "de")
    site_id, _, _, _ = owner_states
    sheet = _visible(client.get(f"/owner/stickers.svg?site={site_id}").get_data(as_text=True))
    assert "QR-Aufkleber" in sheet and "Scannen zum Laden" in sheet
    assert "Bogen 1 von 1" in sheet and "Hilfe: +31 20 123 4567" in sheet
    assert "0,39 €/kWh" in sheet


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_owner_word_with_a_context_has_its_translation(language):
    """A word that means two things ("Charging": a state on the driver's pages, the activity
    in the tariff editor) is marked with pgettext and translated for its context."""
    catalog = read_catalog(language)
    marked = {found for template in OWNER_TEMPLATES.glob("*.html")
              for found in re.findall(r'pgettext\("([^"]+)", "([^"]+)"\)', template.read_text())}
    assert marked
    untranslated = [(context, text) for context, text in sorted(marked)
                    if not getattr(catalog.get(text, context=context), "string", "")]
    assert untranslated == []
