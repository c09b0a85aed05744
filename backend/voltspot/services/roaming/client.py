"""Calls to a partner's OCPI endpoints: the token, the request and correlation ids, the
routing headers, and the envelope of the answer.

Never called while a database transaction is open (the services record intent first).
"""

from __future__ import annotations

import base64
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import requests

from voltspot.services.roaming.errors import PartnerUnreachable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """A partner's answer: HTTP status, the OCPI envelope's parts and the headers."""

    http_status: int
    status_code: int | None
    status_message: str | None
    data: Any
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        """HTTP 2xx and OCPI 1xxx: the partner took it."""
        return (200 <= self.http_status < 300 and self.status_code is not None
                and 1000 <= self.status_code < 2000)

    @property
    def retryable(self) -> bool:
        """Worth sending again later: a server error (HTTP 5xx, OCPI 3xxx), or
        throttling. A client error (HTTP 4xx, OCPI 2xxx) will fail the same way again."""
        if self.http_status >= 500 or self.http_status in (408, 429):
            return True
        return self.status_code is not None and self.status_code >= 3000

    def describe(self) -> str:
        return (f"HTTP {self.http_status}, OCPI {self.status_code}: "
                f"{self.status_message or 'no message'}")


def authorization_header(token: str, version: str | None = "2.2.1") -> str:
    """``Token <base64>`` as 2.2 requires; 2.1.1 partners get the token as it is."""
    if version and version.startswith("2.1"):
        return f"Token {token}"
    return "Token " + base64.b64encode(token.encode()).decode()


@dataclass(frozen=True)
class Routing:
    """The OCPI-from / OCPI-to party headers, so a hub can route our calls."""

    from_country_code: str
    from_party_id: str
    to_country_code: str | None = None
    to_party_id: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {"OCPI-from-country-code": self.from_country_code,
                   "OCPI-from-party-id": self.from_party_id}
        if self.to_country_code and self.to_party_id:
            headers["OCPI-to-country-code"] = self.to_country_code
            headers["OCPI-to-party-id"] = self.to_party_id
        return headers


def call(method: str, url: str, token: str, *, body: Any = None, version: str | None = "2.2.1",
         routing: Routing | None = None, timeout: float = 10.0,
         params: dict[str, Any] | None = None) -> Answer:
    """Send one OCPI request and return the answer (any HTTP status).

    Raises :class:`PartnerUnreachable` when there is no answer in ``timeout`` seconds, or
    the answer is not JSON.
    """
    request_id = str(uuid.uuid4())
    headers = {"Authorization": authorization_header(token, version),
               "X-Request-ID": request_id, "X-Correlation-ID": request_id,
               "Accept": "application/json"}
    if routing is not None:
        headers.update(routing.headers())
    try:
        response = requests.request(method, url, json=body, headers=headers, timeout=timeout,
                                    params=params)
    except requests.RequestException as error:
        raise PartnerUnreachable(f"{method} {url}: {type(error).__name__}") from error
    try:
        envelope = response.json() if response.content else {}
    except ValueError:
        raise PartnerUnreachable(f"{method} {url}: HTTP {response.status_code}, "
                                 f"not a JSON answer") from None
    if not isinstance(envelope, dict):
        envelope = {}
    status_code = envelope.get("status_code")
    return Answer(response.status_code, status_code if isinstance(status_code, int) else None,
                  envelope.get("status_message"), envelope.get("data"),
                  dict(response.headers))
