"""Everything templates get beyond Flask's defaults, registered in one place by
:func:`init_templating`: the filters, the globals and the htmx request helper.

``ago`` and ``utc_iso`` serve the status pill and every ``data-updated-at`` element;
``static/js/app.js`` keeps the same wording fresh in the browser.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask_htmx import HTMX

from voltspot.domain.money import format_money
from voltspot.domain.money import major_units as _major_units
from voltspot.web.csrf import csrf_token

# ``htmx.target`` and friends describe the current request; views import this one object.
htmx = HTMX()


def money(amount: int | None, currency: str | None) -> str:
    """An amount in minor units with its currency, or "—" when either is unknown."""
    return "—" if amount is None or currency is None else format_money(amount, currency)


def local_time(moment: datetime | None, timezone: str = "UTC",
               pattern: str = "%d %b %Y, %H:%M") -> str:
    """``moment`` on the clock of ``timezone`` (a site's), or "" when there is none."""
    return "" if moment is None else moment.astimezone(ZoneInfo(timezone)).strftime(pattern)


def duration(span: timedelta | None) -> str:
    """A span as drivers read it: "42 min", "1 h 05 min", or "—" when unknown."""
    if span is None:
        return "—"
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def relative_age(moment: datetime, now: datetime | None = None) -> str:
    """How long ago ``moment`` was, in the words drivers see: ``"just now"`` (under 5 s),
    ``"12 s ago"``, ``"5 min ago"``, ``"3 h ago"``, ``"2 d ago"``. A naive ``moment`` is
    taken as UTC; a moment in the future (clock skew) reads ``"just now"``. Must stay in step
    with ``formatAge`` in ``static/js/app.js``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def utc_iso(moment: datetime) -> str:
    """``moment`` as an ISO 8601 string with an explicit UTC offset (browsers read a string
    without one as local time). A naive ``moment`` is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def major_units(amount: int, currency: str) -> str:
    """``amount`` in minor units as a plain decimal in major units ("2.50"), for form
    fields and CSV."""
    return str(_major_units(amount, currency))


def init_templating(app: Flask, *, demo_payments: bool) -> None:
    """Give ``app``'s templates their filters and globals, and its views ``htmx``.
    ``demo_payments`` tells the pages to say no real card is charged."""
    htmx.init_app(app)
    app.add_template_filter(money, "money")
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(relative_age, "ago")
    app.add_template_filter(utc_iso, "utc_iso")
    app.add_template_filter(major_units, "major_units")
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["demo_payments"] = demo_payments
