"""EVSE ids in eMI3 form."""

from __future__ import annotations

import pytest

from voltspot.domain.evse_ids import EvseIdError, make_evse_id, normalise_evse_id, url_safe


@pytest.mark.parametrize("typed", ["NL*VSP*E1234*1", "nl*vsp*e1234*1", "NLVSPE1234*1",
                                   "NL-VSP-E1234-1", " NL*VSP*E1234*1 ", "NL VSP E1234 1",
                                   "nl vsp e1234 1", "NL * VSP * E1234 * 1"])
def test_the_ways_people_and_scanners_write_an_evse_id_are_one_id(typed):
    assert normalise_evse_id(typed) == "NL*VSP*E1234*1"


@pytest.mark.parametrize("text", ["", "hello", "NL*VSP*1234", "N1*VSP*E1"])
def test_text_that_is_not_an_evse_id_is_refused(text):
    with pytest.raises(EvseIdError):
        normalise_evse_id(text)


def test_a_station_connector_gets_an_evse_id():
    assert make_evse_id("NL", "VSP", 7, 2) == "NL*VSP*E7*2"


def test_the_url_form_needs_no_escaping():
    assert url_safe("NL*VSP*E7*2") == "NL-VSP-E7-2"
