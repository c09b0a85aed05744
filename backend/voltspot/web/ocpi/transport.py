"""The OCPI transport for every module's views: the envelope, status codes, the token,
request and correlation ids, routing headers and pagination."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from voltspot.models import utcnow
from voltspot.runtime import runtime
from voltspot.services.errors import ServiceError
from voltspot.services.roaming import partners
from voltspot.services.roaming.errors import InvalidParameters, OcpiError
from voltspot.services.roaming.identity import VERSION, Identity
from voltspot.services.roaming.paging import MAX_LIMIT, Page, Window
from voltspot.services.roaming.timestamps import ocpi_time, parse_ocpi_time
from voltspot.web.ocpi import bp

log = logging.getLogger("voltspot.ocpi")

# Routing headers: a request's "from" party is its answer's "to" party.
_ROUTING = (("OCPI-from-country-code", "OCPI-to-country-code"),
            ("OCPI-from-party-id", "OCPI-to-party-id"),
            ("OCPI-to-country-code", "OCPI-from-country-code"),
            ("OCPI-to-party-id", "OCPI-from-party-id"))


def identity() -> Identity:
    return Identity.from_settings(runtime().settings)


def envelope(data: Any = None, *, status_code: int = 1000, message: str = "Success",
             http_status: int = 200) -> Response:
    """An OCPI response: ``data``, ``status_code``, ``status_message`` and ``timestamp``,
    with the request's X-Request-ID / X-Correlation-ID and the routing headers turned
    round."""
    body: dict[str, Any] = {"status_code": status_code, "status_message": message,
                            "timestamp": ocpi_time(utcnow())}
    if data is not None:
        body = {"data": data, **body}
    response = jsonify(body)
    response.status_code = http_status
    for header in ("X-Request-ID", "X-Correlation-ID"):
        if request.headers.get(header):
            response.headers[header] = request.headers[header]
    for incoming, outgoing in _ROUTING:
        if request.headers.get(incoming):
            response.headers[outgoing] = request.headers[incoming]
    return response


@bp.errorhandler(OcpiError)
def ocpi_error(error: OcpiError) -> Response:
    response = envelope(status_code=error.status_code, message=str(error),
                        http_status=error.http_status)
    if error.http_status == 401:
        response.headers["WWW-Authenticate"] = "Token"
    return response


@bp.errorhandler(ServiceError)
def service_error(error: ServiceError) -> Response:
    return envelope(status_code=2000, message=str(error), http_status=400)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    return envelope(status_code=2000 if (error.code or 500) < 500 else 3000,
                    message=error.description or error.name, http_status=error.code or 500)


@bp.route("/<path:unknown>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown_route(unknown: str) -> Response:
    """A path we do not serve, such as a module we do not offer (charging profiles, hub
    client info: not in our endpoints): 404 with OCPI 2000 in the envelope. Outside the
    public open-data feed the token is checked first, as for every OCPI call: none or an
    unknown one is 401, and so is token A (good for versions and credentials only)."""
    if not unknown.startswith("open/"):
        partners.authenticate(runtime().db, request.headers.get("Authorization"))
    module = unknown.removeprefix(f"{VERSION}/").split("/")[0]
    if module in partners.NOT_OFFERED:
        message = (f"this CPO does not offer the {module} module (it is not in our "
                   f"endpoints)")
    else:
        message = f"no OCPI endpoint at /ocpi/{unknown}"
    return envelope(status_code=2000, message=message, http_status=404)


def authenticated(registration: bool = False) -> Callable:
    """Views behind a partner's token (``g.caller``); ``registration``: token A works too."""
    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            g.caller = partners.authenticate(runtime().db, request.headers.get("Authorization"),
                                             registration=registration)
            return view(*args, **kwargs)
        return wrapped
    return decorate


def json_body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidParameters("the body must be a JSON object")
    return body


def window() -> Window:
    """The request's ``offset``, ``limit``, ``date_from`` and ``date_to``."""
    try:
        offset = int(request.args.get("offset", 0))
        limit = min(int(request.args.get("limit", MAX_LIMIT)), MAX_LIMIT)
        date_from = request.args.get("date_from")
        date_to = request.args.get("date_to")
        chosen = Window(offset, limit, parse_ocpi_time(date_from) if date_from else None,
                        parse_ocpi_time(date_to) if date_to else None)
    except ValueError:
        raise InvalidParameters("offset and limit are whole numbers; date_from and date_to "
                                "are times like 2026-12-07T05:00:00Z") from None
    if chosen.offset < 0 or chosen.limit < 1:
        raise InvalidParameters("offset is at least 0 and limit at least 1")
    return chosen


def paged(page: Page) -> Response:
    """A page of a list, with X-Total-Count, X-Limit and a Link to the next page."""
    response = envelope(page.items)
    response.headers["X-Total-Count"] = str(page.total)
    response.headers["X-Limit"] = str(page.limit)
    if page.has_next:
        args = {**request.args.to_dict(), "offset": page.offset + len(page.items),
                "limit": page.limit}
        # Absolute and as partners reach us (behind a proxy: the public URL).
        url = identity().base_url + request.path.removeprefix(bp.url_prefix or "")
        response.headers["Link"] = f'<{url}?{urlencode(args)}>; rel="next"'
    return response
