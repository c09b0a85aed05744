"""OCPI DateTime: RFC 3339 in UTC, ``2026-12-07T05:10:00Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def ocpi_time(moment: datetime) -> str:
    """``moment`` as an OCPI DateTime (UTC, whole seconds, ``Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ocpi_time(text: str) -> datetime:
    """An OCPI DateTime; one without a zone is UTC (the spec says all times are).
    Raises :class:`ValueError`."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
