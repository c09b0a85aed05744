"""The receipt of a session paid through (local) Stripe names the card the driver used."""

from __future__ import annotations

import re

from ocpp.v16 import call

from tests.payments.test_stripe_flow import (  # noqa: F401 (fixtures)
    _session,
    _start,
    _wait,
    charger,
    database_url,
    db,
    server,
    stripe_base,
)
from tests.support.http import page
from tests.support.payloads import now_iso
from tests.support.stripe_server import confirm_with_card
from voltspot.domain.statuses import PaymentState


def test_the_receipt_names_the_card_stripe_took_the_payment_from(
        server, db, charger, priced, stripe_base):  # noqa: F811 (fixtures)
    token = _start(server, priced)
    reference = _session(db, token).payment_reference
    confirm_with_card(stripe_base, reference, "4000056655665556")
    page(server, "GET", f"/sessions/{token}/paid")
    id_tag = charger.cp.received[-1][1]["id_tag"]
    started = charger.send(call.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=0,
                                                 timestamp=now_iso()))
    charger.send(call.StopTransaction(meter_stop=10000, timestamp=now_iso(),
                                      transaction_id=started.transaction_id))
    _wait(lambda: _session(db, token).payment_state == PaymentState.CAPTURED)
    status, _, body = page(server, "GET", f"/sessions/{token}/receipt")
    assert status == 200
    method = re.search(r'data-testid="payment-method">([^<]+)<', body)
    assert method and method.group(1) == "Visa •••• 5556"
