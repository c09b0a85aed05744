"""The receipt's payment method from Stripe (against localstripe): the card's brand and
last four digits once the driver has given a card, nothing before."""

from __future__ import annotations

import pytest

from tests.support.stripe_server import PUBLISHABLE_KEY, SECRET_KEY, confirm_with_card, localstripe
from voltspot.services.payments.gateways.base import CardOnFile
from voltspot.services.payments.gateways.stripe import StripeGateway


@pytest.fixture(scope="module")
def stripe_base():
    with localstripe() as base:
        yield base


@pytest.fixture
def gateway(stripe_base):
    return StripeGateway(SECRET_KEY, PUBLISHABLE_KEY, api_base=stripe_base)


def test_a_confirmed_hold_names_its_card(gateway, stripe_base):
    hold = gateway.hold(5000, "EUR", "Charging", idempotency_key="card-a",
                        metadata={"session_token": "card-a"})
    assert gateway.card(hold.reference) is None
    confirm_with_card(stripe_base, hold.reference, "4000056655665556")
    assert gateway.card(hold.reference) == CardOnFile("visa", "5556")
