"""Sign-in requests on the owner page: an admin lets in or refuses the identities a
provider created; nobody else sees or decides them."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests.factories import make_owner
from tests.support.owner import csrf_of, sign_in
from voltspot.models import Owner
from voltspot.services.owner import signin

ISSUER = "https://id.example"


@pytest.fixture(scope="module")
def admin(db):
    return make_owner(db, admin=True)


@pytest.fixture
def waiting(db) -> tuple[str, str]:
    """A new identity outside the allowed domains: (subject, email), waiting."""
    subject = f"sub-{uuid.uuid4().hex[:8]}"
    email = f"{subject}@elsewhere.example"
    outcome = signin.sign_in_with_oidc(db, ISSUER, subject, email, "Wanda Waiting")
    assert outcome.refusal == signin.OidcRefusal.AWAITING_APPROVAL
    return subject, email


def _owner_id(app, db, email: str) -> int:
    with db.session() as session:
        return session.scalar(select(Owner.id).where(Owner.email == email))


def _again(db, subject: str, email: str) -> signin.OidcOutcome:
    return signin.sign_in_with_oidc(db, ISSUER, subject, email, "Wanda Waiting")


def _post(client, path: str):
    return client.post(path, data={"csrf_token": csrf_of(client)})


def test_an_admin_sees_who_waits_and_lets_them_in(app, db, admin, waiting):
    subject, email = waiting
    client = sign_in(app.test_client(), admin)
    page = client.get("/owner/sign-in-requests").get_data(as_text=True)
    assert email in page and "Wanda Waiting" in page and ISSUER in page
    assert 'href="/owner/sign-in-requests"' in client.get("/owner/").get_data(as_text=True)
    owner_id = _owner_id(app, db, email)
    answer = _post(client, f"/owner/sign-in-requests/{owner_id}/approve")
    assert answer.status_code == 302
    assert f"{email} may sign in now" in client.get(answer.headers["Location"]).get_data(
        as_text=True)
    assert email not in client.get("/owner/sign-in-requests").get_data(as_text=True)
    assert _again(db, subject, email).owner_id == owner_id


def test_a_refused_identity_stays_out_and_is_told_so(app, db, admin, waiting):
    subject, email = waiting
    client = sign_in(app.test_client(), admin)
    owner_id = _owner_id(app, db, email)
    answer = _post(client, f"/owner/sign-in-requests/{owner_id}/refuse")
    assert answer.status_code == 302
    assert f"{email} was refused" in client.get(answer.headers["Location"]).get_data(
        as_text=True)
    assert email not in client.get("/owner/sign-in-requests").get_data(as_text=True)
    outcome = _again(db, subject, email)
    assert (outcome.owner_id, outcome.refusal) == (None, signin.OidcRefusal.REFUSED)
    # Decided once: the request is gone, so it cannot be let in by a second click.
    assert _post(client, f"/owner/sign-in-requests/{owner_id}/approve").status_code == 404
    assert _again(db, subject, email).owner_id is None


def test_an_owner_who_is_not_an_admin_gets_404_and_decides_nothing(app, db, owner, waiting):
    subject, email = waiting
    client = sign_in(app.test_client(), owner)
    assert client.get("/owner/sign-in-requests").status_code == 404
    assert 'href="/owner/sign-in-requests"' not in client.get("/owner/").get_data(as_text=True)
    owner_id = _owner_id(app, db, email)
    for decision in ("approve", "refuse"):
        assert _post(client, f"/owner/sign-in-requests/{owner_id}/{decision}").status_code == 404
    assert _again(db, subject, email).refusal == signin.OidcRefusal.AWAITING_APPROVAL


def test_a_decision_without_the_csrf_token_is_refused(app, db, admin, waiting):
    subject, email = waiting
    client = sign_in(app.test_client(), admin)
    owner_id = _owner_id(app, db, email)
    assert client.post(f"/owner/sign-in-requests/{owner_id}/approve").status_code == 400
    assert _again(db, subject, email).refusal == signin.OidcRefusal.AWAITING_APPROVAL


def test_signed_out_the_list_sends_to_sign_in(app):
    answer = app.test_client().get("/owner/sign-in-requests")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/owner/login")


def test_an_owner_with_a_password_is_no_sign_in_request(app, db, admin):
    local = make_owner(db)
    client = sign_in(app.test_client(), admin)
    assert _post(client, f"/owner/sign-in-requests/{local.id}/refuse").status_code == 404
    assert local.email not in client.get("/owner/sign-in-requests").get_data(as_text=True)
