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
from tests.support.owner import sign_in
from voltspot.domain.statuses import ConnectorStatus, PaymentState, SessionStatus
from voltspot.models import IdToken, Site, StationEventKind
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
    from tests.support.owner import csrf_of

    client = sign_in(app.test_client(), owner)
    client.set_cookie(COOKIE, "es")
    station = next(p for p in owner_pages if p.startswith("/owner/stations/CP-"))
    response = client.post(station + "/actions/unlock",
                           data={"csrf_token": csrf_of(client), "connector": "7"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Elige uno de los conectores de esta estación: 1, 2." in html
    assert _english_left(html, _english_sentinels("es")) == []
