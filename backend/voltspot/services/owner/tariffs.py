"""Prices on the owner page: the tariff editor's form, its live preview and example
session, the list of an owner's tariffs with where each applies, and assigning a tariff
to whole sites or to single plugs.

Owners type amounts in major units as they think of them ("0.39" € per kWh, "21" % VAT);
:func:`parse_tariff_form` turns them exactly (``Decimal``, no float) into the stored units
of :mod:`voltspot.domain.pricing` and gives each bad field its own message.

A change applies to sessions that start afterwards only: a session freezes its terms in
``ChargingSession.price`` when it is created, and nothing here reads or writes sessions
except to count the running ones."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from voltspot.domain.money import (
    AmountError,
    NegativeAmount,
    decimal_text,
    minor_digits,
    parse_amount,
)
from voltspot.domain.pricing import (
    Bill,
    PriceWindow,
    TariffTerms,
    TimeBasis,
    estimate,
    price_summary,
)
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, Connector, Site, Station, Tariff
from voltspot.services.charging.billing import terms_of
from voltspot.services.driver.journey import hold_sentence
from voltspot.services.errors import InvalidInput
from voltspot.services.owner.accounts import (
    Viewer,
    owned_connector,
    owned_site,
    owned_tariff,
    scope_sites,
)

FROZEN_PRICE_RULE = ("Changes apply to new sessions only: a session already running keeps "
                     "the price it started with.")

# The currencies the editor offers: those pricing.format_money writes by name or symbol.
CURRENCIES = ("EUR", "GBP", "USD", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "RON",
              "ISK")
# The sign the editor writes beside an amount; other currencies show their code.
CURRENCY_SIGNS = {"EUR": "€", "GBP": "£", "USD": "$", "PLN": "zł", "CZK": "Kč", "HUF": "Ft",
                  "RON": "lei"}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_NAME = 120
MAX_WINDOW_LABEL = 40
MAX_UNIT_PRICE = Decimal(100_000)  # major units per kWh or minute; keeps columns in 32 bits
MAX_AMOUNT = Decimal(1_000_000)  # major units for fees, cap and hold
MAX_GRACE_MINUTES = 24 * 60
MAX_EXAMPLE_KWH = Decimal(1000)
MAX_EXAMPLE_MINUTES = Decimal(7 * 24 * 60)

_OPEN_STATUSES = [status for status in SessionStatus if status.is_open]
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


def form_from_data(data: MultiDict) -> TariffForm:
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


class _Bad(ValueError):
    """A field's message for the person typing it."""


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _decimal(text: str, what: str, example: str, currency: str = "") -> Decimal:
    """An amount typed by a person: spaces and a currency sign or code around it are
    allowed, and a lone decimal comma ("0,39") reads as a point."""
    try:
        return parse_amount(text, currency)
    except NegativeAmount:
        raise _Bad(f"{_upper_first(what)} cannot be negative.") from None
    except AmountError:
        raise _Bad(f"Write {what} as a number like {example}.") from None


def _scaled(amount: Decimal, places: int, what: str, most: Decimal) -> int:
    if amount > most:
        raise _Bad(f"{_upper_first(what)} is more than {most:,}; check the amount.")
    scaled = amount.scaleb(places)
    if scaled != scaled.to_integral_value():
        decimals = "no decimals" if places == 0 else f"at most {places} decimals"
        raise _Bad(f"{_upper_first(what)} can have {decimals}.")
    return int(scaled)


def _unit_price(text: str, what: str, currency: str) -> int:
    """A price per kWh or per minute in 1/100 of the minor unit ("0.395" € → 3950)."""
    amount = _decimal(text, what, "0.39" if minor_digits(currency) else "39", currency)
    return _scaled(amount, minor_digits(currency) + 2, what, MAX_UNIT_PRICE)


def _money(text: str, what: str, currency: str) -> int:
    """An amount in minor units ("0.35" € → 35)."""
    amount = _decimal(text, what, "0.35" if minor_digits(currency) else "35", currency)
    return _scaled(amount, minor_digits(currency), what, MAX_AMOUNT)


