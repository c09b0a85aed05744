"""Everything templates get beyond Flask's defaults, registered in one place by
:func:`init_templating`: the filters, the globals and the htmx request helper. The filters
that depend on the driver's language (``money``, ``local_time``, ``duration`` and the
words of prices and plugs) come from :func:`voltspot.web.i18n.init_i18n`.

``ago`` and ``utc_iso`` serve the status pill and every ``data-updated-at`` element;
``static/js/app.js`` keeps the same wording fresh in the browser.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask
from flask_babel import gettext as _
from flask_htmx import HTMX

from voltspot.domain.money import major_units as _major_units
from voltspot.web.csrf import csrf_token

# ``htmx.target`` and friends describe the current request; views import this one object.
htmx = HTMX()


def relative_age(moment: datetime, now: datetime | None = None) -> str:
    """How long ago ``moment`` was, in the words drivers see: ``"just now"`` (under 5 s),
    ``"12 s ago"``, ``"5 min ago"``, ``"3 h ago"``, ``"2 d ago"``. A naive ``moment`` is
    taken as UTC; a moment in the future (clock skew) reads ``"just now"``. In the request's
    language (English outside a request). Must stay in step with ``formatAge`` in
    ``static/js/app.js``, which reads the same words from the page's ``#vs-words``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 5:
        return _("just now")
    if seconds < 60:
        return _("%(num)s s ago", num=seconds)
    if seconds < 3600:
        return _("%(num)s min ago", num=seconds // 60)
    if seconds < 86400:
        return _("%(num)s h ago", num=seconds // 3600)
    return _("%(num)s d ago", num=seconds // 86400)


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
    app.add_template_filter(relative_age, "ago")
    app.add_template_filter(utc_iso, "utc_iso")
    app.add_template_filter(major_units, "major_units")
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["demo_payments"] = demo_payments
