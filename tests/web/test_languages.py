"""The driver app in English, German, French, Dutch and Spanish: every message has a
translation, every driver page renders in every language with no English left, the browser's
Accept-Language picks the language and the switch is remembered."""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.checkers import python_format
from babel.messages.extract import extract_from_dir
from ocpp.v16 import call
from sqlalchemy import select

from tests.support.library_charger import LibraryCharger
from tests.support.translation_check import owner_messages
from voltspot.domain.pricing import TariffTerms
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import ChargingSession, Station, Tariff, utcnow
from voltspot.web.i18n import COOKIE, LANGUAGES, TRANSLATIONS, read_catalog

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [code for code in LANGUAGES if code != "en"]


def _catalog(language: str):
    return read_catalog(language)


def _source_messages() -> set[str]:
    """Every message the sources mark for translation, read the way pybabel does."""
    method_map = []
    options_map = {}
    section = None
    for line in (TRANSLATIONS / "babel.cfg").read_text().splitlines():
        if match := re.fullmatch(r"\[(\w+): (.+)\]", line.strip()):
            section = match[2]
            method_map.append((section, match[1]))
            options_map[section] = {}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None,
                "N_": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_driver_message_has_a_finished_translation(language):
    catalog = _catalog(language)
    messages = _source_messages()
    assert len(messages) > 100
    missing = [m for m in sorted(messages)
               if m not in catalog or not catalog[m].string or catalog[m].fuzzy]
    assert missing == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_translation_keeps_the_placeholders_of_its_message(language):
    catalog = _catalog(language)
    for message in catalog:
        if message.id:
            python_format(catalog, message)  # raises TranslationError on a mismatch