def _minutes(text: str, what: str) -> int:
    if not re.fullmatch(r"\d+", text):
        raise _Bad(f"Write {what} as a whole number of minutes like 30.")
    minutes = int(text)
    if minutes > MAX_GRACE_MINUTES:
        raise _Bad(f"{_upper_first(what)} is at most {MAX_GRACE_MINUTES} (a day).")
    return minutes


def _vat(text: str) -> int:
    if not text:
        raise _Bad("Enter the VAT rate your prices include, like 21.")
    rate = _decimal(text.removesuffix("%"), "the VAT rate", "21")
    if rate > 100:
        raise _Bad("The VAT rate is at most 100 %.")
    return _scaled(rate, 2, "the VAT rate", Decimal(100))


def _time_of_day(text: str) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise _Bad("Write the time like 22:00.")
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
    columns, errors = _parse(form)
    return (None if errors else TariffDraft(columns)), errors


def _parse(form: TariffForm) -> tuple[dict, dict[str, str]]:
    """The stored values of every good field, and a message for each bad one."""
    values, errors = form.values, {}
    columns: dict = {}
    currency = values.get("currency", "")
    if currency not in CURRENCIES:
        errors["currency"] = "Pick the currency from the list."
        currency = "EUR"
    columns["currency"] = currency

    name = values.get("name", "")
    if not name:
        errors["name"] = "Give this price a name, like Standard or Night rate."
    elif len(name) > MAX_NAME:
        errors["name"] = f"Keep the name under {MAX_NAME} characters."
    columns["name"] = name

    def take(key: str, column: str, parse, *args, blank=0) -> None:
        text = values.get(key, "")
        try:
            columns[column] = blank if text == "" else parse(text, *args)
        except _Bad as bad:
            errors[key] = str(bad)

    take("energy_price", "energy_price_per_kwh", _unit_price, "the price per kWh", currency)
    take("time_price", "time_price_per_minute", _unit_price, "the price per minute", currency)
    take("session_fee", "session_fee", _money, "the session fee", currency)
    take("idle_fee", "idle_fee_per_minute", _unit_price, "the idle fee per minute", currency)
    take("idle_grace", "idle_grace_minutes", _minutes, "the free minutes")
    take("idle_cap", "idle_fee_cap", _money, "the idle fee cap", currency, blank=None)
    try:
        columns["vat_rate_basis_points"] = _vat(values.get("vat_rate", ""))
    except _Bad as bad:
        errors["vat_rate"] = str(bad)
    take("hold_amount", "hold_amount", _money, "the card hold", currency, blank=None)
    if "hold_amount" not in errors and not columns.get("hold_amount"):
        errors["hold_amount"] = ("Enter the amount to hold on a driver's card before charging, "
                                 "like 50; it must be more than zero.")
    basis = values.get("time_basis", "")
    if basis not in {str(b) for b in TimeBasis}:
        errors["time_basis"] = ("Choose whether the price per minute counts charging time or "
                                "all the time the car is plugged in.")
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
            errors[key + "days"] = "Tick at least one day for this time window."
        start_text, end_text = row.values.get("start", ""), row.values.get("end", "")
        times = []
        for name, text in (("start", start_text), ("end", end_text)):
            try:
                times.append(_time_of_day(text) if text else time(0))
            except _Bad as bad:
                errors[key + name] = str(bad)
        if bool(start_text) != bool(end_text):
            missing = "end" if start_text else "start"
            errors.setdefault(key + missing, "Give both times, or leave both empty for "
                                                  "the whole day.")
        prices: dict[str, int | None] = {}
        for name, column, what in (
                ("energy_price", "energy_price_per_kwh", "the price per kWh"),
                ("time_price", "time_price_per_minute", "the price per minute"),
                ("idle_fee", "idle_fee_per_minute", "the idle fee per minute")):
            text = row.values.get(name, "")
            try:
                prices[column] = _unit_price(text, what, currency) if text else None
            except _Bad as bad:
                errors[key + name] = str(bad)
        if not any(row.values.get(name) for name in ("energy_price", "time_price", "idle_fee")):
            errors[key + "energy_price"] = ("Set at least one price for this time window, "
                                                 "or remove the window.")
        if len(errors) == bad_before:
            window = PriceWindow(days=frozenset(days), start=times[0], end=times[1],
                                 label=label, **prices)
            stored.append(window.to_dict())
    return stored


