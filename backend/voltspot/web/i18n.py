"""The driver's language: which locale a request gets, the translated catalogs, the
language switch, and numbers, money and dates written the locale's way.

Locale
    The ``voltspot_lang`` cookie when it names a language we have (the switch sets it for a
    year), else the best match of the browser's ``Accept-Language``, else English. The
    driver's pages, the owner's and the sign-in pages all come in every language; a
    blueprint named in ``ENGLISH_ONLY_BLUEPRINTS`` would stay English.

Catalogs
    ``voltspot/translations/<lang>/LC_MESSAGES/*.po`` are the one source (``messages.po``
    and a file per feature that keeps its own, see :func:`read_catalog`); they are
    compiled in memory when the app starts, so a fresh checkout and ``pip install .`` work
    with no build step and no compiled file can go stale. Refresh after changing strings::

        pybabel extract -F backend/voltspot/translations/babel.cfg -k lazy_gettext \\
            --no-location --sort-output -o backend/voltspot/translations/messages.pot .
        pybabel update -i backend/voltspot/translations/messages.pot \\
            -d backend/voltspot/translations --no-wrap --no-fuzzy-matching

    then fill in the new ``msgstr`` of each language. ``tests/web/test_languages.py`` fails
    while any message lacks a translation or a page in another language shows English.
    The owner's page and sign-in keep theirs in ``owner.po`` (a new owner message goes
    there, not into ``messages.pot``'s ``messages.po``); ``tests/web/owner/
    test_owner_languages.py`` renders every owner page in every language.

Formatting
    English keeps ``voltspot.domain.money``'s way of writing amounts ("€0.39", "SEK 35.00"),
    which the owner's pages and the stickers share; every other language uses Babel's
    ("0,39 €", "€ 0,39", "35,00 SEK"). Dates, times and numbers are Babel's in every
    language, English as in Britain (24-hour clock, day before month).

    The Jinja filters ``money``, ``unit_price``, ``number``, ``local_time``, ``time_of_day``
    and ``duration`` format for the request's locale (outside a request: English), in the
    currency given; the site's time zone is passed by the template.

Services' words
    ``say`` (:func:`translate`) puts what a service said (``voltspot.services.messages``)
    into the request's language.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import NumberPattern, format_currency, format_decimal, parse_pattern
from babel.support import NullTranslations, Translations
from flask import Blueprint, Flask, Response, redirect, request, url_for
from flask_babel import Babel, Domain, get_locale, get_translations
from flask_babel import gettext as _

from voltspot.domain.money import format_money, minor_digits
from voltspot.domain.pricing import format_unit_price
from voltspot.services.messages import Message

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"

# The languages drivers can choose, each named in itself; the first is the default.
LANGUAGES = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "nl": "Nederlands",
    "es": "Español",
}
DEFAULT_LANGUAGE = "en"
# English is written the European way (24-hour clock, day before month), as before.
FORMAT_LOCALES = {"en": "en_GB"}
# Pages not translated yet: they stay wholly English (lang="en", English numbers). None
# today: the owner's pages and sign-in are translated too (translations/*/owner.po).
ENGLISH_ONLY_BLUEPRINTS: frozenset[str] = frozenset()
COOKIE = "voltspot_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600

bp = Blueprint("i18n", __name__)


def read_catalog(language: str, directory: Path = TRANSLATIONS) -> Catalog:
    """``language``'s messages: every ``*.po`` file of ``<language>/LC_MESSAGES``, read in
    name order into one catalog (``messages.po`` holds most; a feature may keep its own
    file, e.g. ``owner.po``, so that parallel work does not edit one file)."""
    merged: Catalog | None = None
    for po in sorted((directory / language / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as source:
            catalog = read_po(source, locale=language)
        if merged is None:
            merged = catalog
            continue
        for message in catalog:
            if message.id:
                merged[message.id] = message
    return merged if merged is not None else Catalog(locale=language)


def load_catalogs(directory: Path = TRANSLATIONS) -> dict[str, Translations]:
    """Every language with a ``<lang>/LC_MESSAGES`` folder of ``.po`` files under
    ``directory``, compiled (fuzzy entries left out, as ``pybabel compile`` does), keyed by
    language."""
    catalogs = {}
    for folder in sorted(directory.glob("*/LC_MESSAGES")):
        language = folder.parent.name
        compiled = io.BytesIO()
        write_mo(compiled, read_catalog(language, directory))
        compiled.seek(0)
        catalogs[language] = Translations(compiled)
    return catalogs


class _CatalogDomain(Domain):
    """Flask-Babel's domain with the catalogs compiled at start-up."""

    def __init__(self, catalogs: dict[str, Translations]) -> None:
        super().__init__()
        self.catalogs = catalogs

    def get_translations(self) -> Translations | NullTranslations:
        locale = get_locale()
        return self.catalogs.get(locale.language if locale else "", NullTranslations())


