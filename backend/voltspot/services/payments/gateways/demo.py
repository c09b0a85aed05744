"""The demo gateway: the embedded default when no payment provider is configured."""

from __future__ import annotations

import logging
import uuid

from voltspot.services.payments.gateways.base import CardOnFile, Hold, HoldState, PaymentEvent

log = logging.getLogger(__name__)


class DemoGateway:
    """Every hold succeeds and no card is involved. Pages say "Demo payment — no card
    charged" wherever money shows. It sends no events, so it accepts none."""

    provider = "demo"
    is_demo = True
    signature_header = None
    publishable_key = None

    def hold(self, amount: int, currency: str, description: str, idempotency_key: str,
             metadata: dict[str, str]) -> Hold:
        reference = "demo_" + uuid.uuid5(uuid.NAMESPACE_URL, idempotency_key).hex[:24]
        log.info("demo hold %s of %s %s for %s", reference, amount, currency, description)
        return Hold(reference, amount, currency, confirmed=True)

    def hold_state(self, reference: str) -> HoldState:
        return HoldState.HELD

    def client_secret(self, reference: str) -> str | None:
        return None

    def card(self, reference: str) -> CardOnFile | None:
        return None

    def capture(self, reference: str, amount: int, idempotency_key: str) -> None:
        log.info("demo capture %s of %s", reference, amount)

    def release(self, reference: str, idempotency_key: str) -> None:
        log.info("demo release %s", reference)

    def refund(self, reference: str, amount: int, reason: str, idempotency_key: str) -> None:
        log.info("demo refund %s of %s: %s", reference, amount, reason)

    def parse_event(self, payload: bytes, signature: str) -> PaymentEvent | None:
        return None
