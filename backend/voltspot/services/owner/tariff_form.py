"""The tariff editor's form: its fields as typed (:class:`TariffForm`, time windows
included), a stored tariff written back into them, and :func:`parse_tariff_form`, which
turns the amounts owners type in major units as they think of them ("0.39" € per kWh,
"21" % VAT) exactly (``Decimal``, no float) into the stored units of
:mod:`voltspot.domain.pricing`, with a message for each bad field. Pure; no database."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal

from voltspot.domain.money import (
    AmountError,
    NegativeAmount,
    decimal_text,
    minor_digits,
    parse_amount,
)
from voltspot.domain.pricing import PriceWindow, TariffTerms, TimeBasis
from voltspot.models import Tariff
from voltspot.services.charging.billing import terms_of
from voltspot.services.forms import FormData
from voltspot.services.messages import N_, Message

FROZEN_PRICE_RULE = (N_("Changes apply to new sessions only: a session already running keeps "
                     "the price it started with."))

# The currencies the editor offers: those pricing.format_money writes by name or symbol.
CURRENCIES = ("EUR", "GBP", "USD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "RON",
              "ISK")
# The sign the editor writes beside an amount; other currencies show their code.
CURRENCY_SIGNS = {"EUR": "€", "GBP": "£", "USD": "$", "PLN": "zł", "CZK": "Kč", "HUF": "Ft",
                  "RON": "lei"}
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
MAX_NAME = 120
MAX_WINDOW_LABEL = 40
MAX_UNIT_PRICE = Decimal(100_000)  # major units per kWh or minute; keeps columns in 32 bits
MAX_AMOUNT = Decimal(1_000_000)  # major units for fees, cap and hold
MAX_GRACE_MINUTES = 24 * 60

_WINDOW_KEY = re.compile(r"^window-(\d+)-")
_WINDOW_FIELDS = ("label", "start", "end", "energy_price", "time_price", "idle_fee")
_FIELDS = ("name", "currency", "energy_price", "time_price", "time_basis", "session_fee",
           "idle_fee", "idle_grace", "idle_cap", "vat_rate", "hold_amount")



@dataclass
class WindowRow:
    """One time-of-day / day-of-week row of the editor, as typed. ``days`` holds the
    ticked weekdays as the form sends them ("0" = Monday … "6")."""

    values: dict[str, str]
    days: list[str]

    @classmethod
    def blank(cls) -> WindowRow:
        return cls({name: "" for name in _WINDOW_FIELDS}, [str(day) for day in range(7)])


@dataclass
class TariffForm:
    """The editor's fields exactly as typed and, once a save was refused, a message per
    bad field (``errors["energy_price"]``, ``errors["window-0-start"]``)."""

    values: dict[str, str]
    windows: list[WindowRow]
    errors: dict[str, str] = field(default_factory=dict)

    def add_window(self) -> None:
        self.windows.append(WindowRow.blank())

    def remove_window(self, index: int) -> None:
        if 0 <= index < len(self.windows):
            del self.windows[index]

    @property
    def currency(self) -> str:
        currency = self.values.get("currency", "")
        return currency if currency in CURRENCIES else "EUR"

    @property
    def sign(self) -> str:
        """How the editor writes the currency beside a field ("€", "CHF")."""
        return currency_sign(self.currency)


def currency_sign(currency: str) -> str:
    return CURRENCY_SIGNS.get(currency, currency)


def form_from_data(data: FormData) -> TariffForm:
    """The editor's form from a request body (windows are the ``window-N-…`` fields, kept
    in the order of N)."""
    values = {name: data.get(name, "").strip() for name in _FIELDS}
    indexes = sorted({int(match.group(1)) for key in data
                      if (match := _WINDOW_KEY.match(key))})
    windows = [WindowRow({name: data.get(f"window-{i}-{name}", "").strip()
                          for name in _WINDOW_FIELDS},
                         data.getlist(f"window-{i}-days"))
               for i in indexes]
    return TariffForm(values, windows)


def blank_form(currency: str = "EUR") -> TariffForm:
    """A new tariff's form: the currency given (a site's), 21 % VAT, a €50-like hold."""
    currency = currency if currency in CURRENCIES else "EUR"
    digits = minor_digits(currency)
    return TariffForm({
        "name": "", "currency": currency, "energy_price": "", "time_price": "",
        "time_basis": str(TimeBasis.CHARGING), "session_fee": "", "idle_fee": "",
        "idle_grace": "", "idle_cap": "", "vat_rate": "21",
        "hold_amount": decimal_text(50 * 10 ** digits, digits, digits)}, [])


def form_of(tariff: Tariff) -> TariffForm:
    """A stored tariff written back into the editor's major units."""
    digits = minor_digits(tariff.currency)

    def unit(price: int | None) -> str:
        return "" if price is None else decimal_text(price, digits + 2, digits)

    def money(amount: int | None) -> str:
        return "" if amount is None else decimal_text(amount, digits, digits)

    windows = []
    for stored in tariff.windows or ():
        window = PriceWindow.from_dict(stored)
        whole_day = window.start == window.end
        windows.append(WindowRow({
            "label": window.label,
            "start": "" if whole_day else f"{window.start:%H:%M}",
            "end": "" if whole_day else f"{window.end:%H:%M}",
            "energy_price": unit(window.energy_price_per_kwh),
            "time_price": unit(window.time_price_per_minute),
            "idle_fee": unit(window.idle_fee_per_minute)},
            [str(day) for day in sorted(window.days)]))
    return TariffForm({
        "name": tariff.name, "currency": tariff.currency,
        "energy_price": unit(tariff.energy_price_per_kwh) if tariff.energy_price_per_kwh else "",
        "time_price": unit(tariff.time_price_per_minute) if tariff.time_price_per_minute else "",
        "time_basis": tariff.time_price_basis,
        "session_fee": money(tariff.session_fee) if tariff.session_fee else "",
        "idle_fee": unit(tariff.idle_fee_per_minute) if tariff.idle_fee_per_minute else "",
        "idle_grace": str(tariff.idle_grace_minutes) if tariff.idle_grace_minutes else "",
        "idle_cap": money(tariff.idle_fee_cap),
        "vat_rate": decimal_text(tariff.vat_rate_basis_points, 2, 0),
        "hold_amount": money(tariff.hold_amount)}, windows)


