"""The driver's live session hears of its station's changes over server-sent events."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.support.http import command
from tests.support.raw_charger import RawCharger
from tests.support.waiting import in_background


def _next_call(charger: RawCharger, action: str) -> list:
    while True:
        frame = charger.receive(timeout=10)
        if frame[0] == 2 and frame[2] == action:
            return frame
        charger.send_raw(json.dumps([3, frame[1], {"status": "Accepted"}]))


def test_the_session_stream_tells_of_a_status_change_at_its_station(server, station):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        answer = in_background(command, server, station.charge_point_id,
                               "RemoteStartTransaction", {"idTag": "LIVE-1", "connectorId": 1})
        frame = _next_call(charger, "RemoteStartTransaction")
        charger.send_raw(json.dumps([3, frame[1], {"status": "Accepted"}]))
        token = answer.result(timeout=15)[1]["sessionToken"]
        with urllib.request.urlopen(f"{server.base_url}/sessions/{token}/events",
                                    timeout=10) as stream:
            assert stream.headers["Content-Type"].startswith("text/event-stream")
            assert stream.readline() == b"retry: 2000\n"
            assert stream.readline() == b"\n"
            charger.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                  "status": "Preparing"})
            assert stream.readline() == b"event: changed\n"
            assert stream.readline() == b"data: StatusNotification\n"


def test_a_stream_for_an_unknown_session_is_not_found(server):
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{server.base_url}/sessions/no-such-token/events", timeout=10)
    assert refused.value.code == 404
    refused.value.close()
