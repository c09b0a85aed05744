"""Signing in to the owner page through a real OpenID Connect provider: ``oidc-provider-mock``
(built on Authlib) serving HTTP on 127.0.0.1, with a registered client, nonces required.
Our side runs in Flask's test client; Authlib fetches discovery, the token and the keys from
the provider over HTTP, as it would from any provider."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import werkzeug.serving
from authlib.deprecate import AuthlibDeprecationWarning
from sqlalchemy import func, select

from tests.factories import make_owner
from tests.support.owner import csrf_of, sign_in
from voltspot.app import create_app
from voltspot.models import Owner
from voltspot.runtime import runtime
from voltspot.services.owner.signin import approve_owner

with warnings.catch_warnings():
    # The mock imports Authlib modules that Authlib itself now deprecates (authlib.jose
    # and its httpx client); that is the mock's business, not ours.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    import oidc_provider_mock

# The provider runs in this process, where warnings are errors; these come from the mock's
# use of Authlib's server side (Authlib deprecated the API it calls), not from our code.
pytestmark = pytest.mark.filterwarnings(
    "ignore:get_jwt_config\\(self, grant\\) is deprecated:DeprecationWarning")

# Flask's test client answers as http://localhost; the provider sends the browser back here.
CALLBACK = "http://localhost/owner/auth/callback"
FRIENDLY = "Signing in with your provider did not work. Try again."
# Identities with an email at this domain become owners without an admin's approval.
ALLOWED_DOMAIN = "fleet.example"


@dataclass
class Provider:
    """The running provider: its issuer URL, a client registered with it, and the form
    bodies of the token requests it received."""

    issuer: str
    client_id: str = ""
    client_secret: str = ""
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.issuer + path, method=method, headers={"Content-Type": "application/json"},
            data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else {}

    def add_user(self, sub: str, **claims: object) -> None:
        self.call("PUT", f"/users/{urllib.parse.quote(sub)}", claims)


class _RecordTokenRequests:
    """WSGI middleware: keeps each token request's form body, then passes it on."""

    def __init__(self, app, provider: Provider) -> None:
        self.app, self.provider = app, provider

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/oauth2/token":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            self.provider.token_requests.append(urllib.parse.parse_qs(body.decode()))
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    mock = oidc_provider_mock.app(require_client_registration=True, require_nonce=True)
    server = werkzeug.serving.make_server("127.0.0.1", 0, mock, threaded=True)
    running = Provider(f"http://127.0.0.1:{server.server_port}")
    server.app = _RecordTokenRequests(mock, running)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    client = running.call("POST", "/oauth2/clients", {"redirect_uris": [CALLBACK]})
    running.client_id, running.client_secret = client["client_id"], client["client_secret"]
    yield running
    server.shutdown()
    thread.join(5)
    server.server_close()


def oidc_app(database_url: str, provider: Provider, client_secret: str | None = None):
    return create_app({"database_url": database_url, "secret_key": "test-secret",
                       "oidc_issuer": provider.issuer, "oidc_client_id": provider.client_id,
                       "oidc_client_secret": client_secret or provider.client_secret,
                       "oidc_allowed_domains": ALLOWED_DOMAIN})


@pytest.fixture
def app(database_url, provider):
    app = oidc_app(database_url, provider)
    yield app
    runtime(app).db.dispose()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def at_provider(authorize_url: str, form: dict[str, str]) -> str:
    """Submit the provider's authorisation form as the person would; returns where the
    provider sends the browser back to."""
    request = urllib.request.Request(authorize_url, data=urllib.parse.urlencode(form).encode())
    try:
        urllib.request.build_opener(_NoRedirect).open(request, timeout=10)
    except urllib.error.HTTPError as redirect:
        with redirect:
            assert redirect.code == 302, redirect.read()
            return redirect.headers["Location"]
    raise AssertionError("the provider did not redirect back")


