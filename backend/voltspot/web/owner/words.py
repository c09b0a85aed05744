"""The owner page's dates in the owner's language.

``when`` writes a moment (a UTC datetime, shown in ``timezone``) or a day (a date) by a
``strftime`` pattern: in English exactly as the pattern says ("07 Dec 2026 14:05"), in
another language the same fields the locale's way ("7. Dez. 2026, 14:05", "7 déc. 2026,
14:05"), the date from Babel's skeleton for the pattern's date fields. ``bucket`` names a
report row's day, week or month the same way; ``figure`` writes a number; ``say_local``
puts what a service said into the owner's language as ``say`` does, its dates, times and
figures (:mod:`voltspot.services.owner.facts`) written by ``when`` and ``figure``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask_babel import gettext as _

from voltspot.services.messages import Message
from voltspot.services.owner.facts import Figure, Moment
from voltspot.web.i18n import DEFAULT_LANGUAGE, current_locale, number, translate
from voltspot.web.owner import bp

# strftime date fields and the CLDR skeleton letters that ask for the same ones.
_DATE_SKELETON = {"%Y": "y", "%b": "MMM", "%d": "d"}


def skeleton(pattern: str) -> str:
    """The CLDR date skeleton asking for ``pattern``'s date fields: "%d %b %Y %H:%M" is
    "yMMMd"; "" when the pattern has no date."""
    return "".join(letter for field, letter in _DATE_SKELETON.items() if field in pattern)


@bp.app_template_filter("when")
def when(value: datetime | date | None, timezone: str | None = None,
         pattern: str = "%d %b %Y %H:%M") -> str:
    """``value`` by ``pattern`` in the request's language (module docstring); "" for none.
    The date is the locale's for the pattern's date fields, the time of day is written
    with the pattern's hours, minutes and seconds (the same digits everywhere), and the two
    are joined as the locale joins them."""
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone:
        value = value.astimezone(ZoneInfo(timezone))
    locale = current_locale()
    if locale.language == DEFAULT_LANGUAGE:
        return value.strftime(pattern)
    day = format_skeleton(skeleton(pattern), value, locale=locale) if skeleton(pattern) else ""
    clock = ""
    if isinstance(value, datetime) and "%H" in pattern:
        clock = value.strftime("%H:%M:%S" if "%S" in pattern else "%H:%M")
    if day and clock:
        return str(locale.datetime_formats["medium"]).replace("{1}", day).replace("{0}", clock)
    return day or clock


@bp.app_template_filter("figure")
def figure(value: float | int, decimals: int = 0, most: int | None = None) -> str:
    """A number on the owner page: in English as the pages always wrote it ("12.35" with
    ``decimals`` fixed, "%g" when only ``most`` bounds them: "22", "7.4"), in another
    language the locale's digits and separators (``i18n.number``)."""
    if current_locale().language != DEFAULT_LANGUAGE:
        # Rounded half up, as the English figures are, so a figure reads the same number.
        places = decimals if most is None else most
        rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
        return number(rounded, decimals, most)
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


def _local(message: object) -> object:
    """``message`` with each :class:`Moment` and :class:`Figure` among its parameters
    (nested messages' too) written for the request's locale."""
    if isinstance(message, Moment):
        return when(message.moment, None, message.pattern)
    if isinstance(message, Figure):
        return figure(message.value, message.decimals)
    if not isinstance(message, Message) or not message.params:
        return message
    return Message(message.text, {name: _local(value)
                                  for name, value in message.params.items()})


@bp.app_template_filter("say_local")
def say_local(message: Message | str | None) -> str:
    """What a service said (``say``), its moments and figures the locale's way ("7. Dez.,
    14:05", "40,0 kW")."""
    return translate(_local(message))  # type: ignore[arg-type]