def page_is_translated() -> bool:
    """Whether the current page exists in every language (``ENGLISH_ONLY_BLUEPRINTS``)."""
    return request.blueprint not in ENGLISH_ONLY_BLUEPRINTS


def select_language() -> str:
    """The language of the current request (module docstring)."""
    if not page_is_translated():
        return DEFAULT_LANGUAGE
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT_LANGUAGE


def _select_locale() -> str:
    language = select_language()
    return FORMAT_LOCALES.get(language, language)


def current_locale() -> Locale:
    """The request's locale; English outside a request."""
    return get_locale() or Locale.parse(FORMAT_LOCALES[DEFAULT_LANGUAGE])


def current_language() -> str:
    """The request's language code ("de"); English outside a request."""
    return current_locale().language


def money(amount_minor: int | None, currency: str | None) -> str:
    """``amount_minor`` minor units of ``currency`` for the locale: 3500 EUR is "€35.00"
    in English, "35,00 €" in German; "—" when either is unknown. English keeps
    ``money.format_money``'s spelling ("SEK 35.00", not Babel's "SEK35.00"), which the
    owner's pages and the stickers use too."""
    if amount_minor is None or currency is None:
        return "—"
    if current_locale().language == DEFAULT_LANGUAGE:
        return format_money(amount_minor, currency)
    major = Decimal(amount_minor).scaleb(-minor_digits(currency))
    return format_currency(major, currency, locale=current_locale())


def unit_amount(price_centi_minor: int, currency: str) -> str:
    """A unit price in 1/100 of the minor unit (the tariffs' unit), with up to two extra
    decimals when needed: 3900 EUR is "€0.39", 3950 "€0.395" (English as ``money``)."""
    if current_locale().language == DEFAULT_LANGUAGE:
        return format_unit_price(price_centi_minor, currency, "").removesuffix("/")
    major = Decimal(price_centi_minor).scaleb(-2 - minor_digits(currency))
    return format_currency(major.normalize(), currency, locale=current_locale(),
                           decimal_quantization=False)


def unit_price(price_centi_minor: int, currency: str, unit: str) -> str:
    """``unit_amount`` per ``unit``: "€0.39/kWh", "0,39 €/kWh"."""
    return f"{unit_amount(price_centi_minor, currency)}/{unit}"


def number(value: float | Decimal, decimals: int = 0, most: int | None = None) -> str:
    """``value`` with at least ``decimals`` and at most ``most`` (default: the same)
    decimals, in the locale's digits and separators."""
    most = decimals if most is None else most
    return format_decimal(value, format=_number_pattern(decimals, most),
                          locale=current_locale())


@lru_cache(maxsize=32)
def _number_pattern(decimals: int, most: int) -> NumberPattern:
    # Parsed once: a list of spots formats a hundred numbers per request.
    return parse_pattern("#,##0" + ("." + "0" * decimals + "#" * (most - decimals)
                                    if most else ""))