class _VisibleText(HTMLParser):
    """The words a person sees or hears: text outside scripts, and the labels, titles and
    placeholders of elements."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "title", "placeholder", "alt", "hx-confirm") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def _visible(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _english_sentinels(language: str) -> list[re.Pattern]:
    """The English of each driver message, as the words between its placeholders, where
    the translation does not use the same words."""
    catalog = _catalog(language)
    owner_only = owner_messages(language)
    sentinels = []
    for message in catalog:
        if not message.id or message.id in owner_only:
            continue
        for piece in re.split(r"%\(\w+\)\w|%%", message.id):
            piece = piece.strip(" .,:;()×·?…")
            if len(piece) < 4 or piece in message.string:
                continue
            sentinels.append(re.compile(rf"(?<![\w-]){re.escape(piece)}(?![\w-])"))
    return sentinels


def _get(server, path: str, language: str | None = None, cookie: str | None = None,
         form: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
    """GET ``path`` (POST ``form`` when given) without following redirects."""
    headers = {}
    if language:
        headers["Accept-Language"] = language
    if cookie:
        headers["Cookie"] = cookie
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(server.base_url + path, headers=headers, data=data)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode(), dict(error.headers)


@pytest.fixture
def driver_pages(db, server, station):
    """Every driver page, with a connected charger, two priced plugs (the first in use, so
    its page links the second) and a session in each state the session page shows; yields
    the paths."""
    with db.session() as session:
        tariff = Tariff(name=f"T-{station.charge_point_id}", currency="EUR",
                        energy_price_per_kwh=3900, time_price_per_minute=5, session_fee=35,
                        idle_fee_per_minute=1000, idle_grace_minutes=30, idle_fee_cap=1500,
                        hold_amount=5000, vat_rate_basis_points=2100)
        session.add(tariff)
        session.flush()
        stored = session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id))
        for connector in stored.connectors:
            connector.tariff_id = tariff.id
        site_id = stored.site_id
        first = min(stored.connectors, key=lambda c: c.connector_id)
        connector_pk, connector_id, station_pk = first.id, first.connector_id, stored.id
        evse = first.evse_id.replace("*", "-")
        terms = TariffTerms(currency="EUR", vat_rate_basis_points=2100,
                            energy_price_per_kwh=3900, time_price_per_minute=5,
                            session_fee=35, hold_amount=5000).to_dict()
        now = utcnow()
        tokens = {}
        for name, status, payment in (
                ("starting", SessionStatus.STARTING, PaymentState.HELD),
                ("charging", SessionStatus.CHARGING, PaymentState.HELD),
                ("completed", SessionStatus.COMPLETED, PaymentState.CAPTURED),
                ("failed", SessionStatus.FAILED, PaymentState.RELEASED)):
            token = f"lang-{name}-{uuid.uuid4().hex[:16]}"
            tokens[name] = token
            session.add(ChargingSession(
                token=token, station_id=station_pk, connector_pk=connector_pk,
                connector_id=connector_id, status=status, origin="driver", price=terms,
                currency="EUR", hold_amount=5000, payment_state=payment,
                requested_at=now - timedelta(seconds=20),
                started_at=None if name in ("starting", "failed") else now - timedelta(minutes=75),
                stopped_at=now if name == "completed" else None,
                energy_wh=12345, power_w=7200 if name == "charging" else None,
                soc_percent=55 if name == "charging" else None,
                amount_captured=520 if name == "completed" else None,
                claimed_connector_pk=connector_pk if name == "charging" else None,
                failure_reason="The charger did not respond" if name == "failed" else None))
    with LibraryCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        for number in (1, 2):
            charger.send(call.StatusNotification(connector_id=number, error_code="NoError",
                                                 status="Available"))
        yield [
            "/", f"/sites/{site_id}", f"/c/{evse}", "/scan", "/scan?code=hello",
            "/my-sessions", "/offline",
            f"/sessions/{tokens['starting']}", f"/sessions/{tokens['charging']}",
            f"/sessions/{tokens['completed']}", f"/sessions/{tokens['failed']}",
            f"/sessions/{tokens['completed']}/receipt", f"/c/{evse}/problem",
        ]


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_driver_page_renders_in_the_language_with_no_english_left(
        server, driver_pages, language):
    sentinels = _english_sentinels(language)
    for path in driver_pages:
        status, html, _ = _get(server, path, language=f"{language}-XX,{language};q=0.9,en;q=0.5")
        assert status == 200, path
        assert f'<html lang="{language}">' in html, path
        text = _visible(html)
        left = sorted({s.pattern for s in sentinels if s.search(text)})
        assert left == [], (path, text)


@pytest.mark.parametrize("language", TRANSLATED)
def test_what_the_services_say_is_in_the_language_too(server, driver_pages, language):
    sentinels = _english_sentinels(language)
    answers = {
        "refused start": _get(server, driver_pages[2] + "/start", language=language,
                              form={"start_key": uuid.uuid4().hex}),
        "unknown charger": _get(server, "/c/NL-VSP-E999999-1", language=language),
        "not a code": _get(server, "/c/hello", language=language),
        "unknown site": _get(server, "/sites/999999", language=language),
        "unknown session": _get(server, "/sessions/no-such-token", language=language),
    }
    assert [status for status, _, _ in answers.values()] == [409, 404, 404, 404, 404]
    for name, (_, html, _) in answers.items():
        text = _visible(html)
        assert sorted({s.pattern for s in sentinels if s.search(text)}) == [], (name, text)


def test_english_pages_say_the_english_words(server, driver_pages):
    status, html, _ = _get(server, driver_pages[2], language="en-GB,en;q=0.8")
    assert status == 200 and '<html lang="en">' in html
    assert "€0.39/kWh" in html and "Start charging" in html


def test_german_money_and_numbers_are_written_the_german_way(server, driver_pages):
    _, plug, _ = _get(server, driver_pages[2], language="de-DE,de;q=0.9")
    assert "0,39\xa0€/kWh" in plug and "0,35\xa0€ pro Ladevorgang" in plug
    assert "inkl. 21 % MwSt." in plug
    assert "Wir reservieren 50,00\xa0€ auf Ihrer Karte" in plug
    _, live, _ = _get(server, driver_pages[8], language="de")
    assert "12,34 kWh" in _visible(live) and "7,2 kW" in live
    _, receipt, _ = _get(server, driver_pages[11], language="de")
    assert "12,345 kWh" in receipt and "Beleg" in receipt


def test_a_language_the_app_lacks_falls_back_to_english(server, driver_pages):
    _, html, _ = _get(server, "/scan", language="pl-PL,pl;q=0.9")
    assert '<html lang="en">' in html and "Scan the QR code" in html


def _not_followed(server, path: str, language: str | None = None) -> tuple[int, dict]:
    """A request whose redirect is not followed: (status, headers)."""
    request = urllib.request.Request(server.base_url + path,
                                     headers={"Accept-Language": language} if language else {})
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=20) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers)


def test_the_language_switch_is_remembered_over_the_browser_language(server, driver_pages):
    status, headers = _not_followed(server, "/language/nl?next=/scan", language="fr")
    assert status == 303 and headers["Location"].endswith("/scan")
    cookie = headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=nl;") and "Max-Age=31536000" in cookie
    _, html, headers = _get(server, "/scan", language="fr", cookie=f"{COOKIE}=nl")
    assert '<html lang="nl">' in html and "Scan de QR-code" in html
    assert "Accept-Language" in headers["Vary"] and "Cookie" in headers["Vary"]


def test_the_language_switch_does_not_send_drivers_to_another_site(server):
    status, headers = _not_followed(server, "/language/de?next=//evil.example/")
    assert status == 303 and headers["Location"] == "/"


def test_the_owner_pages_follow_the_browser_language_and_offer_the_switch(server):
    _, html, _ = _get(server, "/owner/login", language="de")
    assert '<html lang="de">' in html and 'aria-label="Sprache"' in html
    assert "Melden Sie sich bei Ihren Ladestandorten an" in html


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_catalogs_are_read_from_the_po_files_without_a_build_step():
    from voltspot.web.i18n import load_catalogs

    catalogs = load_catalogs()
    assert sorted(catalogs) == sorted(TRANSLATED)
    assert catalogs["es"].gettext("Start charging") == "Empezar a cargar"
    assert not list(TRANSLATIONS.glob("*/LC_MESSAGES/*.mo"))


@pytest.mark.parametrize(("language", "expected"), [
    ("de", "Ladepunkt 1 · "), ("fr", "Prise 1 · "), ("nl", "Laadpunt 1 · "),
    ("es", "Conector 1 · ")])
def test_the_plug_is_named_in_the_language(server, driver_pages, language, expected):
    _, html, _ = _get(server, driver_pages[1], language=language)
    assert expected in html and not re.search(r"Plug \d", _visible(html))


def test_what_a_service_says_is_put_into_the_drivers_language(database_url):
    from voltspot.app import create_app
    from voltspot.runtime import runtime
    from voltspot.services.errors import Conflict
    from voltspot.services.messages import N_
    from voltspot.web.i18n import translate

    app = create_app({"database_url": database_url})
    refusal = Conflict(N_("Open %(hours)s", hours=N_("%(free)d of %(total)d free", free=2,
                                                      total=4)))
    assert str(refusal) == "Open 2 of 4 free"
    sharing = N_("Charging at up to %(kw)s kW.", kw=5.5)
    assert sharing == "Charging at up to 5.5 kW."
    assert N_("Charging at up to %(kw)s kW.", kw=22.0) == "Charging at up to 22 kW."
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert translate(refusal) == "Geöffnet 2 von 4 frei"
        assert translate(sharing) == "Laden mit bis zu 5,5 kW."
        assert translate("Print") == "Drucken"
        assert translate("an owner's own words") == "an owner's own words"
    runtime(app).db.dispose()


@pytest.mark.parametrize(("language", "expected"), [
    ("en", ["12.5 kWh × €0.39", "90 min connected × €0.05", "Session fee",
            "20 min idle (after 30 free) × €0.10"]),
    ("de", ["12,5 kWh × 0,39\xa0€", "90 Min. angeschlossen × 0,05\xa0€", "Startgebühr",
            "20 Min. Standzeit (nach 30 freien) × 0,10\xa0€"]),
])
def test_receipt_lines_are_worded_in_the_language_by_the_sessions_terms(database_url, language,
                                                                         expected):
    from voltspot.app import create_app
    from voltspot.domain.pricing import TimeBasis, estimate
    from voltspot.runtime import runtime
    from voltspot.web.driver_text import bill_line

    terms = TariffTerms(currency="EUR", vat_rate_basis_points=2100, energy_price_per_kwh=3900,
                        time_price_per_minute=500, time_price_basis=TimeBasis.CONNECTION,
                        session_fee=35, idle_fee_per_minute=1000, idle_grace_minutes=30)
    bill = estimate(terms, energy_wh=12500, minutes=40, idle_minutes=50)
    app = create_app({"database_url": database_url})
    with app.test_request_context(headers={"Accept-Language": language}):
        assert [bill_line(line, "EUR", terms) for line in bill.lines] == expected
    runtime(app).db.dispose()
