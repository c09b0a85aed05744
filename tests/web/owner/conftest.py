"""Owner-page fixtures: the app with a real database, owners, and a signed-in client."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from voltspot.app import create_app
from voltspot.runtime import runtime
from voltspot.services.owner.accounts import create_owner

PASSWORD = "correct-horse-battery"


@pytest.fixture
def app(database_url) -> Iterator[Flask]:
    app = create_app({"database_url": database_url, "secret_key": "test-secret"})
    yield app
    runtime(app).db.dispose()


@dataclass
class OwnerAccount:
    id: int
    email: str


def make_owner(db, admin: bool = False) -> OwnerAccount:
    email = f"owner-{uuid.uuid4().hex[:8]}@example.org"
    with db.session() as session:
        owner = create_owner(session, email, PASSWORD, admin=admin)
        return OwnerAccount(owner.id, email)


@pytest.fixture
def owner(db) -> OwnerAccount:
    return make_owner(db)


@pytest.fixture
def other_owner(db) -> OwnerAccount:
    return make_owner(db)


def csrf_of(client: FlaskClient) -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    page = client.get("/owner/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client: FlaskClient, account: OwnerAccount) -> FlaskClient:
    response = client.post("/owner/login", data={
        "email": account.email, "password": PASSWORD, "csrf_token": csrf_of(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def signed_in(app, owner) -> FlaskClient:
    """A client signed in as ``owner``; post with ``data={"csrf_token": csrf_of(client)}``."""
    return sign_in(app.test_client(), owner)