@dataclass(frozen=True)
class ExampleForm:
    """The "example session" calculator, as typed: energy in kWh, charging minutes, idle
    minutes after charging, and optionally the weekday ("0" = Monday) and time it starts
    (so the time windows apply)."""

    energy_kwh: str = "30"
    minutes: str = "45"
    idle_minutes: str = "20"
    day: str = ""
    start: str = ""

    @classmethod
    def from_data(cls, data: MultiDict) -> ExampleForm:
        defaults = cls()
        return cls(**{name: data.get(f"example_{name}", getattr(defaults, name)).strip()
                      for name in ("energy_kwh", "minutes", "idle_minutes", "day", "start")})


@dataclass(frozen=True)
class Preview:
    """What drivers would see for the form's prices, and the example session's bill.
    ``lines`` and ``hold_text`` are the plug page's price block; both are ``None`` while
    the form has bad fields (``problems`` lists them)."""

    lines: list[str] | None
    hold_text: str | None
    bill: Bill | None
    hold_amount: int | None
    example: ExampleForm
    example_errors: list[str]
    problems: list[str]
    has_windows: bool

    @property
    def over_hold(self) -> bool:
        """Whether the example costs more than the hold (the session would stop there)."""
        return bool(self.bill and self.hold_amount is not None
                    and self.bill.total > self.hold_amount)


def preview(form: TariffForm, example: ExampleForm) -> Preview:
    """The plug page's price block for the form's prices (AFIR order, VAT included, the
    hold sentence) and the example session priced by :func:`estimate`."""
    columns, errors = _parse(form)
    problems = [message for key, message in errors.items() if key != "name"]
    if problems:
        return Preview(None, None, None, None, example, [], problems, bool(form.windows))
    draft = TariffDraft(columns)
    terms = draft.terms()
    bill, example_errors, start = None, [], None
    try:
        energy = _decimal(example.energy_kwh, "the energy", "30")
        minutes = _decimal(example.minutes, "the charging time", "45")
        idle = _decimal(example.idle_minutes or "0", "the idle time", "20")
        if energy > MAX_EXAMPLE_KWH or max(minutes, idle) > MAX_EXAMPLE_MINUTES:
            raise _Bad("Keep the example under 1,000 kWh and a week.")
        if example.day:
            start = _example_start(example.day, example.start)
    except _Bad as bad:
        example_errors.append(str(bad))
    else:
        bill = estimate(terms, float(energy * 1000), float(minutes), float(idle), start=start)
    return Preview(price_summary(terms), hold_sentence(terms), bill, terms.hold_amount,
                   example, example_errors, [], bool(terms.windows))


def _example_start(day: str, start: str) -> datetime:
    """A UTC moment on the given weekday and time of a fixed week; the preview's terms
    are in UTC, so local and UTC are the same there."""
    if day not in {str(d) for d in range(7)}:
        raise _Bad("Pick the day from the list.")
    moment = _time_of_day(start) if start else time(0)
    monday = datetime(2024, 1, 1, tzinfo=UTC)
    return monday + timedelta(days=int(day), hours=moment.hour, minutes=moment.minute)


class TariffFormInvalid(InvalidInput):
    """The form has bad fields; ``form.errors`` says which and why."""

    def __init__(self, form: TariffForm) -> None:
        super().__init__("Some fields need fixing.")
        self.form = form


