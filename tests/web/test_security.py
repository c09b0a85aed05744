"""Security headers on every response: a Content-Security-Policy whose scripts are this
origin's files only (no inline scripts or handlers anywhere), frames, sniffing, referrers,
permissions, HSTS in production, no server version, and no-store for personal pages."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import timedelta
from html.parser import HTMLParser

import pytest
import stripe
from sqlalchemy import select

from tests.factories import make_owner
from tests.support.owner import sign_in
from tests.support.stripe_server import PUBLISHABLE_KEY, SECRET_KEY, localstripe
from voltspot.app import create_app
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import ChargingSession, IdToken, Site, Station, utcnow
from voltspot.runtime import runtime
from voltspot.services.payments.gateways.stripe import StripeGateway
from voltspot.services.payments.reconcile import CLAIM_MINUTES, reconcile
from voltspot.services.stations.registry import register_station


@pytest.fixture
def app(database_url):
    app = create_app({"database_url": database_url, "secret_key": "test-secret"})
    yield app
    runtime(app).db.dispose()


@pytest.fixture
def owner(db):
    return make_owner(db)


@pytest.fixture
def owner_client(app, db, owner):
    """A client signed in as ``owner``, who has a site and a station."""
    charge_point_id = f"CP-SEC-{uuid.uuid4().hex[:6]}"
    with db.session() as session:
        register_station(session, site_name=f"Security site {uuid.uuid4().hex[:6]}",
                         charge_point_id=charge_point_id, connectors=1)
        station = session.scalar(select(Station).where(
            Station.charge_point_id == charge_point_id))
        session.get(Site, station.site_id).owner_id = owner.id
    return sign_in(app.test_client(), owner)


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


class _Scripts(HTMLParser):
    """Every <script> (its attributes, and whether it has a body) and every inline event
    handler attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.handlers: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        named = dict(attrs)
        if tag == "script":
            self.scripts.append(named)
        if tag == "a" and named.get("href"):
            self.links.append(named["href"])
        self.handlers += [f"<{tag} {name}>" for name, _ in attrs
                          if name.startswith("on") or name.startswith("hx-on")]


def check_page(response) -> _Scripts:
    parsed = _Scripts()
    parsed.feed(response.get_data(as_text=True))
    nonce = directives(response)["script-src"]
    assert parsed.handlers == [], response.request.path
    # Data blocks (type="application/json") are never run, so the policy does not apply.
    for script in (s for s in parsed.scripts
                   if s.get("type") in (None, "", "module", "text/javascript")):
        assert script.get("src") or f"'nonce-{script.get('nonce')}'" in nonce, (
            response.request.path, script)
    return parsed


def test_every_kind_of_response_carries_the_security_headers(app, owner_client):
    client = app.test_client()
    for response in (client.get("/"), client.get("/owner/login"), client.get("/healthz"),
                     client.get("/static/js/app.js"), client.get("/no-such-page"),
                     owner_client.get("/owner/")):
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "camera=()" in headers["Permissions-Policy"]
        policy = directives(response)
        assert policy["default-src"] == ["'self'"]
        assert "'unsafe-inline'" not in policy["script-src"]
        assert "'unsafe-eval'" not in policy["script-src"]
        assert policy["object-src"] == ["'none'"]
        assert "Strict-Transport-Security" not in headers
        response.close()


def test_owner_pages_may_not_be_framed_and_driver_pages_only_by_this_site(app, owner_client):
    assert directives(owner_client.get("/owner/"))["frame-ancestors"] == ["'none'"]
    assert directives(app.test_client().get("/owner/login"))["frame-ancestors"] == ["'none'"]
    assert directives(app.test_client().get("/"))["frame-ancestors"] == ["'self'"]


def test_only_the_scanner_may_use_the_camera(app):
    client = app.test_client()
    assert "camera=(self)" in client.get("/scan").headers["Permissions-Policy"]
    assert "camera=()" in client.get("/").headers["Permissions-Policy"]


def test_each_response_gets_a_fresh_script_nonce(app):
    client = app.test_client()
    first = directives(client.get("/"))["script-src"]
    second = directives(client.get("/"))["script-src"]
    nonces = [v for v in first + second if v.startswith("'nonce-")]
    assert len(nonces) == 2 and nonces[0] != nonces[1]


def test_production_sends_hsts(database_url):
    app = create_app({"database_url": database_url, "secret_key": "x" * 32,
                      "env": "production"})
    try:
        hsts = app.test_client().get("/healthz").headers["Strict-Transport-Security"]
        assert "max-age=31536000" in hsts
    finally:
        runtime(app).db.dispose()


