"""The shared form parsers and the one form error."""

from __future__ import annotations

import pytest

from voltspot.services import forms
from voltspot.services.errors import InvalidInput


def test_a_fields_text_has_its_whitespace_runs_made_one_space():
    assert forms.text({"name": "  Hotel \t de\n Paris "}, "name") == "Hotel de Paris"
    assert forms.text({}, "name") == ""


@pytest.mark.parametrize("typed, expected", [("1", 1), ("32", 32), ("0", None), ("33", None),
                                             ("two", None), ("", None), ("2.5", None)])
def test_a_whole_number_outside_its_range_or_not_one_is_none(typed, expected):
    assert forms.whole_number(typed, 1, 32) == expected


@pytest.mark.parametrize("typed, watts", [("22", 22_000), ("7,4", 7_400), ("0.5", 500),
                                          ("0", None), ("1001", None), ("nan", None),
                                          ("inf", None), ("fast", None)])
def test_kilowatts_as_typed_become_watts_only_within_the_limit(typed, watts):
    assert forms.kilowatts(typed, 1000) == watts


@pytest.mark.parametrize("typed, degrees", [("52.37", 52.37), ("-4,5", -4.5), ("90", 90.0),
                                            ("90.1", None), ("north", None)])
def test_a_coordinate_is_degrees_within_its_limit(typed, degrees):
    assert forms.coordinate(typed, 90) == degrees


def test_a_choice_is_kept_only_when_it_is_one_of_the_choices():
    assert forms.choice("EUR", ("EUR", "SEK")) == "EUR"
    assert forms.choice("eur", ("EUR", "SEK")) is None


def test_an_invalid_form_is_invalid_input_with_a_sentence_per_field_and_the_values_typed():
    invalid = forms.FormInvalid({"name": "Give it a name.", "city": "Write the city."},
                                {"name": "", "city": " "})
    assert isinstance(invalid, InvalidInput)
    assert str(invalid) == "Give it a name. Write the city."
    assert invalid.values == {"name": "", "city": " "}