def save_tariff(session: Session, viewer: Viewer, tariff_id: int | None,
                form: TariffForm) -> Tariff:
    """Create (``tariff_id`` None) or update one of the viewer's tariffs from the form.
    Raises :class:`NotFound` for another owner's tariff and :class:`TariffFormInvalid`
    for bad fields. Sessions keep the terms frozen on them."""
    tariff = owned_tariff(session, viewer, tariff_id) if tariff_id is not None else None
    draft, errors = parse_tariff_form(form)
    form.errors = errors
    owner_id = tariff.owner_id if tariff is not None else viewer.owner_id
    if "name" not in errors:
        clash = session.scalar(select(Tariff.id).where(
            Tariff.owner_id == owner_id, Tariff.name == form.values.get("name", ""),
            Tariff.id != (tariff_id or 0)))
        if clash is not None:
            errors["name"] = (f"You already have a price called "
                                   f"“{form.values['name']}”; pick another name.")
    if draft is None or errors:
        raise TariffFormInvalid(form)
    if tariff is None:
        tariff = Tariff(owner_id=owner_id)
        session.add(tariff)
    for column, value in draft.columns.items():
        setattr(tariff, column, value)
    session.flush()
    return tariff


@dataclass(frozen=True)
class TariffRow:
    """A tariff as the list shows it: its AFIR summary and where it applies."""

    id: int
    name: str
    currency: str
    summary: list[str]
    used_at: list[str]
    running_sessions: int


@dataclass(frozen=True)
class _Plug:
    id: int
    tariff_id: int | None
    evse_id: str | None
    number: int
    charge_point_id: str
    site_id: int
    site_name: str
    site_currency: str

    @property
    def name(self) -> str:
        return self.evse_id or f"{self.charge_point_id} plug {self.number}"


def _plugs(session: Session, viewer: Viewer) -> list[_Plug]:
    """Every plug on the viewer's sites, by site, station and connector."""
    statement = (select(Connector.id, Connector.tariff_id, Connector.evse_id,
                        Connector.connector_id, Station.charge_point_id, Site.id, Site.name,
                        Site.currency)
                 .join(Station, Connector.station_id == Station.id)
                 .join(Site, Station.site_id == Site.id)
                 .order_by(Site.name, Station.charge_point_id, Connector.connector_id))
    return [_Plug(*row) for row in session.execute(scope_sites(viewer, statement))]


def _used_at(tariff_id: int, plugs: list[_Plug]) -> list[str]:
    by_site: dict[str, list[_Plug]] = {}
    for plug in plugs:
        by_site.setdefault(plug.site_name, []).append(plug)
    used = []
    for site_name, site_plugs in by_site.items():
        on = [plug for plug in site_plugs if plug.tariff_id == tariff_id]
        if not on:
            continue
        if len(on) == len(site_plugs):
            every = {1: "its plug", 2: "both plugs"}.get(len(on), f"all {len(on)} plugs")
            used.append(f"{site_name}: {every}")
        else:
            names = ", ".join(plug.name for plug in on)
            used.append(f"{site_name}: {len(on)} of {len(site_plugs)} plugs ({names})")
    return used


def _running(session: Session, tariff_ids: Iterable[int]) -> dict[int, int]:
    ids = list(tariff_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(ChargingSession.tariff_id, func.count()).where(
            ChargingSession.tariff_id.in_(ids), ChargingSession.status.in_(_OPEN_STATUSES))
        .group_by(ChargingSession.tariff_id))
    return {tariff_id: count for tariff_id, count in rows}


def _tariffs(session: Session, viewer: Viewer):
    statement = select(Tariff).order_by(Tariff.name, Tariff.id)
    if not viewer.is_admin:
        statement = statement.where(Tariff.owner_id == viewer.owner_id)
    return session.scalars(statement).all()


def _row(tariff: Tariff, plugs: list[_Plug], running: dict[int, int]) -> TariffRow:
    return TariffRow(tariff.id, tariff.name, tariff.currency,
                     price_summary(terms_of(tariff, None)), _used_at(tariff.id, plugs),
                     running.get(tariff.id, 0))


def list_tariffs(session: Session, viewer: Viewer) -> list[TariffRow]:
    """The viewer's tariffs by name (every tariff for an admin)."""
    tariffs = _tariffs(session, viewer)
    plugs = _plugs(session, viewer)
    running = _running(session, (t.id for t in tariffs))
    return [_row(tariff, plugs, running) for tariff in tariffs]


@dataclass(frozen=True)
class Editor:
    """The editor page: the form (with its errors), the live preview, and for an existing
    tariff where it applies and how many sessions run on it."""

    tariff_id: int | None
    form: TariffForm
    preview: Preview
    used_at: list[str]
    running_sessions: int