def test_personal_pages_are_never_stored_by_caches(app, owner_client):
    assert owner_client.get("/owner/").headers["Cache-Control"] == "no-store"
    assert app.test_client().get("/owner/login").headers["Cache-Control"] == "no-store"
    assert app.test_client().get("/sessions/not-a-token").headers["Cache-Control"] == (
        "no-store")
    assert app.test_client().get("/my-sessions").headers["Cache-Control"] == "no-store"
    assert "no-store" not in app.test_client().get("/").headers.get("Cache-Control", "")


def test_csv_exports_are_never_stored_by_caches(owner_client):
    for path in ("/owner/sessions.csv", "/owner/cards.csv"):
        response = owner_client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_owner_pages_are_kept_out_of_htmxs_history_cache(owner_client):
    assert 'hx-history="false"' in owner_client.get("/owner/").get_data(as_text=True)


def test_no_page_has_an_inline_script_without_the_nonce_or_an_inline_handler(
        app, owner_client):
    """Every page reachable in three clicks from the driver's and the owner's start pages."""
    driver = app.test_client()
    seen: set[str] = set()
    frontier = [(driver, "/"), (driver, "/scan"), (driver, "/my-sessions"),
                (driver, "/offline"), (driver, "/owner/login"), (owner_client, "/owner/"),
                (owner_client, "/owner/tariffs/new"), (owner_client, "/owner/cards/new"),
                (owner_client, "/owner/reports/utilisation"),
                (owner_client, "/owner/reports/uptime")]
    for _ in range(3):
        following = []
        for client, path in frontier:
            if path in seen or "logout" in path or path.endswith((".csv", ".svg")):
                continue
            seen.add(path)
            response = client.get(path)
            response.close()
            if response.mimetype != "text/html":
                continue
            for link in check_page(response).links:
                if link.startswith("/") and not link.startswith("/static"):
                    following.append((client, link.split("#")[0]))
        frontier = following
    assert len(seen) > 20


def test_the_server_names_no_version(server):
    with urllib.request.urlopen(server.base_url + "/healthz", timeout=5) as response:
        assert not re.search(r"\d", response.headers.get("Server", ""))


def test_the_stripe_return_address_comes_from_the_public_url_not_the_host_header(app):
    with app.test_request_context("/", headers={"Host": "evil.example"}):
        from voltspot.web.security import public_url

        assert public_url("/sessions/t/paid") == "http://127.0.0.1:5000/sessions/t/paid"


def test_one_client_starting_again_and_again_gets_429(app):
    client = app.test_client()
    answers = [client.post("/c/NL-VSP-E99999999-1/start", data={"start_key": "k" * 16})
               for _ in range(7)]
    assert all(a.status_code != 429 for a in answers[:6])
    assert answers[6].status_code == 429 and int(answers[6].headers["Retry-After"]) >= 1


def test_the_session_page_never_shows_error_text_from_the_address(app, db, station):
    token = f"t{uuid.uuid4().hex}"
    with db.session() as session:
        stored = session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id))
        connector = stored.connectors[0]
        session.add(ChargingSession(token=token, station_id=stored.id,
                                    connector_pk=connector.id, connector_id=1,
                                    status=SessionStatus.COMPLETED, origin="driver"))
    page = app.test_client().get(f"/sessions/{token}?error=Call+0800-SCAM+now")
    assert page.status_code == 200
    # (The language links carry the address, encoded, as where to come back to.)
    assert "Call 0800-SCAM now" not in page.get_data(as_text=True)


def test_the_cards_export_escapes_cells_a_spreadsheet_would_run_as_formulas(
        owner_client, owner, db):
    tag = f"-{uuid.uuid4().hex[:8]}"
    with db.session() as session:
        session.add(IdToken(id_tag=tag, owner_id=owner.id, holder_name="=HYPERLINK(1)",
                            note="@SUM(A1)"))
    rows = list(csv.DictReader(io.StringIO(
        owner_client.get("/owner/cards.csv").get_data(as_text=True))))
    [row] = [r for r in rows if r["id_tag"].endswith(tag[1:])]
    assert (row["id_tag"], row["holder_name"], row["note"]) == (
        "'" + tag, "'=HYPERLINK(1)", "'@SUM(A1)")


BIG = "99999999999999999999"