def local_time(moment: datetime | None, timezone: str = "UTC", pattern: str | None = None
               ) -> str:
    """A UTC moment as date and time of day in ``timezone``, the locale's way ("7 Dec
    2026, 14:05", "07.12.2026, 14:05"), or by the ``strftime`` ``pattern`` when given."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(timezone))
    if pattern is not None:
        return local.strftime(pattern)
    locale = current_locale()
    return f"{format_date(local, 'medium', locale=locale)}, {time_of_day(local)}"


def time_of_day(moment: datetime | None, timezone: str | None = None) -> str:
    """The time of day of ``moment`` (in ``timezone`` when given) the locale's short way."""
    if moment is None:
        return ""
    if timezone:
        moment = moment.astimezone(ZoneInfo(timezone))
    return format_time(moment, "short", tzinfo=moment.tzinfo, locale=current_locale())


def duration(span: timedelta | None) -> str:
    """A session's length: "12 min", "1 h 05 min"; "—" when unknown."""
    if span is None:
        return "—"
    minutes = int(span.total_seconds() // 60)
    if minutes >= 60:
        return _("%(hours)d h %(minutes)02d min", hours=minutes // 60, minutes=minutes % 60)
    return _("%(minutes)d min", minutes=minutes)


def translate(message: Message | BaseException | str | None) -> str:
    """What a service said, in the request's language: a :class:`Message` (or an error
    raised with one) through the catalog, its parameters too; a plain string (a reason
    stored in English) through the catalog when it is a message there, else as it is."""
    if message is None:
        return ""
    if isinstance(message, BaseException):
        message = message.args[0] if message.args else str(message)
    catalog = get_translations()
    if not isinstance(message, Message):
        return catalog.gettext(str(message))
    text = catalog.gettext(message.text)
    if not message.params:
        return text
    return text % {name: _localised(value) for name, value in message.params.items()}


def _localised(value: object) -> object:
    """A message's parameter for the locale: messages translated, fractions in its digits."""
    if isinstance(value, Message):
        return translate(value)
    if isinstance(value, float | Decimal):
        return number(value, 0, 2)
    return value


def _local_path(target: str | None) -> str:
    """``target`` when it is a path on this site, else the home page (no open redirect)."""
    if not target:
        return url_for("driver.find_spot")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("driver.find_spot")
    return target


def page_to_return_to() -> str:
    """Where the language switch brings the driver back: this page, or for the answer to
    a form (a refused start) the page the form was on."""
    if request.method == "GET":
        return request.full_path if request.query_string else request.path
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path:
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return url_for("driver.find_spot")


@bp.get("/language/<code>")
def switch(code: str) -> Response:
    """Remember ``code`` as the driver's language and go back to ``next``."""
    response = redirect(_local_path(request.args.get("next")), 303)
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, samesite="Lax",
                            secure=request.is_secure, httponly=True)
    return response


def _vary(response: Response) -> Response:
    # The same page reads differently per language: shared caches must keep them apart.
    if response.mimetype in ("text/html", "application/manifest+json"):
        response.vary.update(("Accept-Language", "Cookie"))
    return response


@lru_cache(maxsize=1)
def _catalogs() -> dict[str, Translations]:
    return load_catalogs()


def init_i18n(app: Flask) -> None:
    """Install Flask-Babel with the compiled catalogs, the locale selector, the language
    switch, the formatting filters and the template globals ``languages``,
    ``current_language``, ``page_is_translated`` and ``page_to_return_to``."""
    babel = Babel(app, locale_selector=_select_locale)
    # Flask-Babel reads .mo files from disk; ours are compiled from the .po at start-up.
    babel.domain_instance = _CatalogDomain(_catalogs())
    app.register_blueprint(bp)
    app.after_request(_vary)
    app.jinja_env.filters.update(money=money, unit_price=unit_price, number=number,
                                 local_time=local_time, time_of_day=time_of_day,
                                 duration=duration, say=translate)
    app.jinja_env.globals.update(languages=LANGUAGES, page_is_translated=page_is_translated,
                                 page_to_return_to=page_to_return_to,
                                 current_language=current_language)
    from voltspot.web.driver_text import init_driver_text

    init_driver_text(app)
