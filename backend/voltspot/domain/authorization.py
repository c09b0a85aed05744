"""Whether an idTag may charge: the answer to Authorize and to the idTagInfo of transactions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from voltspot.domain.statuses import AuthorizationStatus


@dataclass(frozen=True)
class IdTagInfo:
    """OCPP 1.6 IdTagInfo: a status, and for known cards their expiry and parent tag."""

    status: AuthorizationStatus
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status == AuthorizationStatus.ACCEPTED


def card_status(blocked: bool, expires_at: datetime | None, now: datetime) -> AuthorizationStatus:
    """A known card's status at ``now``: blocked beats expired beats accepted."""
    if blocked:
        return AuthorizationStatus.BLOCKED
    if expires_at is not None and expires_at <= now:
        return AuthorizationStatus.EXPIRED
    return AuthorizationStatus.ACCEPTED
