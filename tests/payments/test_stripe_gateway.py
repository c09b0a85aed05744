"""The Stripe gateway against localstripe: hold, confirm, capture part, release."""

from __future__ import annotations

import pytest

from tests.support.stripe_server import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    confirm_with_card,
    localstripe,
    taken,
)
from tests.support.stripe_server import stripe_client as client_for
from voltspot.services.payments.gateways.base import HoldState
from voltspot.services.payments.gateways.stripe import StripeGateway


@pytest.fixture(scope="module")
def stripe_base():
    with localstripe() as base:
        yield base


@pytest.fixture
def gateway(stripe_base):
    return StripeGateway(SECRET_KEY, PUBLISHABLE_KEY, api_base=stripe_base)


def _hold(gateway, key):
    return gateway.hold(5000, "EUR", "Charging at Test site", idempotency_key=key,
                        metadata={"session_token": key})


def test_a_hold_is_a_manual_capture_payment_intent_waiting_for_the_driver(gateway, stripe_base):
    hold = _hold(gateway, "hold-a")
    intent = client_for(stripe_base).v1.payment_intents.retrieve(hold.reference)
    assert (intent.amount, intent.currency, intent.capture_method) == (5000, "eur", "manual")
    assert intent.metadata["session_token"] == "hold-a"
    assert not hold.confirmed and hold.client_secret
    assert gateway.hold_state(hold.reference) == HoldState.PENDING


def test_a_confirmed_hold_is_held_and_captures_only_the_real_cost(gateway, stripe_base):
    hold = _hold(gateway, "hold-c")
    assert confirm_with_card(stripe_base, hold.reference) == "requires_capture"
    assert gateway.hold_state(hold.reference) == HoldState.HELD
    gateway.capture(hold.reference, 1234, idempotency_key="capture-c")
    assert taken(stripe_base, hold.reference) == 1234


def test_a_released_hold_is_cancelled_and_releasing_again_changes_nothing(gateway, stripe_base):
    hold = _hold(gateway, "hold-d")
    confirm_with_card(stripe_base, hold.reference)
    gateway.release(hold.reference, idempotency_key="release-d")
    gateway.release(hold.reference, idempotency_key="release-d-again")
    assert gateway.hold_state(hold.reference) == HoldState.FAILED


def test_a_refund_gives_back_part_of_what_was_taken(gateway, stripe_base):
    hold = _hold(gateway, "hold-e")
    confirm_with_card(stripe_base, hold.reference)
    gateway.capture(hold.reference, 2000, idempotency_key="capture-e")
    gateway.refund(hold.reference, 500, "charger was slow", idempotency_key="refund-e")
    assert taken(stripe_base, hold.reference) == 1500
