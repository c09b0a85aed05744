"""Server-sent events of the driver's live session (see :mod:`voltspot.web.sse`)."""

from __future__ import annotations

from flask import Blueprint, Response

from voltspot.cluster.events import station_topic
from voltspot.runtime import runtime
from voltspot.services import live
from voltspot.services.errors import NotFound
from voltspot.web.sse import event_stream

bp = Blueprint("live", __name__)


@bp.get("/sessions/<token>/events")
def session_events(token: str) -> Response:
    """Tells the session page when its station reports anything (meter values, plug
    status, the transaction starting or ending)."""
    rt = runtime()
    try:
        charge_point_id = live.session_station(rt.db, token)
    except NotFound as error:
        return Response(f"{error}\n", status=404, mimetype="text/plain")
    return event_stream(rt.cluster.events, [station_topic(charge_point_id)])
