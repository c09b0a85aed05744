"""localstripe, a Stripe API stand-in, run as its own process on 127.0.0.1 for tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import stripe

from tests.support.server import free_port

SECRET_KEY = "sk_test_voltspot"
PUBLISHABLE_KEY = "pk_test_voltspot"
WEBHOOK_SECRET = "whsec_voltspot_test"


@contextmanager
def localstripe() -> Iterator[str]:
    """Start localstripe; yields its base address."""
    port = free_port()
    executable = shutil.which("localstripe", path=str(Path(sys.executable).parent))
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed after the process ends
    # --from-scratch: localstripe keeps its state in one fixed file, /tmp/localstripe.pickle,
    # which another instance may be writing; each test run starts empty instead.
    process = subprocess.Popen([executable, "--port", str(port), "--from-scratch"],
                               stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    # Generous: on a busy 2-core machine its import alone can take many seconds.
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(base + "/js.stripe.com/v3/", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                process.wait()
                log.seek(0)
                output = log.read().decode(errors="replace")[-2000:]
                log.close()
                raise RuntimeError("localstripe did not start:\n" + output) from None
            time.sleep(0.2)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def stripe_client(base: str) -> stripe.StripeClient:
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": base})


def confirm_with_card(base: str, intent_id: str, number: str = "4242424242424242") -> str:
    """What Stripe.js does when the driver confirms: attach a card and confirm; returns
    the PaymentIntent's new status."""
    client = stripe_client(base)
    method = client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2035,
                                 "cvc": "123"}})
    client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    return client.v1.payment_intents.confirm(intent_id).status


def taken(base: str, intent_id: str) -> int:
    """What the card was charged in the end (localstripe records the uncaptured rest of a
    partial capture as refunded)."""
    intent = stripe_client(base).v1.payment_intents.retrieve(intent_id).to_dict()
    assert intent["status"] == "succeeded"
    charge = intent["latest_charge"]
    return charge["amount"] - charge["amount_refunded"]
