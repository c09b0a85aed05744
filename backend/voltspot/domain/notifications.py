"""When a driver who asked to be told gets a push notification, and which one.

Pure rules over what is known of a session at a moment: no database, no network. A driver
is told four things, each at most once per device: the car is full (charging finished),
an idle fee starts soon, the session stopped at the card hold, the charger ended the
session by itself. A stop the driver made (the app's Stop, the charger's button, the
cable pulled out) or one an operator made tells them nothing new.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class NoticeKind(StrEnum):
    CAR_FULL = "car_full"
    IDLE_FEE_SOON = "idle_fee_soon"
    STOPPED_AT_HOLD = "stopped_at_hold"
    CHARGER_STOPPED = "charger_stopped"


# How long before the idle fee starts the driver is warned.
IDLE_WARNING = timedelta(minutes=5)
# A car that stops drawing power for this long is taken as full (a pause of a few seconds,
# e.g. while the car checks the charger at the start, is not).
FULL_AFTER = timedelta(minutes=1)
# A notice that could not be sent for this long is dropped: by then it is no news.
STALE_AFTER = timedelta(hours=1)

# Stop reasons (OCPP 1.6 and 2.0.1, and Voltspot's own) of a stop the driver or an
# operator made: nothing to tell. Every other reason of a session that ended is the
# charger's doing, except the car's own "I am full" reasons.
_STOPPED_BY_PEOPLE = frozenset({"Local", "Remote", "EVDisconnected", "UnlockCommand",
                                "MasterPass"})
_CAR_FULL_REASONS = frozenset({"StoppedByEV", "SOCLimitReached", "EnergyLimitReached"})


@dataclass(frozen=True)
class SessionFacts:
    """What the rules read of one session. ``ended`` when the session is over; ``stop_reason``
    as the charger (or Voltspot) gave it; ``car_paused_at`` when the car stopped drawing
    power while still plugged in (None while it draws); ``idle_fee`` whether its price has
    an idle fee, which starts ``idle_grace`` after charging ends."""

    ended: bool
    stop_reason: str | None
    car_paused_at: datetime | None
    energy_wh: int
    idle_fee: bool
    idle_grace: timedelta


def due_notices(facts: SessionFacts, now: datetime) -> list[NoticeKind]:
    """The notices due for a session at ``now`` (whether they were sent already is the
    caller's business; each kind goes once)."""
    due = []
    if facts.ended:
        if facts.stop_reason in _CAR_FULL_REASONS:
            due.append(NoticeKind.CAR_FULL)
        elif facts.stop_reason is not None and facts.stop_reason not in _STOPPED_BY_PEOPLE:
            due.append(NoticeKind.CHARGER_STOPPED)
        return due
    if facts.car_paused_at is None or facts.energy_wh <= 0:
        return due
    if now - facts.car_paused_at >= FULL_AFTER:
        due.append(NoticeKind.CAR_FULL)
    if facts.idle_fee and idle_minutes_left(facts, now) > 0 \
            and now >= facts.car_paused_at + facts.idle_grace - IDLE_WARNING:
        due.append(NoticeKind.IDLE_FEE_SOON)
    return due


def idle_minutes_left(facts: SessionFacts, now: datetime) -> int:
    """Whole minutes (rounded up) until the idle fee starts; 0 once it has, or when the car
    is still charging."""
    if facts.car_paused_at is None:
        return 0
    left = (facts.car_paused_at + facts.idle_grace - now).total_seconds()
    return max(0, math.ceil(left / 60))


def retry_delay(attempts: int, cap: timedelta = timedelta(minutes=5)) -> timedelta:
    """How long to wait before sending again after ``attempts`` failed tries: 5 s, doubling,
    at most ``cap``."""
    return min(cap, timedelta(seconds=5 * 2 ** max(0, attempts - 1)))
