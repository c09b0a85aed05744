"""Server-sent events of the owner's live board and of a running session's page (see
:mod:`voltspot.web.sse`)."""

from __future__ import annotations

from flask import Response

from voltspot.cluster.events import station_topic
from voltspot.runtime import runtime
from voltspot.services.live import viewer_stations
from voltspot.services.owner import session_control
from voltspot.web.owner import bp, viewer
from voltspot.web.sse import event_stream

# A busy board changes many times a minute; refreshing it more often helps nobody.
BOARD_MIN_GAP = 2.0


@bp.get("/events")
def board_events() -> Response:
    """Tells the board when any of the owner's stations reports anything."""
    rt = runtime()
    topics = [station_topic(charge_point_id)
              for charge_point_id in viewer_stations(rt.db, viewer())]
    return event_stream(rt.cluster.events, topics, min_gap=BOARD_MIN_GAP)


@bp.get("/sessions/<int:session_id>/events")
def session_events(session_id: int) -> Response:
    """Tells a running session's page when its station reports anything."""
    rt = runtime()
    charge_point_id = session_control.session_station(rt.db, viewer(), session_id)
    return event_stream(rt.cluster.events, [station_topic(charge_point_id)])
