"""When a driver who asked to be told is sent which notice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import utc
from voltspot.domain.notifications import (
    NoticeKind,
    SessionFacts,
    due_notices,
    idle_minutes_left,
    retry_delay,
)

NOW = utc(2026, 12, 7, 12, 0)


def _charging(paused_minutes_ago: float | None = None, *, energy_wh: int = 12_000,
              idle_fee: bool = False, grace_minutes: int = 30) -> SessionFacts:
    paused = None if paused_minutes_ago is None else NOW - timedelta(minutes=paused_minutes_ago)
    return SessionFacts(ended=False, stop_reason=None, car_paused_at=paused,
                        energy_wh=energy_wh, idle_fee=idle_fee,
                        idle_grace=timedelta(minutes=grace_minutes))


def _ended(reason: str | None) -> SessionFacts:
    return SessionFacts(ended=True, stop_reason=reason, car_paused_at=None, energy_wh=12_000,
                        idle_fee=True, idle_grace=timedelta(minutes=30))


def test_a_car_still_charging_is_told_nothing():
    assert due_notices(_charging(None, idle_fee=True), NOW) == []


def test_a_car_that_stopped_drawing_power_a_minute_ago_is_full():
    assert due_notices(_charging(1), NOW) == [NoticeKind.CAR_FULL]


def test_a_pause_of_seconds_is_not_a_full_car():
    assert due_notices(_charging(0.5), NOW) == []


def test_a_car_that_paused_before_taking_any_energy_is_not_full():
    assert due_notices(_charging(10, energy_wh=0), NOW) == []


@pytest.mark.parametrize(("paused_minutes_ago", "warned"), [
    (24.9, False), (25, True), (29.5, True), (30, False), (45, False)])
def test_the_idle_fee_warning_comes_in_the_five_minutes_before_the_fee(paused_minutes_ago,
                                                                      warned):
    due = due_notices(_charging(paused_minutes_ago, idle_fee=True, grace_minutes=30), NOW)
    assert (NoticeKind.IDLE_FEE_SOON in due) is warned


def test_with_a_grace_shorter_than_five_minutes_the_warning_comes_when_charging_ends():
    facts = _charging(0, idle_fee=True, grace_minutes=3)
    assert due_notices(facts, NOW) == [NoticeKind.IDLE_FEE_SOON]
    assert idle_minutes_left(facts, NOW) == 3


def test_a_price_without_an_idle_fee_warns_of_none():
    assert NoticeKind.IDLE_FEE_SOON not in due_notices(_charging(27), NOW)


def test_the_minutes_left_round_up():
    assert idle_minutes_left(_charging(25.5, grace_minutes=30), NOW) == 5


@pytest.mark.parametrize("reason", ["Local", "Remote", "EVDisconnected", "UnlockCommand"])
def test_a_stop_the_driver_or_an_operator_made_tells_nothing(reason):
    assert due_notices(_ended(reason), NOW) == []


@pytest.mark.parametrize("reason", ["PowerLoss", "EmergencyStop", "Reboot", "ConnectorFault",
                                    "NoStopFromCharger", "Other", "DeAuthorized"])
def test_a_session_the_charger_ended_by_itself_is_told(reason):
    assert due_notices(_ended(reason), NOW) == [NoticeKind.CHARGER_STOPPED]


@pytest.mark.parametrize("reason", ["StoppedByEV", "SOCLimitReached"])
def test_a_session_the_full_car_ended_is_charging_finished(reason):
    assert due_notices(_ended(reason), NOW) == [NoticeKind.CAR_FULL]


def test_an_ended_session_is_never_warned_of_an_idle_fee():
    assert due_notices(SessionFacts(True, "Local", NOW - timedelta(minutes=27), 1, True,
                                    timedelta(minutes=30)), NOW) == []


def test_retries_wait_longer_each_time_up_to_the_cap():
    waits = [retry_delay(n) for n in range(1, 10)]
    assert waits[:3] == [timedelta(seconds=5), timedelta(seconds=10), timedelta(seconds=20)]
    assert waits[-1] == timedelta(minutes=5)
    assert waits == sorted(waits)
