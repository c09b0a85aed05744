"""Amounts of money. Voltspot keeps every amount as an integer of the currency's minor
unit (cents; ``3500`` EUR is €35.00) and unit prices in 1/100 of it; this module is the
one place that turns them into what people read and back from what they type.

Amounts use a full stop for decimals and commas between thousands (the interface is
English). €, £, $ go before the amount with no space; zł, Kč, Ft and lei go after it;
CHF, SEK, NOK, DKK (whose "kr" is shared by three currencies), ISK and any other currency
are written as their ISO code before the amount. A no-break space joins a code or symbol
to the number so the two never part on a sticker.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

NBSP = "\u00a0"

# How each currency's amount is written; "{}" is the number. Others: "XYZ {}".
_CURRENCY_FORMATS = {
    "EUR": "€{}",
    "GBP": "£{}",
    "USD": "${}",
    "CHF": f"CHF{NBSP}{{}}",
    "SEK": f"SEK{NBSP}{{}}",
    "NOK": f"NOK{NBSP}{{}}",
    "DKK": f"DKK{NBSP}{{}}",
    "ISK": f"ISK{NBSP}{{}}",
    "PLN": f"{{}}{NBSP}zł",
    "CZK": f"{{}}{NBSP}Kč",
    "HUF": f"{{}}{NBSP}Ft",
    "RON": f"{{}}{NBSP}lei",
}
# ISO 4217 minor-unit digits where they are not 2.
_MINOR_DIGITS = {"ISK": 0, "JPY": 0, "KRW": 0}

# Signs people type around an amount (lower case), besides the currency's code.
_SIGNS = ("€", "£", "$", "zł", "kč", "ft", "lei", "kr")
_NUMBER = re.compile(r"\d+(\.\d*)?|\.\d+")


class AmountError(ValueError):
    """Typed text that is not an amount."""


class NegativeAmount(AmountError):
    """Typed text that is an amount below zero."""


def minor_digits(currency: str) -> int:
    """How many decimals ``currency``'s minor unit has (2 unless known otherwise)."""
    return _MINOR_DIGITS.get(currency, 2)


def with_currency(number: str, currency: str) -> str:
    """``number`` (already written) with ``currency``'s sign or code in its place."""
    return _CURRENCY_FORMATS.get(currency, f"{currency}{NBSP}{{}}").format(number)


def format_money(amount_minor: int, currency: str) -> str:
    """``amount_minor`` minor units written for people: ``format_money(3500, "EUR")`` is
    "€35.00", ``format_money(3500, "SEK")`` is "SEK 35.00" (placement in the module
    docstring)."""
    digits = minor_digits(currency)
    return with_currency(f"{Decimal(amount_minor).scaleb(-digits):,.{digits}f}", currency)


def major_units(amount_minor: int, currency: str) -> Decimal:
    """``amount_minor`` minor units as an exact decimal in major units (1234 EUR: 12.34)."""
    return Decimal(amount_minor).scaleb(-minor_digits(currency))


def decimal_text(stored: int, places: int, least: int) -> str:
    """``stored`` in units of 10^-places, written with trailing zeros dropped down to
    ``least`` decimals, as a person types it back: (3950, 4, 2) is "0.395", (5000, 2, 2)
    is "50.00"."""
    text = f"{Decimal(stored).scaleb(-places):f}"
    if "." not in text:
        return text
    whole, decimals = text.split(".")
    decimals = decimals.rstrip("0").ljust(least, "0")
    return f"{whole}.{decimals}" if decimals else whole


def parse_amount(text: str, currency: str = "") -> Decimal:
    """An amount typed by a person, exactly: spaces and a currency sign or code around it
    are allowed, and a lone decimal comma ("0,39") reads as a point. Raises
    :class:`NegativeAmount` below zero and :class:`AmountError` for anything else that is
    not a plain number."""
    cleaned = text.replace(NBSP, "").replace(" ", "").lower()
    for sign in (*_SIGNS, currency.lower()):
        if sign:
            cleaned = cleaned.removeprefix(sign).removesuffix(sign)
    if "," in cleaned and "." not in cleaned and cleaned.count(",") == 1:
        cleaned = cleaned.replace(",", ".")
    if cleaned.startswith("-") and _NUMBER.fullmatch(cleaned[1:]):
        raise NegativeAmount(f"{text!r} is below zero")
    if not _NUMBER.fullmatch(cleaned):
        raise AmountError(f"{text!r} is not a number")
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        raise AmountError(f"{text!r} is not a number") from None


def minor_units(text: str, currency: str) -> int:
    """An amount typed in major units ("2.50", "€ 2,50") as a positive whole number of
    minor units (250); raises :class:`AmountError` for anything else (zero, below zero,
    more decimals than the currency has)."""
    minor = parse_amount(text, currency).scaleb(minor_digits(currency))
    if minor != minor.to_integral_value() or minor <= 0:
        raise AmountError(f"{text!r} is not an amount of {currency}")
    return int(minor)
