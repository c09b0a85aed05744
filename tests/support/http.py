"""HTTP to a live server as its clients make it: the operator API (bearer token) and
browser-like page requests (forms, htmx, no redirects followed)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

API_TOKEN = "test-api-token"


def basic_auth(charge_point_id: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{charge_point_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def api(server, method: str, path: str, body: Any = None, token: str | None = None
        ) -> tuple[int, Any]:
    """Call the live server's JSON API; returns (status, decoded body)."""
    request = urllib.request.Request(
        server.base_url + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token or API_TOKEN}",
                 "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def command(server, charge_point_id: str, action: str, payload: dict | None = None
            ) -> tuple[int, Any]:
    """POST an operator command to a station through the API."""
    return api(server, "POST", f"/api/stations/{charge_point_id}/commands/{action}",
               payload or {})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def page(server, method: str, path: str, form: dict[str, str] | None = None,
         htmx: bool = False) -> tuple[int, dict[str, str], str]:
    """A browser-like request to the live server, without following redirects; returns
    (status, headers, body text)."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    headers = {"HX-Request": "true"} if htmx else {}
    request = urllib.request.Request(server.base_url + path, data=data, method=method,
                                     headers=headers)
    try:
        with _opener.open(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read().decode()
