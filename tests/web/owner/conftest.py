"""Owner-page fixtures: the app with a real database, owners, and a signed-in client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.factories import OwnerAccount, make_owner
from tests.support.owner import sign_in
from voltspot.app import create_app
from voltspot.runtime import runtime


@pytest.fixture
def app(database_url) -> Iterator[Flask]:
    app = create_app({"database_url": database_url, "secret_key": "test-secret"})
    yield app
    runtime(app).db.dispose()


@pytest.fixture
def owner(db) -> OwnerAccount:
    return make_owner(db)


@pytest.fixture
def other_owner(db) -> OwnerAccount:
    return make_owner(db)


@pytest.fixture
def signed_in(app, owner) -> FlaskClient:
    """A client signed in as ``owner``; post with ``data={"csrf_token": csrf_of(client)}``."""
    return sign_in(app.test_client(), owner)
