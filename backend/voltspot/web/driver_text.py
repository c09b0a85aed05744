"""What the driver pages say about plugs, sites, prices and bills, in the driver's
language. The services and the domain hand over plain values (an ``Availability``, a
``TariffTerms``, a ``BillLine``); the words are chosen here, at the edge, so neither needs
Flask. In English the words are the domain's own (``pricing.price_summary``,
``plugs.hold_sentence``), so the owner's preview and the driver's page agree.

Every function is also a Jinja filter of the same name (see :func:`init_driver_text`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import get_day_names
from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from voltspot.domain.availability import Availability
from voltspot.domain.pricing import (
    BillLine,
    PriceWindow,
    TariffDimension,
    TariffTerms,
    TimeBasis,
    estimate,
)
from voltspot.web.i18n import (
    current_locale,
    duration,
    money,
    number,
    time_of_day,
    unit_amount,
    unit_price,
)

# The pill's word for each state, as a lazy string: translated when the page is rendered.
AVAILABILITY_WORDS = {
    Availability.FREE: lazy_gettext("Free"),
    Availability.IN_USE: lazy_gettext("In use"),
    Availability.OFFLINE: lazy_gettext("Offline"),
    Availability.OUT_OF_ORDER: lazy_gettext("Out of order"),
    Availability.UNKNOWN: lazy_gettext("Unknown"),
}


def availability(state: Availability) -> str:
    """The status pill's word: "Free", "In use", "Offline", "Out of order"."""
    return str(AVAILABILITY_WORDS.get(state, AVAILABILITY_WORDS[Availability.UNKNOWN]))


def availability_reason(state: Availability) -> str:
    """Why a plug that is not free cannot be started, as one sentence."""
    if state == Availability.OFFLINE:
        return _("This charger is offline right now.")
    if state == Availability.OUT_OF_ORDER:
        return _("This plug is out of order right now.")
    if state == Availability.IN_USE:
        return _("Someone is using this plug right now.")
    return _("We do not know the state of this plug right now.")


def plug_label(plug) -> str:
    """"Plug 1 · CCS · 50 kW" (the connector type is a standard's name, never translated)."""
    return _("Plug %(number)d · %(type)s · %(power)s kW", number=plug.number,
             type=plug.connector_type, power=number(plug.max_power_kw, 0, 1))


def site_summary(site) -> tuple[str, str]:
    """The site's availability pill: (words, tone), e.g. ("2 of 4 free", "free")."""
    if site.free:
        return _("%(free)d of %(total)d free", free=site.free, total=len(site.plugs)), "free"
    states = {p.availability for p in site.plugs}
    if states == {Availability.OFFLINE}:
        return availability(Availability.OFFLINE), "offline"
    if states <= {Availability.OUT_OF_ORDER, Availability.OFFLINE}:
        return availability(Availability.OUT_OF_ORDER), "out-of-order"
    return availability(Availability.IN_USE), "in-use"


def _per_minute(price: int, currency: str, basis: TimeBasis) -> str:
    amount = unit_price(price, currency, "min")
    if basis == TimeBasis.CHARGING:
        return _("%(price)s charging", price=amount)
    return _("%(price)s connected", price=amount)


def _idle_text(terms: TariffTerms, price: int) -> str:
    if not price:
        return _("no idle fee")
    text = _("%(price)s idle", price=unit_price(price, terms.currency, "min"))
    if terms.idle_grace_minutes:
        text = _("%(price)s idle after %(minutes)d min",
                 price=unit_price(price, terms.currency, "min"),
                 minutes=terms.idle_grace_minutes)
    if terms.idle_fee_cap is not None:
        text = _("%(fee)s (max %(cap)s)", fee=text,
                 cap=money(terms.idle_fee_cap, terms.currency))
    return text


