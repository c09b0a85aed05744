"""The site meter's endpoint: ``POST /meter/sites/<id>/readings`` with
``Authorization: Bearer <site meter key>`` and JSON ``{"l1": A, "l2": A, "l3": A}`` or
``{"kw": kW}``: the building's other load, which the site's cars then leave free."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from voltspot.runtime import runtime
from voltspot.services.errors import InvalidInput, NotFound
from voltspot.services.load import meter

bp = Blueprint("meter", __name__, url_prefix="/meter")


@bp.post("/sites/<int:site_id>/readings")
def reading(site_id: int):
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    body = request.get_json(silent=True)
    if scheme.lower() != "bearer" or not key:
        return jsonify(error="send Authorization: Bearer <site meter key>"), 401
    if not isinstance(body, dict):
        return jsonify(error="send a JSON object: l1, l2, l3 in amps, or kw"), 400
    try:
        meter.record_reading(runtime().db, site_id, key, body)
    except meter.MeterKeyInvalid as error:
        return jsonify(error=str(error)), 403
    except NotFound as error:
        return jsonify(error=str(error)), 404
    except InvalidInput as error:
        return jsonify(error=str(error)), 422
    runtime().load.poke(site_id)
    return jsonify(status="recorded"), 201
