"""Versions module: the versions we speak and the endpoints of 2.2.1."""

from __future__ import annotations

from flask import Response

from voltspot.services.roaming.identity import VERSION
from voltspot.services.roaming.partners import MODULES
from voltspot.web.ocpi import bp
from voltspot.web.ocpi.transport import authenticated, envelope, identity


@bp.get("/versions", strict_slashes=False)
@authenticated(registration=True)
def versions() -> Response:
    return envelope([{"version": VERSION, "url": identity().details_url}])


@bp.get(f"/{VERSION}", strict_slashes=False)
@authenticated(registration=True)
def version_details() -> Response:
    us = identity()
    return envelope({"version": VERSION, "endpoints": [
        {"identifier": module, "role": role, "url": us.module_url(module)}
        for module, role in MODULES]})
