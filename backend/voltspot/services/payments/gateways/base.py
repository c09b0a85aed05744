"""What Voltspot asks of a payment provider, in its own words: holds, captures, releases,
refunds and the events the provider sends about them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from voltspot.services.errors import ServiceError


class PaymentDeclined(ServiceError):
    """The card or the provider said no; the message is for the driver."""


class PaymentUnavailable(ServiceError):
    """The provider could not be reached or is busy; safe to try again."""


@dataclass(frozen=True)
class Hold:
    """A hold asked for. ``confirmed``: the money is held now (demo); otherwise the driver
    confirms it on our page with ``client_secret`` (Stripe Payment Element)."""

    reference: str
    amount: int
    currency: str
    confirmed: bool
    client_secret: str | None = None


@dataclass(frozen=True)
class CardOnFile:
    """The card a hold is on, as the provider names it: ``brand`` ("visa", "mastercard")
    and the last four digits."""

    brand: str
    last4: str


class HoldState(StrEnum):
    PENDING = "pending"
    HELD = "held"
    FAILED = "failed"


@dataclass(frozen=True)
class PaymentEvent:
    """A verified event from the provider, whatever its format. ``session_token`` is the
    charging session the event is about when it is about a session's hold (None for
    anything else the provider tells us); the event says only *that* the hold changed,
    its state is read back from the provider."""

    provider: str
    event_id: str
    event_type: str
    session_token: str | None


class PaymentGateway(Protocol):
    """Money movements for one session. ``idempotency_key`` makes every retry safe and
    must be unique per intent (the same key is the same request, for ever).
    Failures raise :class:`PaymentDeclined` (the driver's card said no) or
    :class:`PaymentUnavailable` (try again)."""

    provider: str
    is_demo: bool
    # The HTTP header the provider signs its webhooks in; None: it sends none.
    signature_header: str | None
    publishable_key: str | None

    def hold(self, amount: int, currency: str, description: str, idempotency_key: str,
             metadata: dict[str, str]) -> Hold:
        """Ask for ``amount`` to be authorised on the driver's card, not taken."""
        ...

    def hold_state(self, reference: str) -> HoldState:
        """Where the hold stands at the provider (the truth, whatever the browser said)."""
        ...

    def client_secret(self, reference: str) -> str | None:
        """What the payment page needs to let the driver confirm the hold."""
        ...

    def card(self, reference: str) -> CardOnFile | None:
        """The card the hold is on, when the provider tells (None: it does not, or no
        card was given yet). Raises :class:`PaymentUnavailable`."""
        ...

    def capture(self, reference: str, amount: int, idempotency_key: str) -> None:
        """Take ``amount`` (≤ the hold) and release the rest."""
        ...

    def release(self, reference: str, idempotency_key: str) -> None:
        """Release the whole hold."""
        ...

    def refund(self, reference: str, amount: int, reason: str, idempotency_key: str) -> None:
        """Give back ``amount`` of what was captured."""
        ...

    def parse_event(self, payload: bytes, signature: str) -> PaymentEvent | None:
        """The provider's webhook ``payload`` as an event, once ``signature`` proves the
        provider sent it (and recently); None for a payload that is not a valid, signed
        event of this provider."""
        ...
