"""The owner page as a browser uses it: the owners' password, the CSRF token a page carries,
and signing in (owners themselves come from ``tests.factories.make_owner``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flask.testing import FlaskClient

if TYPE_CHECKING:
    from tests.factories import OwnerAccount

PASSWORD = "correct-horse-battery"


def csrf_of(client: FlaskClient) -> str:
    """The CSRF token of the client's session, read from a page as a browser would."""
    page = client.get("/owner/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client: FlaskClient, account: OwnerAccount) -> FlaskClient:
    response = client.post("/owner/login", data={
        "email": account.email, "password": PASSWORD, "csrf_token": csrf_of(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
