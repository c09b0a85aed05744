"""Payment provider events, each handled once.

An event only tells us that something changed; what changed is read back from the
provider (:func:`~voltspot.services.driver.journey.confirm_hold`), so events arriving out of order,
twice, or before the driver's browser returns all end in the same state."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voltspot.db import Database
from voltspot.models import WebhookEvent
from voltspot.services.charger_control import ChargerControl
from voltspot.services.driver.journey import confirm_hold
from voltspot.services.errors import NotFound
from voltspot.services.payments.holds import PaymentGateway

log = logging.getLogger(__name__)

HOLD_EVENTS = {
    "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded",
    "payment_intent.canceled",
    "payment_intent.payment_failed",
    "payment_intent.requires_action",
}


def handle_stripe_event(db: Database, gateway: PaymentGateway, control: ChargerControl,
                        event) -> str:
    """Handle a verified Stripe event; returns "duplicate", "ignored" or "handled".

    The event is recorded as handled only after its handling succeeded, so when the
    provider cannot be asked right now the error propagates, Stripe retries later, and
    the retry is not mistaken for a replay."""
    with db.session() as session:
        if session.scalar(select(WebhookEvent.id).where(WebhookEvent.provider == "stripe",
                                                        WebhookEvent.event_id == event.id)):
            return "duplicate"
    outcome = _handle(db, gateway, control, event)
    try:
        with db.session() as session:
            session.add(WebhookEvent(provider="stripe", event_id=event.id, event_type=event.type))
    except IntegrityError:
        return "duplicate"
    return outcome


def _handle(db: Database, gateway: PaymentGateway, control: ChargerControl, event) -> str:
    if event.type not in HOLD_EVENTS:
        return "ignored"
    token = event.to_dict()["data"]["object"].get("metadata", {}).get("session_token")
    if not token:
        log.info("Stripe event %s for a payment that is not a charging session", event.id)
        return "ignored"
    try:
        confirm_hold(db, gateway, control, token)
    except NotFound:
        log.warning("Stripe event %s names an unknown session", event.id)
        return "ignored"
    return "handled"