class BadField(ValueError):
    """A field's message for the person typing it."""


# Each field as named in a sentence, and as named at the start of one (translated whole: a
# language may not write the start of a sentence by capitalising its first letter).
FIELD_NAMES = {
    "energy_price": (N_("the price per kWh"), N_("The price per kWh")),
    "time_price": (N_("the price per minute"), N_("The price per minute")),
    "session_fee": (N_("the session fee"), N_("The session fee")),
    "idle_fee": (N_("the idle fee per minute"), N_("The idle fee per minute")),
    "idle_grace": (N_("the free minutes"), N_("The free minutes")),
    "idle_cap": (N_("the idle fee cap"), N_("The idle fee cap")),
    "vat_rate": (N_("the VAT rate"), N_("The VAT rate")),
    "hold_amount": (N_("the card hold"), N_("The card hold")),
    "example_energy": (N_("the energy"), N_("The energy")),
    "example_minutes": (N_("the charging time"), N_("The charging time")),
    "example_idle": (N_("the idle time"), N_("The idle time")),
}
_AT_START = dict(FIELD_NAMES.values())


def _upper_first(what: str) -> Message:
    return _AT_START.get(what) or Message(what[:1].upper() + what[1:])


def typed_decimal(text: str, what: Message, example: str, currency: str = "") -> Decimal:
    """An amount typed by a person: spaces and a currency sign or code around it are
    allowed, and a lone decimal comma ("0,39") reads as a point."""
    try:
        return parse_amount(text, currency)
    except NegativeAmount:
        raise BadField(N_("%(what)s cannot be negative.", what=_upper_first(what))) from None
    except AmountError:
        raise BadField(N_("Write %(what)s as a number like %(example)s.", what=what,
                          example=Decimal(example))) from None


def _scaled(amount: Decimal, places: int, what: Message, most: Decimal) -> int:
    if amount > most:
        raise BadField(N_("%(what)s is more than %(most)s; check the amount.",
                          what=_upper_first(what), most=most))
    scaled = amount.scaleb(places)
    if scaled != scaled.to_integral_value():
        raise BadField(N_("%(what)s can have no decimals.", what=_upper_first(what))
                       if places == 0 else
                       N_("%(what)s can have at most %(places)s decimals.",
                          what=_upper_first(what), places=places))
    return int(scaled)


def _unit_price(text: str, what: Message, currency: str) -> int:
    """A price per kWh or per minute in 1/100 of the minor unit ("0.395" € → 3950)."""
    amount = typed_decimal(text, what, "0.39" if minor_digits(currency) else "39", currency)
    return _scaled(amount, minor_digits(currency) + 2, what, MAX_UNIT_PRICE)


def _money(text: str, what: Message, currency: str) -> int:
    """An amount in minor units ("0.35" € → 35)."""
    amount = typed_decimal(text, what, "0.35" if minor_digits(currency) else "35", currency)
    return _scaled(amount, minor_digits(currency), what, MAX_AMOUNT)


def _minutes(text: str, what: Message) -> int:
    if not re.fullmatch(r"\d+", text):
        raise BadField(N_("Write %(what)s as a whole number of minutes like 30.", what=what))
    minutes = int(text)
    if minutes > MAX_GRACE_MINUTES:
        raise BadField(N_("%(what)s is at most %(most)s (a day).", what=_upper_first(what),
                          most=MAX_GRACE_MINUTES))
    return minutes


def _vat(text: str) -> int:
    if not text:
        raise BadField(N_("Enter the VAT rate your prices include, like 21."))
    rate = typed_decimal(text.removesuffix("%"), FIELD_NAMES["vat_rate"][0], "21")
    if rate > 100:
        raise BadField(N_("The VAT rate is at most 100 %."))
    return _scaled(rate, 2, FIELD_NAMES["vat_rate"][0], Decimal(100))


