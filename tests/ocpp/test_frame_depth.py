"""How deep a frame may nest: deeper than ``MAX_DEPTH`` is a FormatViolation, however
few or many brackets a shallow frame has."""

from __future__ import annotations

import json

import pytest
from ocpp.exceptions import FormatViolationError

from voltspot.ocpp.frames import MAX_DEPTH, parse_frame


def _nested(depth: int) -> str:
    # The frame's own array is the first level, its payload object the second.
    inner = "[" * (depth - 2) + "]" * (depth - 2)
    return '[2, "d1", "DataTransfer", {"vendorId": "x", "data": ' + inner + "}]"


def test_a_frame_nested_as_deep_as_allowed_is_read():
    assert parse_frame(_nested(MAX_DEPTH)).payload["vendorId"] == "x"


def test_a_frame_nested_one_level_deeper_is_a_format_violation():
    with pytest.raises(FormatViolationError):
        parse_frame(_nested(MAX_DEPTH + 1))


def test_a_shallow_frame_with_many_brackets_is_read():
    many = [{"value": str(n), "measurand": "Energy.Active.Import.Register"}
            for n in range(3 * MAX_DEPTH)]
    frame = json.dumps([2, "d2", "MeterValues", {
        "connectorId": 1, "meterValue": [{"timestamp": "2026-12-07T08:00:00Z",
                                          "sampledValue": many}],
        "note": "[" * 100}])
    assert len(parse_frame(frame).payload["meterValue"][0]["sampledValue"]) == 3 * MAX_DEPTH