def local_path(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def start_sign_in(client) -> str:
    """Press "Sign in with your organisation"; returns the provider URL we are sent to."""
    response = client.get("/owner/login/oidc")
    assert response.status_code == 302
    return response.headers["Location"]


def sign_in_through_provider(client, sub: str):
    """The whole round trip for ``sub``; returns our answer to the provider's redirect."""
    back = at_provider(start_sign_in(client), {"sub": sub})
    assert back.startswith(CALLBACK + "?")
    return client.get(local_path(back))


def owners_for(db, provider: Provider, sub: str) -> list[Owner]:
    with db.session() as session:
        return list(session.scalars(select(Owner).where(Owner.oidc_issuer == provider.issuer,
                                                        Owner.oidc_subject == sub)))


def test_the_sign_in_page_offers_the_provider(app):
    page = app.test_client().get("/owner/login").get_data(as_text=True)
    assert "Sign in with your organisation" in page and "/owner/login/oidc" in page


def test_signing_in_creates_an_owner_linked_by_issuer_and_subject_and_shows_the_board(
        app, provider, db):
    sub = f"user-{uuid.uuid4().hex[:8]}"
    provider.add_user(sub, email=f"{sub}@fleet.example", email_verified=True,
                      name="Fleet Manager")
    client = app.test_client()
    response = sign_in_through_provider(client, sub)
    assert response.status_code == 302 and response.headers["Location"] == "/owner/"
    assert "Live board" in client.get("/owner/").get_data(as_text=True)
    [owner] = owners_for(db, provider, sub)
    assert (owner.email, owner.name, owner.password_hash) == (
        f"{sub}@fleet.example", "Fleet Manager", None)


def test_a_second_sign_in_finds_the_same_owner(app, provider, db):
    sub = f"user-{uuid.uuid4().hex[:8]}"
    provider.add_user(sub, email=f"{sub}@fleet.example", email_verified=True)
    sign_in_through_provider(app.test_client(), sub)
    [first] = owners_for(db, provider, sub)
    client = app.test_client()
    assert sign_in_through_provider(client, sub).status_code == 302
    assert client.get("/owner/").status_code == 200
    assert [o.id for o in owners_for(db, provider, sub)] == [first.id]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Owner).where(
            Owner.email == f"{sub}@fleet.example")) == 1


def test_a_page_opened_before_signing_in_is_shown_after_it(app, provider):
    sub = f"user-{uuid.uuid4().hex[:8]}"
    provider.add_user(sub, email=f"{sub}@fleet.example", email_verified=True)
    client = app.test_client()
    client.get("/owner/cards?state=blocked")
    response = sign_in_through_provider(client, sub)
    assert response.headers["Location"] == "/owner/cards?state=blocked"


def test_a_denied_authorisation_shows_the_friendly_message(app, db, provider):
    client = app.test_client()
    back = at_provider(start_sign_in(client), {"action": "deny"})
    assert "error=access_denied" in back
    response = client.get(local_path(back))
    assert response.headers["Location"] == "/owner/login"
    assert FRIENDLY in client.get("/owner/login").get_data(as_text=True)
    assert client.get("/owner/").status_code == 302


def test_a_token_exchange_the_provider_refuses_shows_the_friendly_message(
        database_url, provider):
    app = oidc_app(database_url, provider, client_secret="not-the-secret")
    try:
        client = app.test_client()
        response = sign_in_through_provider(client, f"user-{uuid.uuid4().hex[:8]}")
        assert response.headers["Location"] == "/owner/login"
        assert FRIENDLY in client.get("/owner/login").get_data(as_text=True)
        assert client.get("/owner/").status_code == 302
    finally:
        runtime(app).db.dispose()


def test_a_callback_whose_state_we_did_not_issue_is_refused(app, provider):
    client = app.test_client()
    back = at_provider(start_sign_in(client), {"sub": f"user-{uuid.uuid4().hex[:8]}"})
    forged = back.replace("state=", "state=forged")
    response = client.get(local_path(forged))
    assert response.headers["Location"] == "/owner/login"
    assert FRIENDLY in client.get("/owner/login").get_data(as_text=True)
    assert client.get("/owner/").status_code == 302


def test_sign_in_uses_pkce_with_s256(app, provider):
    client = app.test_client()
    authorize_url = start_sign_in(client)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"]
    sent_before = len(provider.token_requests)
    sub = f"user-{uuid.uuid4().hex[:8]}"
    provider.add_user(sub, email=f"{sub}@{ALLOWED_DOMAIN}", email_verified=True)
    back = at_provider(authorize_url, {"sub": sub})
    assert client.get(local_path(back)).headers["Location"] == "/owner/"
    [token_request] = provider.token_requests[sent_before:]
    [verifier] = token_request["code_verifier"]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    assert query["code_challenge"] == [base64.urlsafe_b64encode(digest).rstrip(b"=").decode()]


def test_the_authorisation_request_carries_a_nonce_and_the_openid_scope(app):
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(
        start_sign_in(app.test_client())).query)
    assert query["nonce"] and set(query["scope"][0].split()) >= {"openid", "email"}


