"""The owner's live board hears of changes at their stations over server-sent events."""

from __future__ import annotations

from tests.factories import make_owner
from tests.support.owner import sign_in
from voltspot.runtime import runtime


def test_the_board_stream_tells_of_a_change_at_a_station_on_the_board(app, db, station):
    client = sign_in(app.test_client(), make_owner(db, admin=True))
    response = client.get("/owner/events", buffered=False)
    try:
        assert response.mimetype == "text/event-stream"
        chunks = iter(response.response)
        assert next(chunks) == b"retry: 2000\n\n"
        runtime(app).station_changed(station.charge_point_id, "StatusNotification")
        assert next(chunks) == b"event: changed\ndata: StatusNotification\n\n"
    finally:
        response.close()


def test_the_board_stream_needs_a_signed_in_owner(app):
    response = app.test_client().get("/owner/events")
    assert response.status_code == 302