def _days_text(days: Iterable[int]) -> str:
    """Weekdays as the locale's short names, runs joined: "Mon–Fri", "Mon, Wed"."""
    names = get_day_names("abbreviated", locale=current_locale())
    runs: list[list[int]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == 6:
        runs = runs[1:-1] + [runs[-1] + runs[0]]
    return ", ".join(names[run[0]] if len(run) == 1 else f"{names[run[0]]}–{names[run[-1]]}"
                     for run in runs)


def window_when(window: PriceWindow) -> str:
    """A price window's days and times: "Mon–Fri 22:00–06:00", "Daily 07:00–09:00"."""
    days = _("Daily") if len(window.days) == 7 else _days_text(window.days)
    if window.start == window.end:
        return days
    return f"{days} {window.start:%H:%M}–{window.end:%H:%M}"


def window_name(window: PriceWindow) -> str:
    """The owner's label for the window, else its days and times."""
    return window.label or window_when(window)


def price_lines(terms: TariffTerms | None) -> list[str]:
    """The prices in AFIR order, as ``pricing.price_summary`` words them, in the driver's
    language: per kWh, per minute, per session, idle fee, price windows, the VAT note."""
    if terms is None:
        return []
    return list(_price_lines(terms, current_locale()))


# The words are a function of the terms and the language alone, and a list of spots words
# the same few tariffs on every request: each wording is made once.
@functools.lru_cache(maxsize=4096)
def _price_lines(terms: TariffTerms, _locale: Locale) -> tuple[str, ...]:
    currency = terms.currency
    items = []
    if terms.energy_price_per_kwh:
        items.append(unit_price(terms.energy_price_per_kwh, currency, "kWh"))
    if terms.time_price_per_minute:
        items.append(_per_minute(terms.time_price_per_minute, currency, terms.time_price_basis))
    if terms.session_fee:
        items.append(_("%(price)s per session", price=money(terms.session_fee, currency)))
    if terms.idle_fee_per_minute:
        items.append(_idle_text(terms, terms.idle_fee_per_minute))
    for window in terms.windows:
        prices = []
        if window.energy_price_per_kwh is not None:
            prices.append(unit_price(window.energy_price_per_kwh, currency, "kWh"))
        if window.time_price_per_minute is not None:
            prices.append(_per_minute(window.time_price_per_minute, currency,
                                      terms.time_price_basis))
        if window.idle_fee_per_minute is not None:
            prices.append(_idle_text(terms, window.idle_fee_per_minute))
        when = window_when(window)
        heading = f"{window.label} ({when})" if window.label else when
        items.append(f"{heading}: {', '.join(prices)}")
    if not items:
        return (_("Free"),)
    rate = number(Decimal(terms.vat_rate_basis_points) / 100, 0, 2)
    items.append(_("incl. %(rate)s%% VAT", rate=rate))
    return tuple(items)


def _prices_at(terms: TariffTerms, local: datetime) -> tuple[int, int]:
    """The energy and time prices in force at the local wall-clock moment ``local``: each
    from the first window that covers it and sets it, else the base price."""
    energy = next((w.energy_price_per_kwh for w in terms.windows
                   if w.energy_price_per_kwh is not None and w.covers(local)),
                  terms.energy_price_per_kwh)
    per_minute = next((w.time_price_per_minute for w in terms.windows
                       if w.time_price_per_minute is not None and w.covers(local)),
                      terms.time_price_per_minute)
    return energy, per_minute


def _prices_text(terms: TariffTerms, prices: tuple[int, int]) -> str:
    energy, per_minute = prices
    parts = []
    if energy:
        parts.append(unit_price(energy, terms.currency, "kWh"))
    if per_minute:
        parts.append(_per_minute(per_minute, terms.currency, terms.time_price_basis))
    return " + ".join(parts) or _("Free")


def price_now(terms: TariffTerms | None, now: datetime | None = None) -> str:
    """For a tariff with price windows, the price in force now and until when:
    "Now €0.29/kWh until 18:00, then €0.39/kWh" (the change only when it comes within a
    day); "" for a tariff with one price all day. ``now`` is UTC (default: the clock)."""
    if terms is None or not terms.windows:
        return ""
    # Worded once a minute per tariff and language (the times it names are minutes).
    return _price_now(terms, current_locale(), (now or datetime.now(UTC)).replace(
        second=0, microsecond=0))


@functools.lru_cache(maxsize=4096)
def _price_now(terms: TariffTerms, _locale: Locale, minute: datetime) -> str:
    zone = ZoneInfo(terms.timezone)
    local = minute.astimezone(zone)
    current = _prices_at(terms, local)
    # Prices change only at a window's edge: look at each edge in the next day, in order.
    edges = sorted({datetime.combine(local.date() + timedelta(days=offset), moment, zone)
                    for offset in (0, 1, 2) for window in terms.windows
                    for moment in (window.start, window.end)})
    for edge in edges:
        if local < edge <= local + timedelta(days=1):
            following = _prices_at(terms, edge)
            if following != current:
                return _("Now %(price)s until %(time)s, then %(next)s",
                         price=_prices_text(terms, current), time=time_of_day(edge),
                         next=_prices_text(terms, following))
    return _("Now %(price)s", price=_prices_text(terms, current))


EXAMPLE_KWH = 20


def what_to_expect(plug) -> list[str]:
    """The plug page's plain facts beside the prices: what a typical charge costs at this
    plug ("A 20 kWh charge costs about €8.15.", at the plug's full power, base prices),
    when the idle fee starts, and that charging stops by itself at the card hold."""
    terms = plug.terms
    if terms is None:
        return []
    minutes = EXAMPLE_KWH * 60 / max(plug.max_power_kw, 1)
    example = estimate(terms, EXAMPLE_KWH * 1000, minutes)
    facts = [_("A %(kwh)d kWh charge costs about %(amount)s.", kwh=EXAMPLE_KWH,
               amount=money(example.total, terms.currency))]
    if terms.idle_fee_per_minute or any(w.idle_fee_per_minute for w in terms.windows):
        facts.append(_("The idle fee starts %(minutes)d min after charging ends.",
                       minutes=terms.idle_grace_minutes) if terms.idle_grace_minutes
                     else _("The idle fee starts as soon as charging ends."))
    if terms.hold_amount:
        facts.append(_("Charging stops by itself when the cost reaches the %(amount)s hold.",
                       amount=money(terms.hold_amount, terms.currency)))
    return facts


def hold_sentence(terms: TariffTerms | None) -> str:
    """The one sentence that explains the card hold before a driver starts."""
    if terms is None:
        return ""
    return _("We hold %(amount)s on your card and take only what you use; the rest is "
             "released when you stop.", amount=money(terms.hold_amount, terms.currency))


def bill_line(line: BillLine, currency: str, terms: TariffTerms | None = None) -> str:
    """A receipt line in words: "12.5 kWh × €0.39", "40 min charging × €0.05",
    "Session fee". ``terms`` (the session's) say whether time counts while charging or
    while connected and how long the idle grace is; without them the line says neither."""
    price = unit_amount(line.unit_price, currency) if line.unit_price is not None else ""
    quantity = number(line.quantity, 1 if line.unit == "kWh" else 0, 2 if line.unit == "kWh"
                      else 1)
    if line.kind == TariffDimension.FLAT:
        text = _("Session fee")
    elif line.kind == TariffDimension.ENERGY:
        text = _("%(kwh)s kWh × %(price)s", kwh=quantity, price=price)
    elif line.kind == TariffDimension.TIME:
        basis = terms.time_price_basis if terms else None
        if basis == TimeBasis.CHARGING:
            text = _("%(minutes)s min charging × %(price)s", minutes=quantity, price=price)
        elif basis == TimeBasis.CONNECTION:
            text = _("%(minutes)s min connected × %(price)s", minutes=quantity, price=price)
        else:
            text = _("%(minutes)s min × %(price)s", minutes=quantity, price=price)
    else:
        grace = terms.idle_grace_minutes if terms else 0
        idle = (_("%(minutes)s min idle (after %(grace)d free)", minutes=quantity, grace=grace)
                if grace else _("%(minutes)s min idle", minutes=quantity))
        text = (_("%(idle)s × %(price)s", idle=idle, price=price) if line.unit_price is not None
                else _("%(idle)s, capped at %(cap)s", idle=idle, cap=money(line.amount, currency)))
    return f"{text} ({line.window})" if line.window else text


def cable_text(plug) -> str:
    """Whether the driver needs a cable: a socket or a cable fixed to the charger."""
    if plug.tethered:
        return _("Cable attached: no need to bring your own.")
    return _("Socket: bring your own charging cable.")


def session_time(span: timedelta | None) -> str:
    """How long a session has run: "under 1 min" in its first minute (never "0 min"),
    then as :func:`~voltspot.web.i18n.duration`."""
    if span is not None and span < timedelta(minutes=1):
        return _("under 1 min")
    return duration(span)


def _idle_price(terms: TariffTerms) -> int:
    return terms.idle_fee_per_minute or next(
        (w.idle_fee_per_minute for w in terms.windows if w.idle_fee_per_minute), 0)


def idle_warning(live) -> str:
    """For a car that has stopped charging but is still plugged in, when the idle fee
    starts and what it costs, or that it runs; "" when no idle fee is coming."""
    start = live.idle_fee_from
    if start is None:
        return ""
    terms = live.terms
    price = unit_price(_idle_price(terms), terms.currency, "min")
    at = time_of_day(start, terms.timezone)
    if live.updated_at < start:
        return _("Charging has finished. Unplug before %(time)s: from then an idle fee of "
                 "%(price)s applies.", time=at, price=price)
    return _("An idle fee of %(price)s has applied since %(time)s. Unplug now.",
             price=price, time=at)


def hold_outcome(live) -> str:
    """What happened to the card hold of an ended session, in one sentence; "" without
    a hold."""
    if not live.hold_amount:
        return ""
    held = money(live.hold_amount, live.currency)
    if live.amount_captured is None:
        return _("Payment being finalised: we take only what you used and release the rest "
                 "of the %(held)s hold.", held=held)
    if not live.amount_captured:
        return _("Your hold of %(amount)s is released; nothing was charged.", amount=held)
    return _("We took %(taken)s and released the rest of the %(held)s hold (%(released)s).",
             taken=money(live.amount_captured, live.currency), held=held,
             released=money(live.hold_amount - live.amount_captured, live.currency))


CARD_BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express",
               "maestro": "Maestro", "discover": "Discover", "jcb": "JCB",
               "unionpay": "UnionPay", "diners": "Diners Club", "cartes_bancaires": "CB"}


def payment_method(receipt) -> str:
    """How a session with a card hold was paid: "Visa •••• 4242" when the provider names
    the card, else "Card"."""
    if receipt.card is None:
        return _("Card")
    brand = CARD_BRANDS.get(receipt.card.brand, receipt.card.brand.replace("_", " ").title())
    return f"{brand} •••• {receipt.card.last4}"


def init_driver_text(app: Flask) -> None:
    """Make every function above a Jinja filter."""
    app.jinja_env.filters.update(
        availability=availability, availability_reason=availability_reason,
        plug_label=plug_label, site_summary=site_summary, price_lines=price_lines,
        hold_sentence=hold_sentence, bill_line=bill_line, window_name=window_name,
        price_now=price_now, what_to_expect=what_to_expect, cable_text=cable_text,
        session_time=session_time, idle_warning=idle_warning, hold_outcome=hold_outcome,
        payment_method=payment_method)
