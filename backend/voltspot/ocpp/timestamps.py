"""Timestamps as chargers write them."""

from __future__ import annotations

from datetime import UTC, datetime

from ocpp.exceptions import PropertyConstraintViolationError


def parse_timestamp(text: str) -> datetime:
    """An aware UTC datetime from an OCPP timestamp.

    Accepts the RFC 3339 forms real chargers send (``Z`` or an offset, with or without
    fractions); a time without zone is taken as UTC, which is what OCPP requires chargers
    to send. Raises PropertyConstraintViolation for anything else.
    """
    try:
        value = datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise PropertyConstraintViolationError(
            description=f"{text!r} is not an RFC 3339 timestamp") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with millisecond precision and a ``Z``, the form chargers parse best."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