def tariff_editor(session: Session, viewer: Viewer, tariff_id: int | None,
                  form: TariffForm | None = None,
                  example: ExampleForm | None = None) -> Editor:
    """The editor for a new tariff (``tariff_id`` None) or one of the viewer's; ``form``
    is what was posted, otherwise the stored values (or a blank form in the currency of
    the viewer's first site). Raises :class:`NotFound` for another owner's tariff."""
    tariff = owned_tariff(session, viewer, tariff_id) if tariff_id is not None else None
    if form is None:
        if tariff is not None:
            form = form_of(tariff)
        else:
            currency = session.scalar(scope_sites(viewer, select(Site.currency))
                                      .order_by(Site.id).limit(1))
            form = blank_form(currency or "EUR")
    shown = preview(form, example or ExampleForm())
    if tariff is None:
        return Editor(None, form, shown, [], 0)
    return Editor(tariff.id, form, shown, _used_at(tariff.id, _plugs(session, viewer)),
                  _running(session, [tariff.id]).get(tariff.id, 0))


@dataclass(frozen=True)
class PlugChoice:
    id: int
    name: str
    station: str
    number: int
    current: str | None
    on_this: bool


@dataclass(frozen=True)
class SiteChoice:
    id: int
    name: str
    currency: str
    plugs: list[PlugChoice]

    @property
    def all_on_this(self) -> bool:
        return bool(self.plugs) and all(plug.on_this for plug in self.plugs)


@dataclass(frozen=True)
class Assignment:
    """Where a tariff can go: each of the viewer's sites with its plugs and the price each
    plug has now."""

    tariff: TariffRow
    sites: list[SiteChoice]


def assignment(session: Session, viewer: Viewer, tariff_id: int) -> Assignment:
    """The assign page for one of the viewer's tariffs; raises :class:`NotFound`."""
    tariff = owned_tariff(session, viewer, tariff_id)
    plugs = _plugs(session, viewer)
    names = dict(session.execute(select(Tariff.id, Tariff.name).where(
        Tariff.id.in_({plug.tariff_id for plug in plugs if plug.tariff_id}))).all())
    sites = {site.id: SiteChoice(site.id, site.name, site.currency, [])
             for site in session.scalars(scope_sites(viewer, select(Site).order_by(Site.name)))}
    for plug in plugs:
        sites[plug.site_id].plugs.append(PlugChoice(
            plug.id, plug.name, plug.charge_point_id, plug.number, names.get(plug.tariff_id),
            plug.tariff_id == tariff.id))
    row = _row(tariff, plugs, _running(session, [tariff.id]))
    return Assignment(row, list(sites.values()))


def assign_tariff(session: Session, viewer: Viewer, tariff_id: int, *,
                  site_ids: Iterable[int] = (), connector_ids: Iterable[int] = ()) -> int:
    """Put one of the viewer's tariffs on every plug of ``site_ids`` and on the plugs
    ``connector_ids``; returns how many plugs use it now that did not before.

    Raises :class:`NotFound` when the tariff, a site or a plug is not the viewer's, and
    :class:`InvalidInput` when nothing was chosen or a site charges in another currency.
    Running sessions keep their frozen price; the next session on each plug uses this one.
    """
    tariff = owned_tariff(session, viewer, tariff_id)
    connectors: list[Connector] = []
    for site_id in site_ids:
        site = owned_site(session, viewer, site_id)
        connectors += [connector for station in site.stations
                       for connector in station.connectors]
    connectors += [owned_connector(session, viewer, pk) for pk in connector_ids]
    if not connectors:
        raise InvalidInput("Tick the plugs that should use this price, or choose a whole "
                           "site.")
    for connector in connectors:
        site = connector.station.site
        if site is not None and site.currency != tariff.currency:
            raise InvalidInput(
                f"“{tariff.name}” is in {tariff.currency} but {site.name} charges in "
                f"{site.currency}. Make a price in {site.currency} for it.")
    changed = 0
    for connector in connectors:
        if connector.tariff_id != tariff.id:
            connector.tariff_id = tariff.id
            changed += 1
    session.flush()
    return changed

