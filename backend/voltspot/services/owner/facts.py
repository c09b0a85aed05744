"""Facts inside an owner's message that the page writes the reader's way: a date or time
of day (:class:`Moment`) and a measured figure with its decimals (:class:`Figure`).

A service words "reported 07 Dec 14:05" or "40.0 kW" as a
:class:`~voltspot.services.messages.Message` whose parameter is such a fact. Its text is the
English (what a log line, the CLI or a test reads); it also carries the value, from which
the owner's page writes it in the owner's language ("7. Dez., 14:05", "40,0 kW"; see
``voltspot.web.owner.words.say_local``). A plain number parameter would lose its fixed
decimals ("40.0" becomes "40").
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


class Moment(str):
    """``moment`` (already in the site's time zone) written by ``pattern`` in English."""

    moment: date
    pattern: str

    def __new__(cls, moment: date, pattern: str) -> Moment:
        written = super().__new__(cls, moment.strftime(pattern))
        written.moment = moment
        written.pattern = pattern
        return written


def local_moment(moment: datetime, timezone: str, pattern: str) -> Moment:
    """A UTC ``moment`` as the site's local time in ``timezone``, written by ``pattern``."""
    return Moment(moment.astimezone(ZoneInfo(timezone)), pattern)


class Figure(str):
    """``value`` with exactly ``decimals`` decimals, in English digits ("40.0")."""

    value: float
    decimals: int

    def __new__(cls, value: float, decimals: int) -> Figure:
        written = super().__new__(cls, f"{value:.{decimals}f}")
        written.value = value
        written.decimals = decimals
        return written
