"""The public open-data feed (AFIR art. 20, UK Public Charge Point Regulations): the
Locations and Tariffs of every published site, in OCPI form, without a token, cacheable
for a minute (statuses change; prices rarely do)."""

from __future__ import annotations

from flask import Response

from voltspot.runtime import runtime
from voltspot.services.roaming import locations
from voltspot.web.ocpi import bp
from voltspot.web.ocpi.transport import identity, paged, window

MAX_AGE = 60


def _public(response: Response) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/open/2.2.1/locations", strict_slashes=False)
def open_locations() -> Response:
    return _public(paged(locations.list_locations(runtime().db, identity(), window())))


@bp.get("/open/2.2.1/tariffs", strict_slashes=False)
def open_tariffs() -> Response:
    return _public(paged(locations.list_tariffs(runtime().db, identity(), window())))