@pytest.mark.parametrize("path", [
    f"/sites/{BIG}", f"/owner/sites/{BIG}", f"/owner/sites/{BIG}/edit",
    f"/owner/sessions/{BIG}", f"/owner/cards/{BIG}", f"/owner/tariffs/{BIG}",
    f"/owner/tariffs/{BIG}/assign", f"/owner/connectors/{BIG}/edit",
    f"/owner/sessions?before={BIG}", f"/owner/stickers?site={BIG}",
    f"/owner/stickers.svg?site={BIG}",
])
def test_a_number_no_column_holds_is_not_found_rather_than_an_error(owner_client, path):
    assert owner_client.get(path).status_code == 404


def test_the_development_secret_key_file_is_readable_by_its_owner_only(tmp_path):
    script = ("from voltspot.config import load_settings; "
              "load_settings({'database_url': 'sqlite://'}, environ={})")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOLTSPOT_")}
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60,
                   env={**env, "VOLTSPOT_INSTANCE_DIR": str(tmp_path)})
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


@pytest.fixture(scope="module")
def stripe_gateway():
    with localstripe() as base:
        yield StripeGateway(SECRET_KEY, PUBLISHABLE_KEY, api_base=base)


def test_a_plug_is_claimed_only_briefly_by_a_hold_nobody_confirms(db, station, stripe_gateway):
    def unconfirmed(minutes_ago: int, connector_pk: int, station_pk: int) -> int:
        hold = stripe_gateway.hold(5000, "EUR", "Charging", idempotency_key=uuid.uuid4().hex,
                                   metadata={})
        with db.session() as session:
            row = ChargingSession(
                token=f"t{uuid.uuid4().hex}", station_id=station_pk, connector_pk=connector_pk,
                status=SessionStatus.CREATED, origin="driver", hold_amount=5000,
                currency="EUR", payment_state=PaymentState.AUTHORISING,
                payment_reference=hold.reference, claimed_connector_pk=connector_pk,
                created_at=utcnow() - timedelta(minutes=minutes_ago))
            session.add(row)
            session.flush()
            return row.id

    with db.session() as session:
        stored = session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id))
        station_pk, plugs = stored.id, [c.id for c in stored.connectors]
    stale = unconfirmed(CLAIM_MINUTES + 1, plugs[0], station_pk)
    fresh = unconfirmed(CLAIM_MINUTES - 3, plugs[1], station_pk)
    reconcile(db, stripe_gateway, None, 10)
    with db.session() as session:
        released = session.get(ChargingSession, stale)
        kept = session.get(ChargingSession, fresh)
        assert released.status == SessionStatus.FAILED
        assert released.claimed_connector_pk is None
        assert kept.claimed_connector_pk == plugs[1]


def test_a_webhook_dated_too_far_in_the_future_is_refused():
    secret = "whsec_test_future"
    gateway = StripeGateway("sk_test_x", "pk_test_x", webhook_secret=secret)
    body = json.dumps({"id": "evt_1", "object": "event", "type": "charge.refunded",
                       "data": {"object": {"id": "ch_1", "object": "charge"}}})

    def signed(at: float) -> str:
        return stripe.WebhookSignature.generate_signature_header(body, secret,
                                                                  timestamp=int(at))

    assert gateway.parse_event(body.encode(), signed(time.time())) is not None
    assert gateway.parse_event(body.encode(), signed(time.time() + 3600)) is None


def test_behind_a_proxy_each_forwarded_client_has_its_own_start_limit(database_url):
    app = create_app({"database_url": database_url, "secret_key": "test-secret",
                      "proxies": 1})
    try:
        client = app.test_client()

        def start(address: str) -> int:
            return client.post("/c/NL-VSP-E99999999-1/start", data={"start_key": "k" * 16},
                               headers={"X-Forwarded-For": address}).status_code

        assert [start("203.0.113.1") for _ in range(7)][-1] == 429
        assert start("203.0.113.2") != 429
    finally:
        runtime(app).db.dispose()


def test_with_stripe_the_policy_lets_in_stripe_js_and_its_frames_only(database_url):
    app = create_app({"database_url": database_url, "secret_key": "test-secret",
                      "stripe_secret_key": "sk_test_x", "stripe_publishable_key": "pk_test_x",
                      "stripe_webhook_secret": "whsec_x"})
    try:
        policy = directives(app.test_client().get("/"))
        assert "https://js.stripe.com" in policy["script-src"]
        assert "https://js.stripe.com" in policy["frame-src"]
        assert "https://api.stripe.com" in policy["connect-src"]
    finally:
        runtime(app).db.dispose()
