"""An owner's browser against a live server: keeps its cookies, signs in, sends the CSRF
token the last page carried, and asks for htmx fragments when told their target."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

from tests.support.owner import PASSWORD


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class OwnerBrowser:
    """Signed in as ``account`` (made by ``tests.factories.make_owner``) on ``server``."""

    def __init__(self, server, account) -> None:
        self.base_url = server.base_url
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect)
        self.csrf = ""
        self.get("/owner/login")
        status, page = self.post("/owner/login", {"email": account.email,
                                                  "password": PASSWORD})
        assert status == 302, page

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self._opener.open(request, timeout=30) as response:
                status, page = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                status, page = error.code, error.read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        self.csrf = token.group(1) if token else self.csrf
        return status, page

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base_url + path))

    def post(self, path: str, form: dict[str, str] | None = None,
             target: str | None = None) -> tuple[int, str]:
        data = urllib.parse.urlencode({**(form or {}), "csrf_token": self.csrf}).encode()
        headers = {"HX-Request": "true", "HX-Target": target} if target else {}
        return self._open(urllib.request.Request(self.base_url + path, data=data,
                                                 headers=headers, method="POST"))

    def action(self, charge_point_id: str, action: str, form: dict[str, str]
               ) -> tuple[int, str]:
        """A remote action from the station's page, as its buttons send it."""
        self.get(f"/owner/stations/{charge_point_id}")
        return self.post(f"/owner/stations/{charge_point_id}/actions/{action}", form,
                         target="station-reply")
