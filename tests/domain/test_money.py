"""Money: minor units written for people and read back from what they type."""

from __future__ import annotations

from decimal import Decimal

import pytest

from voltspot.domain.money import (
    NBSP,
    AmountError,
    NegativeAmount,
    decimal_text,
    format_money,
    major_units,
    minor_units,
    parse_amount,
)


@pytest.mark.parametrize(("currency", "text"), [
    ("EUR", "€12.34"), ("GBP", "£12.34"), ("USD", "$12.34"), ("CHF", f"CHF{NBSP}12.34"),
    ("SEK", f"SEK{NBSP}12.34"), ("NOK", f"NOK{NBSP}12.34"), ("DKK", f"DKK{NBSP}12.34"),
    ("PLN", f"12.34{NBSP}zł"), ("CZK", f"12.34{NBSP}Kč"), ("ISK", f"ISK{NBSP}1,234"),
    ("AUD", f"AUD{NBSP}12.34")])
def test_money_is_written_with_the_currency_symbol_or_code_in_its_place(currency, text):
    assert format_money(1234, currency) == text


def test_large_amounts_group_thousands():
    assert format_money(123456789, "EUR") == "€1,234,567.89"


@pytest.mark.parametrize(("amount", "currency", "major"), [
    (1234, "EUR", Decimal("12.34")), (5, "EUR", Decimal("0.05")), (1234, "ISK", Decimal(1234))])
def test_minor_units_become_exact_major_units_by_the_currency_s_decimals(amount, currency,
                                                                        major):
    assert major_units(amount, currency) == major


@pytest.mark.parametrize(("stored", "places", "least", "text"), [
    (3950, 4, 2, "0.395"), (5000, 2, 2, "50.00"), (2100, 2, 0, "21"), (2150, 2, 0, "21.5"),
    (7, 0, 0, "7")])
def test_a_stored_amount_is_written_back_as_a_person_would_type_it(stored, places, least,
                                                                   text):
    assert decimal_text(stored, places, least) == text


@pytest.mark.parametrize(("typed", "amount"), [
    ("2.50", Decimal("2.50")), ("2,50", Decimal("2.50")), ("€ 2.50", Decimal("2.50")),
    ("2.50 EUR", Decimal("2.50")), (f"12{NBSP}zł", Decimal(12)), (".5", Decimal("0.5"))])
def test_a_typed_amount_is_read_exactly_with_its_sign_spaces_or_decimal_comma(typed, amount):
    assert parse_amount(typed, "EUR") == amount


@pytest.mark.parametrize("typed", ["", "abc", "1,234.50", "1.2.3", "2e3"])
def test_text_that_is_not_a_plain_number_is_refused(typed):
    with pytest.raises(AmountError):
        parse_amount(typed, "EUR")


def test_an_amount_below_zero_is_refused_as_such():
    with pytest.raises(NegativeAmount):
        parse_amount("-2.50", "EUR")


@pytest.mark.parametrize(("typed", "currency", "minor"), [
    ("2.50", "EUR", 250), ("2,5", "EUR", 250), ("12", "ISK", 12), ("€0.01", "EUR", 1)])
def test_a_typed_amount_becomes_minor_units(typed, currency, minor):
    assert minor_units(typed, currency) == minor


@pytest.mark.parametrize(("typed", "currency"), [
    ("0", "EUR"), ("-1", "EUR"), ("2.505", "EUR"), ("1.5", "ISK"), ("two", "EUR")])
def test_an_amount_that_is_not_a_positive_whole_number_of_minor_units_is_refused(typed,
                                                                                currency):
    with pytest.raises(AmountError):
        minor_units(typed, currency)
