"""Locations, Tariffs, Sessions and CDRs modules (we are the sender): GET lists and
objects."""

from __future__ import annotations

from flask import Response, g

from voltspot.runtime import runtime
from voltspot.services.roaming import locations
from voltspot.web.ocpi import bp
from voltspot.web.ocpi.transport import authenticated, envelope, identity, paged, window


@bp.get("/2.2.1/locations", strict_slashes=False)
@authenticated()
def location_list() -> Response:
    return paged(locations.list_locations(runtime().db, identity(), window(),
                                          g.caller.partner_id))


@bp.get("/2.2.1/locations/<location_id>", strict_slashes=False)
@bp.get("/2.2.1/locations/<location_id>/<evse_uid>", strict_slashes=False)
@bp.get("/2.2.1/locations/<location_id>/<evse_uid>/<connector_id>", strict_slashes=False)
@authenticated()
def location_object(location_id: str, evse_uid: str | None = None,
                    connector_id: str | None = None) -> Response:
    return envelope(locations.get_location(runtime().db, identity(), location_id, evse_uid,
                                           connector_id, g.caller.partner_id))


@bp.get("/2.2.1/tariffs", strict_slashes=False)
@authenticated()
def tariff_list() -> Response:
    return paged(locations.list_tariffs(runtime().db, identity(), window(),
                                        g.caller.partner_id))


@bp.get("/2.2.1/sessions", strict_slashes=False)
@authenticated()
def session_list() -> Response:
    return paged(locations.list_sessions(runtime().db, identity(), window(),
                                         g.caller.partner_id))


@bp.get("/2.2.1/cdrs", strict_slashes=False)
@authenticated()
def cdr_list() -> Response:
    return paged(locations.list_cdrs(runtime().db, window(), g.caller.partner_id))
