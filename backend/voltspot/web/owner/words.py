"""The owner page's dates in the owner's language.

``when`` writes a moment (a UTC datetime, shown in ``timezone``) or a day (a date) by a
``strftime`` pattern: in English exactly as the pattern says ("07 Dec 2026 14:05"), in
another language the same fields the locale's way ("07.12.2026, 14:05", "7 déc. 2026
14:05"), from Babel's skeleton for the pattern's fields.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask_babel import gettext as _

from voltspot.web.i18n import DEFAULT_LANGUAGE, current_locale, number
from voltspot.web.owner import bp

# strftime fields and the CLDR skeleton letters that ask for the same ones.
_SKELETON = {"%d": "d", "%b": "MMM", "%Y": "y", "%H": "H", "%M": "mm", "%S": "ss"}


def skeleton(pattern: str) -> str:
    """The CLDR skeleton asking for ``pattern``'s fields: "%d %b %Y %H:%M" is "yMMMdHmm"."""
    fields = re.findall(r"%[a-zA-Z]", pattern)
    order = ["%Y", "%b", "%d", "%H", "%M", "%S"]
    return "".join(_SKELETON[f] for f in order if f in fields)


@bp.app_template_filter("when")
def when(value: datetime | date | None, timezone: str | None = None,
         pattern: str = "%d %b %Y %H:%M") -> str:
    """``value`` by ``pattern`` in the request's language (module docstring); "" for none."""
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone:
        value = value.astimezone(ZoneInfo(timezone))
    locale = current_locale()
    if locale.language == DEFAULT_LANGUAGE:
        return value.strftime(pattern)
    return format_skeleton(skeleton(pattern), value, locale=locale)


@bp.app_template_filter("figure")
def figure(value: float | int, decimals: int = 0, most: int | None = None) -> str:
    """A number on the owner page: in English as the pages always wrote it ("12.35" with
    ``decimals`` fixed, "%g" when only ``most`` bounds them: "22", "7.4"), in another
    language the locale's digits and separators (``i18n.number``)."""
    if current_locale().language != DEFAULT_LANGUAGE:
        return number(value, decimals, most)
    if most is None or most == decimals:
        return f"{value:.{decimals}f}"
    return f"{round(value, most):g}"


@bp.app_template_filter("bucket")
def bucket(start: date, unit: str, label: str = "") -> str:
    """A report row's day, week or month: in English the report's own ``label`` ("Mon 7
    Dec", "Week of 7 Dec 2026", "Dec 2026"), in another language the locale's words."""
    locale = current_locale()
    if locale.language == DEFAULT_LANGUAGE and label:
        return label
    if unit == "week":
        return _("Week of %(day)s", day=format_skeleton("yMMMd", start, locale=locale))
    if unit == "month":
        return format_skeleton("yMMM", start, locale=locale)
    return format_skeleton("MMMEd", start, locale=locale)
