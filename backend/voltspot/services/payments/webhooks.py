"""Payment provider events, each handled once, whatever the provider.

An event only tells us that something changed; what changed is read back from the
provider (:func:`~voltspot.services.driver.start.confirm_hold`), so events arriving out of order,
twice, or before the driver's browser returns all end in the same state."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voltspot.db import Database
from voltspot.models import WebhookEvent
from voltspot.services.charger_control import ChargerControl
from voltspot.services.driver.start import confirm_hold
from voltspot.services.errors import NotFound
from voltspot.services.payments.gateways.base import PaymentEvent, PaymentGateway

log = logging.getLogger(__name__)


def handle_event(db: Database, gateway: PaymentGateway, control: ChargerControl,
                 event: PaymentEvent) -> str:
    """Handle a verified event (see :meth:`PaymentGateway.parse_event`); returns
    "duplicate", "ignored" or "handled".

    The event is recorded as handled only after its handling succeeded, so when the
    provider cannot be asked right now the error propagates, the provider retries later,
    and the retry is not mistaken for a replay."""
    with db.session() as session:
        if session.scalar(select(WebhookEvent.id).where(
                WebhookEvent.provider == event.provider,
                WebhookEvent.event_id == event.event_id)):
            return "duplicate"
    outcome = _handle(db, gateway, control, event)
    try:
        with db.session() as session:
            session.add(WebhookEvent(provider=event.provider, event_id=event.event_id,
                                     event_type=event.event_type))
    except IntegrityError:
        return "duplicate"
    return outcome


def _handle(db: Database, gateway: PaymentGateway, control: ChargerControl,
            event: PaymentEvent) -> str:
    if event.session_token is None:
        log.info("%s event %s (%s) is not about a charging session's hold", event.provider,
                 event.event_id, event.event_type)
        return "ignored"
    try:
        confirm_hold(db, gateway, control, event.session_token)
    except NotFound:
        log.warning("%s event %s names an unknown session", event.provider, event.event_id)
        return "ignored"
    return "handled"
