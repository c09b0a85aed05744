"""Payment provider webhooks: the gateway verifies and reads the event, the payments
service handles it. Nothing here knows a provider's format."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from voltspot.runtime import runtime
from voltspot.services.payments.gateways.base import PaymentUnavailable
from voltspot.services.payments.webhooks import handle_event

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


@bp.post("/<provider>")
def provider_webhook(provider: str):
    rt = runtime()
    header = rt.payments.signature_header
    if provider != rt.payments.provider or header is None:
        return jsonify(error=f"card payments with {provider} are not configured"), 404
    event = rt.payments.parse_event(request.get_data(), request.headers.get(header, ""))
    if event is None:
        return jsonify(error="invalid payload or signature"), 400
    try:
        outcome = handle_event(rt.db, rt.payments, rt.control, event)
    except PaymentUnavailable:
        # Providers retry a failed delivery; by then the provider can be asked again.
        return jsonify(error="payment service unavailable, retry later"), 503
    return jsonify(outcome=outcome)
