"""Timestamps as chargers write them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ocpp.exceptions import PropertyConstraintViolationError

_RFC3339 = re.compile(r"(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)?")

# Chargers whose clock was never set say 1970; nothing real happens after 2200, and
# times beyond it (year 9999) overflow the arithmetic of bills and reports.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def parse_timestamp(text: str) -> datetime:
    """An aware UTC datetime from an OCPP timestamp.

    Accepts RFC 3339 date-times as real chargers send them (``Z`` or an offset, any
    number of fraction digits, of which microseconds are kept); a time without zone is
    taken as UTC, which is what OCPP requires chargers to send. Raises
    PropertyConstraintViolation for anything else, including ISO 8601 forms RFC 3339 does
    not have (dates alone, week dates, basic format) and times outside 1970 to 2200.
    """
    match = _RFC3339.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise PropertyConstraintViolationError(
            description=f"{text!r:.80} is not an RFC 3339 timestamp")
    whole, fraction, zone = match.groups()
    try:
        value = datetime.fromisoformat(whole.replace("t", "T").replace(" ", "T")
                                       + (fraction or "")[:7]
                                       + ("+00:00" if zone in (None, "Z", "z") else zone))
        value = value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise PropertyConstraintViolationError(
            description=f"{text!r:.80} is not a valid date and time") from None
    if not EARLIEST <= value < LATEST:
        raise PropertyConstraintViolationError(
            description=f"{text!r:.80} is outside the times a charger can report")
    return value


def format_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with millisecond precision and a ``Z``, the form chargers parse best."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
