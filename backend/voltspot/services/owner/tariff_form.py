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
from voltspot.services.messages import N_

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


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def typed_decimal(text: str, what: str, example: str, currency: str = "") -> Decimal:
    """An amount typed by a person: spaces and a currency sign or code around it are
    allowed, and a lone decimal comma ("0,39") reads as a point."""
    try:
        return parse_amount(text, currency)
    except NegativeAmount:
        raise BadField(f"{_upper_first(what)} cannot be negative.") from None
    except AmountError:
        raise BadField(f"Write {what} as a number like {example}.") from None


def _scaled(amount: Decimal, places: int, what: str, most: Decimal) -> int:
    if amount > most:
        raise BadField(f"{_upper_first(what)} is more than {most:,}; check the amount.")
    scaled = amount.scaleb(places)
    if scaled != scaled.to_integral_value():
        decimals = "no decimals" if places == 0 else f"at most {places} decimals"
        raise BadField(f"{_upper_first(what)} can have {decimals}.")
    return int(scaled)


def _unit_price(text: str, what: str, currency: str) -> int:
    """A price per kWh or per minute in 1/100 of the minor unit ("0.395" € → 3950)."""
    amount = typed_decimal(text, what, "0.39" if minor_digits(currency) else "39", currency)
    return _scaled(amount, minor_digits(currency) + 2, what, MAX_UNIT_PRICE)


def _money(text: str, what: str, currency: str) -> int:
    """An amount in minor units ("0.35" € → 35)."""
    amount = typed_decimal(text, what, "0.35" if minor_digits(currency) else "35", currency)
    return _scaled(amount, minor_digits(currency), what, MAX_AMOUNT)


def _minutes(text: str, what: str) -> int:
    if not re.fullmatch(r"\d+", text):
        raise BadField(f"Write {what} as a whole number of minutes like 30.")
    minutes = int(text)
    if minutes > MAX_GRACE_MINUTES:
        raise BadField(f"{_upper_first(what)} is at most {MAX_GRACE_MINUTES} (a day).")
    return minutes


def _vat(text: str) -> int:
    if not text:
        raise BadField(N_("Enter the VAT rate your prices include, like 21."))
    rate = typed_decimal(text.removesuffix("%"), "the VAT rate", "21")
    if rate > 100:
        raise BadField(N_("The VAT rate is at most 100 %."))
    return _scaled(rate, 2, "the VAT rate", Decimal(100))


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
        errors["name"] = f"Keep the name under {MAX_NAME} characters."
    columns["name"] = name

    def take(key: str, column: str, parse, *args, blank=0) -> None:
        text = values.get(key, "")
        try:
            columns[column] = blank if text == "" else parse(text, *args)
        except BadField as bad:
            errors[key] = str(bad)

    take("energy_price", "energy_price_per_kwh", _unit_price, "the price per kWh", currency)
    take("time_price", "time_price_per_minute", _unit_price, "the price per minute", currency)
    take("session_fee", "session_fee", _money, "the session fee", currency)
    take("idle_fee", "idle_fee_per_minute", _unit_price, "the idle fee per minute", currency)
    take("idle_grace", "idle_grace_minutes", _minutes, "the free minutes")
    take("idle_cap", "idle_fee_cap", _money, "the idle fee cap", currency, blank=None)
    try:
        columns["vat_rate_basis_points"] = _vat(values.get("vat_rate", ""))
    except BadField as bad:
        errors["vat_rate"] = str(bad)
    take("hold_amount", "hold_amount", _money, "the card hold", currency, blank=None)
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
            errors[key + "label"] = f"Keep the name under {MAX_WINDOW_LABEL} characters."
        days = {int(day) for day in row.days if day in {str(d) for d in range(7)}}
        if not days:
            errors[key + "days"] = N_("Tick at least one day for this time window.")
        start_text, end_text = row.values.get("start", ""), row.values.get("end", "")
        times = []
        for name, text in (("start", start_text), ("end", end_text)):
            try:
                times.append(time_of_day(text) if text else time(0))
            except BadField as bad:
                errors[key + name] = str(bad)
        if bool(start_text) != bool(end_text):
            missing = "end" if start_text else "start"
            errors.setdefault(key + missing, N_("Give both times, or leave both empty for "
                                                  "the whole day."))
        prices: dict[str, int | None] = {}
        for name, column, what in (
                ("energy_price", "energy_price_per_kwh", "the price per kWh"),
                ("time_price", "time_price_per_minute", "the price per minute"),
                ("idle_fee", "idle_fee_per_minute", "the idle fee per minute")):
            text = row.values.get(name, "")
            try:
                prices[column] = _unit_price(text, what, currency) if text else None
            except BadField as bad:
                errors[key + name] = str(bad)
        if not any(row.values.get(name) for name in ("energy_price", "time_price", "idle_fee")):
            errors[key + "energy_price"] = (N_("Set at least one price for this time window, "
                                                 "or remove the window."))
        if len(errors) == bad_before:
            window = PriceWindow(days=frozenset(days), start=times[0], end=times[1],
                                 label=label, **prices)
            stored.append(window.to_dict())
    return stored