def time_of_day(text: str) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise BadField(N_("Write the time like 22:00."))
    return time(int(match.group(1)), int(match.group(2)))


@dataclass(frozen=True)
class TariffDraft:
    """A valid form in the stored units: ``columns`` are :class:`Tariff` attributes
    (``windows`` as the JSON list the table keeps)."""

    columns: dict

    def tariff(self) -> Tariff:
        """An unsaved :class:`Tariff` with these values (for a preview)."""
        return Tariff(**self.columns)

    def terms(self) -> TariffTerms:
        """The terms a session would freeze, read exactly as sessions read a tariff."""
        return terms_of(self.tariff(), None)


def parse_tariff_form(form: TariffForm) -> tuple[TariffDraft | None, dict[str, str]]:
    """The draft for a valid form (else ``None``) and one message per bad field; the form
    itself is left as typed."""
    columns, errors = parse_columns(form)
    return (None if errors else TariffDraft(columns)), errors


def parse_columns(form: TariffForm) -> tuple[dict, dict[str, str]]:
    """The stored values of every good field, and a message for each bad one."""
    values, errors = form.values, {}
    columns: dict = {}
    currency = values.get("currency", "")
    if currency not in CURRENCIES:
        errors["currency"] = N_("Pick the currency from the list.")
        currency = "EUR"
    columns["currency"] = currency

    name = values.get("name", "")
    if not name:
        errors["name"] = N_("Give this price a name, like Standard or Night rate.")
    elif len(name) > MAX_NAME:
        errors["name"] = N_("Keep the name under %(count)s characters.", count=MAX_NAME)
    columns["name"] = name

    def take(key: str, column: str, parse, *args, blank=0) -> None:
        text = values.get(key, "")
        try:
            columns[column] = (blank if text == ""
                               else parse(text, FIELD_NAMES[key][0], *args))
        except BadField as bad:
            errors[key] = bad.args[0]

    take("energy_price", "energy_price_per_kwh", _unit_price, currency)
    take("time_price", "time_price_per_minute", _unit_price, currency)
    take("session_fee", "session_fee", _money, currency)
    take("idle_fee", "idle_fee_per_minute", _unit_price, currency)
    take("idle_grace", "idle_grace_minutes", _minutes)
    take("idle_cap", "idle_fee_cap", _money, currency, blank=None)
    try:
        columns["vat_rate_basis_points"] = _vat(values.get("vat_rate", ""))
    except BadField as bad:
        errors["vat_rate"] = bad.args[0]
    take("hold_amount", "hold_amount", _money, currency, blank=None)
    if "hold_amount" not in errors and not columns.get("hold_amount"):
        errors["hold_amount"] = (N_("Enter the amount to hold on a driver's card before charging, "
                                 "like 50; it must be more than zero."))
    basis = values.get("time_basis", "")
    if basis not in {str(b) for b in TimeBasis}:
        errors["time_basis"] = (N_("Choose whether the price per minute counts charging time or "
                                "all the time the car is plugged in."))
    columns["time_price_basis"] = basis
    columns["windows"] = _windows(form.windows, currency, errors)
    return columns, errors


def _windows(rows: list[WindowRow], currency: str, errors: dict[str, str]) -> list[dict]:
    stored = []
    for index, row in enumerate(rows):
        key = f"window-{index}-"
        bad_before = len(errors)
        label = row.values.get("label", "")
        if len(label) > MAX_WINDOW_LABEL:
            errors[key + "label"] = N_("Keep the name under %(count)s characters.",
                                       count=MAX_WINDOW_LABEL)
        days = {int(day) for day in row.days if day in {str(d) for d in range(7)}}
        if not days:
            errors[key + "days"] = N_("Tick at least one day for this time window.")
        start_text, end_text = row.values.get("start", ""), row.values.get("end", "")
        times = []
        for name, text in (("start", start_text), ("end", end_text)):
            try:
                times.append(time_of_day(text) if text else time(0))
            except BadField as bad:
                errors[key + name] = bad.args[0]
        if bool(start_text) != bool(end_text):
            missing = "end" if start_text else "start"
            errors.setdefault(key + missing, N_("Give both times, or leave both empty for "
                                                  "the whole day."))
        prices: dict[str, int | None] = {}
        for name, column in (("energy_price", "energy_price_per_kwh"),
                             ("time_price", "time_price_per_minute"),
                             ("idle_fee", "idle_fee_per_minute")):
            what = FIELD_NAMES[name][0]
            text = row.values.get(name, "")
            try:
                prices[column] = _unit_price(text, what, currency) if text else None
            except BadField as bad:
                errors[key + name] = bad.args[0]
        if not any(row.values.get(name) for name in ("energy_price", "time_price", "idle_fee")):
            errors[key + "energy_price"] = (N_("Set at least one price for this time window, "
                                                 "or remove the window."))
        if len(errors) == bad_before:
            window = PriceWindow(days=frozenset(days), start=times[0], end=times[1],
                                 label=label, **prices)
            stored.append(window.to_dict())
    return stored


