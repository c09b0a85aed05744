"""What every response carries to keep browsers on our side, and the throttles that slow
down guessing and flooding, registered by :func:`init_security`.

Headers on every response:

- ``Content-Security-Policy``: scripts only from this origin, plus the inline scripts that
  carry this response's nonce (the Jinja global ``csp_nonce()``); no inline event handlers,
  no ``eval``, no plugins. Styles may be inline (Bootstrap's and htmx's own). Map tiles (from
  ``VOLTSPOT_MAP_TILES``'s host) and,
  with Stripe, Stripe.js are the only outside sources. ``frame-ancestors 'none'`` for the
  owner page, ``'self'`` elsewhere.
- ``X-Content-Type-Options``, ``Referrer-Policy``, ``Permissions-Policy`` (the camera only
  for the scanner), ``Strict-Transport-Security`` in production.
- ``Cache-Control: no-store`` on the owner page, a driver's own session pages and every CSV
  export: shared or back-button caches must not keep someone's personal pages.

Throttles (see :mod:`voltspot.domain.throttle`): owner sign-in per account and per client
address, and driver starts per client address. With ``VOLTSPOT_REDIS_URL`` every process
of the installation shares them (:mod:`voltspot.cluster.throttles`, which also makes the
runtime's throttles of chargers at the door); without it, the process's own.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from sqlalchemy.exc import DataError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response

from voltspot.cluster.node import RedisNode
from voltspot.cluster.throttles import failure_throttle, rate_limit
from voltspot.config import Settings
from voltspot.domain.throttle import CallLimit, FailureCounter, FailureThrottle
from voltspot.runtime import runtime

MAP_TILES = "https://tile.openstreetmap.org"
# As Stripe documents for Stripe.js and the Payment Element.
STRIPE_JS = "https://js.stripe.com"
STRIPE_SCRIPTS = (STRIPE_JS, "https://*.js.stripe.com")
STRIPE_FRAMES = (*STRIPE_SCRIPTS, "https://hooks.stripe.com")
STRIPE_API = "https://api.stripe.com"
HSTS = "max-age=31536000; includeSubDomains"

# The driver's own pages: reached by an unguessable token, so nobody else's cache keeps them.
_PERSONAL_PREFIXES = ("/owner", "/sessions/", "/my-sessions")


@dataclass
class Throttles:
    """The throttles of one application. ``starts``: driver starts per client address
    (``VOLTSPOT_DRIVER_STARTS_PER_MINUTE``), so one phone cannot claim every plug. (The
    chargers' throttles are the runtime's ``station_throttles``: the OCPP gateway loads
    without the web side.)"""

    starts: CallLimit
    # Drivers' problem reports per client address (``VOLTSPOT_DRIVER_REPORTS_PER_HOUR``).
    reports: CallLimit
    sign_in_account: FailureCounter = field(default_factory=FailureThrottle)
    sign_in_address: FailureCounter = field(
        default_factory=lambda: FailureThrottle(free=SIGN_IN_ADDRESS_FREE))


# An address may hold several owners (an office): more free failures than an account.
SIGN_IN_ADDRESS_FREE = 20


def _throttles(node: RedisNode | None, settings: Settings) -> Throttles:
    """The application's throttles: shared through Redis when ``node`` is given."""
    return Throttles(
        starts=rate_limit(node, "driver-starts", settings.driver_starts_per_minute, 60),
        reports=rate_limit(node, "driver-reports", settings.driver_reports_per_hour, 3600),
        sign_in_account=failure_throttle(node, "sign-in-account"),
        sign_in_address=failure_throttle(node, "sign-in-address",
                                         free=SIGN_IN_ADDRESS_FREE))


def throttles(app: Flask | None = None) -> Throttles:
    """The :class:`Throttles` of ``app`` (default: the current app)."""
    return (app or current_app).extensions["voltspot.throttles"]


def client_address() -> str:
    """The address the request came from: behind ``VOLTSPOT_PROXIES`` reverse proxies, the
    one they forwarded (else every client would share the proxy's address and its
    limits)."""
    return request.remote_addr or "unknown"


def now() -> float:
    """The throttles' clock (monotonic: wall-clock jumps neither lock nor free anyone)."""
    return time.monotonic()


