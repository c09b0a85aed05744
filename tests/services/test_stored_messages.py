"""A message a service keeps in the database is read back as the same message, so the
page that shows it later can still put it, values and all, into the reader's language."""

from __future__ import annotations

from voltspot.services.messages import N_, Message, restored, stored

IGNORES = N_("station %(station)s accepted %(amps)s A on plug %(plug)s but its schedule "
             "allows %(allows)s A: it ignores limits", station="CP-1", amps=16.0, plug=1,
             allows=31.8)


def test_a_message_with_values_comes_back_as_that_message():
    kept = restored(stored(IGNORES, 300))
    assert isinstance(kept, Message)
    assert (kept.text, kept.params) == (IGNORES.text, IGNORES.params)
    assert kept == "station CP-1 accepted 16 A on plug 1 but its schedule allows 31.8 A: " \
                   "it ignores limits"


def test_a_message_inside_a_message_comes_back_too():
    outer = N_("Could not apply: %(why)s", why=N_("station %(station)s is offline",
                                                   station="CP-2"))
    kept = restored(stored(outer, 300))
    assert isinstance(kept.params["why"], Message)
    assert kept == "Could not apply: station CP-2 is offline"


def test_plain_text_is_kept_as_it_is():
    assert stored("the charger reports no smart charging", 300) == \
        "the charger reports no smart charging"
    assert restored("the charger reports no smart charging") == \
        "the charger reports no smart charging"
    assert restored(None) is None


def test_a_message_too_long_for_its_column_is_kept_in_english_cut_to_fit():
    long = N_("station %(station)s answered %(action)s with %(code)s: %(description)s",
              station="CP-3", action="SetChargingProfile", code="InternalError",
              description="x" * 400)
    kept = stored(long, 300)
    assert len(kept) == 300 and kept.startswith("station CP-3 answered SetChargingProfile")
    assert restored(kept) == kept


def test_text_that_only_looks_like_a_kept_message_is_shown_as_it_is():
    assert restored('{"message": broken') == '{"message": broken'