def test_an_identity_with_an_existing_owners_email_does_not_sign_in_as_that_owner(
        app, provider, db):
    admin = make_owner(db, admin=True)
    sub = f"attacker-{uuid.uuid4().hex[:8]}"
    provider.add_user(sub, email=admin.email, email_verified=True)
    client = app.test_client()
    response = sign_in_through_provider(client, sub)
    assert response.headers["Location"] == "/owner/login"
    assert "already uses this email" in client.get("/owner/login").get_data(as_text=True)
    assert client.get("/owner/").status_code == 302
    assert owners_for(db, provider, sub) == []
    with db.session() as session:
        assert session.get(Owner, admin.id).oidc_subject is None


def test_an_identity_keeps_its_owners_link_when_another_claims_the_same_email(
        app, provider, db):
    first = f"user-{uuid.uuid4().hex[:8]}"
    email = f"{first}@{ALLOWED_DOMAIN}"
    provider.add_user(first, email=email, email_verified=True)
    sign_in_through_provider(app.test_client(), first)
    second = f"user-{uuid.uuid4().hex[:8]}"
    provider.add_user(second, email=email, email_verified=True)
    client = app.test_client()
    assert sign_in_through_provider(client, second).headers["Location"] == "/owner/login"
    [owner] = owners_for(db, provider, first)
    assert owner.email == email and owners_for(db, provider, second) == []


def test_an_identity_outside_the_allowed_domains_waits_for_an_admin(app, provider, db):
    sub = f"user-{uuid.uuid4().hex[:8]}"
    provider.add_user(sub, email=f"{sub}@elsewhere.example", email_verified=True)
    client = app.test_client()
    assert sign_in_through_provider(client, sub).headers["Location"] == "/owner/login"
    assert "waiting for an administrator" in client.get("/owner/login").get_data(as_text=True)
    assert client.get("/owner/").status_code == 302
    approve_owner(db, f"{sub}@elsewhere.example")
    client = app.test_client()
    assert sign_in_through_provider(client, sub).headers["Location"] == "/owner/"
    assert client.get("/owner/").status_code == 200


def test_an_admin_lets_in_a_waiting_identity_from_the_owner_page(app, provider, db):
    sub = f"user-{uuid.uuid4().hex[:8]}"
    provider.add_user(sub, email=f"{sub}@elsewhere.example", email_verified=True)
    sign_in_through_provider(app.test_client(), sub)
    [waiting] = owners_for(db, provider, sub)
    admin = sign_in(app.test_client(), make_owner(db, admin=True))
    assert waiting.email in admin.get("/owner/sign-in-requests").get_data(as_text=True)
    assert admin.post(f"/owner/sign-in-requests/{waiting.id}/approve",
                      data={"csrf_token": csrf_of(admin)}).status_code == 302
    client = app.test_client()
    assert sign_in_through_provider(client, sub).headers["Location"] == "/owner/"
    assert client.get("/owner/").status_code == 200


def test_an_identity_an_admin_refused_is_told_so_and_stays_out(app, provider, db):
    sub = f"user-{uuid.uuid4().hex[:8]}"
    provider.add_user(sub, email=f"{sub}@elsewhere.example", email_verified=True)
    sign_in_through_provider(app.test_client(), sub)
    [waiting] = owners_for(db, provider, sub)
    admin = sign_in(app.test_client(), make_owner(db, admin=True))
    assert admin.post(f"/owner/sign-in-requests/{waiting.id}/refuse",
                      data={"csrf_token": csrf_of(admin)}).status_code == 302
    client = app.test_client()
    assert sign_in_through_provider(client, sub).headers["Location"] == "/owner/login"
    assert "did not let this account in" in client.get("/owner/login").get_data(as_text=True)
    assert client.get("/owner/").status_code == 302


def test_an_owner_signed_in_with_a_password_links_an_identity_and_then_signs_in_with_it(
        app, provider, db):
    owner = make_owner(db)
    sub = f"user-{uuid.uuid4().hex[:8]}"
    provider.add_user(sub, email=f"{sub}@elsewhere.example", email_verified=True)
    client = sign_in(app.test_client(), owner)
    assert "/owner/account/link-oidc" in client.get("/owner/").get_data(as_text=True)
    response = client.post("/owner/account/link-oidc", data={"csrf_token": csrf_of(client)})
    back = at_provider(response.headers["Location"], {"sub": sub})
    assert client.get(local_path(back)).headers["Location"] == "/owner/"
    [linked] = owners_for(db, provider, sub)
    assert linked.id == owner.id
    fresh = app.test_client()
    sign_in_through_provider(fresh, sub)
    assert fresh.get("/owner/").status_code == 200