def csp_nonce() -> str:
    """This response's script nonce (a Jinja global): ``<script nonce="{{ csp_nonce() }}">``."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def public_url(path: str) -> str:
    """``path`` on the configured ``VOLTSPOT_PUBLIC_URL`` (a Jinja global): addresses
    handed to others (Stripe's return URL) never come from the request's Host header."""
    return runtime().settings.public_url.rstrip("/") + path


def tile_origin(template: str) -> str | None:
    """Where map tiles of the URL ``template`` come from, as a CSP source:
    "https://{s}.tile.example.org/{z}/{x}/{y}.png" gives "https://*.tile.example.org";
    None for no template (no map)."""
    parts = urlsplit(template.replace("{s}", "*"))
    if not template or parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(nonce: str, *, owner_page: bool, stripe: bool,
                            tiles: str | None = MAP_TILES) -> str:
    """The policy for one response; ``tiles``: the map tiles' origin (None: no map)."""
    script = ["'self'", f"'nonce-{nonce}'"] + (list(STRIPE_SCRIPTS) if stripe else [])
    frames = list(STRIPE_FRAMES) if stripe else ["'none'"]
    connect = ["'self'"] + ([STRIPE_API] if stripe else [])
    directives = {
        "default-src": ["'self'"],
        "script-src": script,
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"] + ([tiles] if tiles else []),
        "connect-src": connect,
        "frame-src": frames,
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"] if owner_page else ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def _permissions_policy(path: str, *, stripe: bool) -> str:
    camera = "(self)" if path == "/scan" else "()"
    payment = f'(self "{STRIPE_JS}")' if stripe else "()"
    return (f"camera={camera}, microphone=(), geolocation=(self), payment={payment}, "
            "usb=(), interest-cohort=()")


def _no_store(response: Response) -> bool:
    path = request.path
    return (path.startswith(_PERSONAL_PREFIXES)
            or response.mimetype == "text/csv"
            or path.endswith(".csv"))


def _secure(response: Response) -> Response:
    settings = runtime().settings
    owner_page = request.path.startswith("/owner")
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(
        csp_nonce(), owner_page=owner_page, stripe=settings.stripe_enabled,
        tiles=tile_origin(settings.map_tiles))
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Permissions-Policy"] = _permissions_policy(request.path,
                                                        stripe=settings.stripe_enabled)
    if owner_page:
        headers["X-Frame-Options"] = "DENY"
    if settings.is_production:
        headers["Strict-Transport-Security"] = HSTS
    if _no_store(response):
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    headers.pop("Server", None)
    return response


class BoundedInt(IntegerConverter):
    """``<int:…>`` in every route: a number no column can hold is no page (404), never a
    database overflow (500)."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _out_of_range(error: Exception):
    """A number from a query string or a form that no column can hold, caught where the
    database refused it (SQLite: OverflowError; PostgreSQL: a DataError): the request
    asked for nothing that exists, so 404, not 500. Views that parse numbers should bound
    them themselves; this is the net under them."""
    current_app.logger.warning("%s %s: a number out of range: %s", request.method,
                               request.path, str(error).splitlines()[0][:200])
    return Response("Nothing here: a number in the address or the form is out of range.\n",
                    status=404, mimetype="text/plain")


# The largest id a route accepts: what a 64-bit integer column holds.
MAX_ID = 2**63 - 1


def init_security(app: Flask) -> None:
    """Give every response of ``app`` the headers above, the app its throttles, and its
    routes' ``<int:…>`` a bound (call before registering blueprints)."""
    app.url_map.converters["int"] = BoundedInt
    app.register_error_handler(OverflowError, _out_of_range)
    app.register_error_handler(DataError, _out_of_range)
    settings = runtime(app).settings
    if settings.proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxies,
                                x_proto=settings.proxies)
    app.extensions["voltspot.throttles"] = _throttles(runtime(app).cluster.node, settings)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["public_url"] = public_url
    app.after_request(_secure)


def too_many(retry_after: int, body: str) -> Response:
    """A 429 answer asking the client to wait ``retry_after`` seconds."""
    return Response(body, status=429, mimetype="text/plain",
                    headers={"Retry-After": str(max(1, retry_after))})
