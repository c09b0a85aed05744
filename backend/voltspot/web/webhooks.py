"""Payment provider webhooks: verify, then hand over to the payments service."""

from __future__ import annotations

import logging

import stripe
from flask import Blueprint, jsonify, request

from voltspot.runtime import runtime
from voltspot.services.payments.holds import PaymentUnavailable
from voltspot.services.payments.webhooks import handle_stripe_event

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)


@bp.post("/stripe")
def stripe_webhook():
    settings = runtime().settings
    if not settings.stripe_enabled:
        return jsonify(error="card payments with Stripe are not configured"), 404
    payload = request.get_data()
    try:
        event = stripe.Webhook.construct_event(
            payload, request.headers.get("Stripe-Signature", ""),
            settings.stripe_webhook_secret)
    except (ValueError, stripe.SignatureVerificationError) as error:
        log.warning("Stripe webhook refused: %s", error)
        return jsonify(error="invalid payload or signature"), 400
    rt = runtime()
    try:
        outcome = handle_stripe_event(rt.db, rt.payments, rt.control, event)
    except PaymentUnavailable:
        # Stripe retries a failed delivery; by then the provider can be asked again.
        return jsonify(error="payment service unavailable, retry later"), 503
    return jsonify(outcome=outcome)
