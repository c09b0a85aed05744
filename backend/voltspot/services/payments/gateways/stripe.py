"""The PaymentGateway on Stripe: a PaymentIntent with ``capture_method=manual`` per
session, confirmed by the driver with the Payment Element on our page, captured at the
real cost or cancelled. Stripe's webhook signatures and event format end here too:
:meth:`StripeGateway.parse_event` turns them into a provider-neutral
:class:`~voltspot.services.payments.gateways.base.PaymentEvent`."""

from __future__ import annotations

import logging
import time

import stripe

from voltspot.services.messages import N_
from voltspot.services.payments.gateways.base import (
    CardOnFile,
    Hold,
    HoldState,
    PaymentDeclined,
    PaymentEvent,
    PaymentUnavailable,
)

log = logging.getLogger(__name__)

_FAILED = {"canceled"}
_HELD = {"requires_capture", "succeeded"}
# The PaymentIntent events that may mean a session's hold changed.
_HOLD_EVENTS = {
    "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded",
    "payment_intent.canceled",
    "payment_intent.payment_failed",
    "payment_intent.requires_action",
}


class StripeGateway:
    """Talks to Stripe with its own client (keys never in the global ``stripe`` module, so
    tests and several apps in one process do not interfere)."""

    provider = "stripe"
    is_demo = False
    signature_header = "Stripe-Signature"

    def __init__(self, secret_key: str, publishable_key: str, api_base: str | None = None,
                 max_network_retries: int = 2, webhook_secret: str = "") -> None:
        self.publishable_key = publishable_key
        self._webhook_secret = webhook_secret
        options = {"max_network_retries": max_network_retries}
        if api_base:
            options["base_addresses"] = {"api": api_base}
        self._client = stripe.StripeClient(secret_key, **options)

    def _call(self, what: str, action):
        try:
            return action()
        except stripe.CardError as error:
            reason = (error.user_message or error.code or "no reason given").rstrip(".")
            raise PaymentDeclined(N_("Your card was declined: %(reason)s. Nothing was held; "
                                     "try another card.", reason=reason)) from None
        except (stripe.APIConnectionError, stripe.RateLimitError) as error:
            log.warning("Stripe %s: %s", what, error)
            raise PaymentUnavailable(N_("The payment service is busy. Nothing was charged; "
                                        "please try again in a moment.")) from None
        except stripe.StripeError as error:
            log.warning("Stripe %s failed: %s", what, error)
            raise PaymentUnavailable(N_("The payment service could not take the request. "
                                        "Nothing was charged; please try again.")) from None

    def hold(self, amount: int, currency: str, description: str, idempotency_key: str,
             metadata: dict[str, str]) -> Hold:
        intent = self._call("hold", lambda: self._client.v1.payment_intents.create(
            params={"amount": amount, "currency": currency.lower(), "capture_method": "manual",
                    "payment_method_types": ["card"],
                    "metadata": {**metadata, "description": description}},
            options={"idempotency_key": idempotency_key}))
        return Hold(intent.id, amount, currency, confirmed=intent.status in _HELD,
                    client_secret=intent.client_secret)

    def _intent(self, reference: str):
        return self._call("retrieve", lambda: self._client.v1.payment_intents.retrieve(reference))

    def hold_state(self, reference: str) -> HoldState:
        status = self._intent(reference).status
        if status in _HELD:
            return HoldState.HELD
        if status in _FAILED:
            return HoldState.FAILED
        return HoldState.PENDING

    def client_secret(self, reference: str) -> str | None:
        return self._intent(reference).client_secret

    def card(self, reference: str) -> CardOnFile | None:
        intent = self._call("retrieve", lambda: self._client.v1.payment_intents.retrieve(
            reference, params={"expand": ["payment_method"]}))
        # Unexpanded (an id) or absent until the driver has given a card.
        method = getattr(intent, "payment_method", None)
        card = getattr(method, "card", None)
        last4 = getattr(card, "last4", None)
        if not last4:
            return None
        return CardOnFile(str(getattr(card, "brand", None) or "card"), str(last4))

    def capture(self, reference: str, amount: int, idempotency_key: str) -> None:
        if self._intent(reference).status == "succeeded":
            # Captured before we could record it (a crash in between): nothing more to take.
            return
        self._call("capture", lambda: self._client.v1.payment_intents.capture(
            reference, params={"amount_to_capture": amount},
            options={"idempotency_key": idempotency_key}))

    def release(self, reference: str, idempotency_key: str) -> None:
        intent = self._intent(reference)
        if intent.status == "canceled":
            return
        self._call("cancel", lambda: self._client.v1.payment_intents.cancel(
            reference, options={"idempotency_key": idempotency_key}))

    def refund(self, reference: str, amount: int, reason: str, idempotency_key: str) -> None:
        self._call("refund", lambda: self._client.v1.refunds.create(
            params={"payment_intent": reference, "amount": amount,
                    "metadata": {"reason": reason[:500]}},
            options={"idempotency_key": idempotency_key}))

    def parse_event(self, payload: bytes, signature: str) -> PaymentEvent | None:
        """A Stripe webhook as an event; None when the payload is not JSON or the
        signature is not ours, is older than Stripe's tolerance (a replay) or is dated
        further ahead than that tolerance (Stripe's library checks only the past). A hold
        event names its session by the ``session_token`` put in the intent's metadata."""
        if not self._webhook_secret:
            return None
        if _dated_ahead(signature):
            log.warning("Stripe webhook refused: its signature is dated in the future")
            return None
        try:
            event = stripe.Webhook.construct_event(payload, signature, self._webhook_secret)
        except (ValueError, stripe.SignatureVerificationError) as error:
            log.warning("Stripe webhook refused: %s", error)
            return None
        token = None
        if event.type in _HOLD_EVENTS:
            token = event.to_dict()["data"]["object"].get("metadata", {}).get("session_token")
        return PaymentEvent(self.provider, event.id, event.type, token or None)


def _dated_ahead(signature: str) -> bool:
    """Whether the ``t=`` of a Stripe-Signature header lies beyond Stripe's tolerance in the
    future (a header without a readable time is left to the library to refuse)."""
    for part in signature.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value) > time.time() + stripe.Webhook.DEFAULT_TOLERANCE
    return False
