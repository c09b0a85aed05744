"""Malformed frames, fixed and generated (bounded, seeded), against a live server: each gets
exactly the CALLERROR its OCPP version names, with the message id the charger can pair it
with, and the connection keeps serving."""

from __future__ import annotations

import json
import random

import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.raw_charger import RawCharger, RawCharger201

SEED = 1611
GENERATED_PER_KIND = 40

# Error codes as each version spells them.
CODES = {
    "1.6": {"format": "FormationViolation", "rpc": "ProtocolError",
            "not_rpc": "FormationViolation", "property": "PropertyConstraintViolation",
            "type": "TypeConstraintViolation"},
    "2.0.1": {"format": "FormatViolation", "rpc": "RpcFrameworkError",
              "not_rpc": "RpcFrameworkError", "property": "PropertyConstraintViolation",
              "type": "TypeConstraintViolation"},
}


def _status16(**fields) -> dict:
    return {"connectorId": 1, "errorCode": "NoError", "status": "Available", **fields}


def _status201(**fields) -> dict:
    return {"timestamp": "2025-01-01T00:00:00Z", "connectorStatus": "Available",
            "evseId": 1, "connectorId": 1, **fields}


def _fixed_cases(version: str) -> list[tuple[str | bytes, str, str]]:
    """(frame, error kind, message id expected in the answer)."""
    status = _status16 if version == "1.6" else _status201
    timed = ("StartTransaction", {"connectorId": 1, "idTag": "A", "meterStart": 0}) \
        if version == "1.6" else ("StatusNotification", _status201())
    deep = "[" * 950 + "]" * 950
    return [
        ("[[]]", "not_rpc", "-1"),
        ('[{}, "fz1", "Heartbeat", {}]', "not_rpc", "fz1"),
        ('[2.0, "fz2", "Heartbeat", {}]', "not_rpc", "fz2"),
        ('["2", "fz3", "Heartbeat", {}]', "not_rpc", "fz3"),
        ('[true, "fz4", "Heartbeat", {}]', "not_rpc", "fz4"),
        (b'[2, "fz5", "Heartbeat", {}]', "not_rpc", "-1"),
        (deep, "format", "-1"),
        ('[2, "fz6", "Heartbeat", {"a": ' + deep + "}]", "format", "fz6"),
        ('[2, "", "Heartbeat", {}]', "rpc", "-1"),
        ('[2, "' + "L" * 200 + '", "Heartbeat", {}]', "rpc", "L" * 200),
        ('[2, 17, "Heartbeat", {}]', "rpc", "-1"),
        (json.dumps([2, "fz7", "StatusNotification", status(connectorId=2**63)]),
         "property", "fz7"),
        (json.dumps([2, "fz8", "StatusNotification", status(connectorId=-2**63 - 1)]),
         "property", "fz8"),
        (json.dumps([2, "fz9", "StatusNotification", status(connectorId=2**31)]),
         "property", "fz9"),
        ('[2, "fz10", "StatusNotification", ' + json.dumps(status())[:-1]
         + ', "x": NaN}]', "format", "fz10"),
        ('[2, "fz11", "Heartbeat", {"x": Infinity}]', "format", "fz11"),
        ('[2, "fz12", "Heartbeat", {"x": 1e999}]', "property", "fz12"),
        (json.dumps([2, "fz13", "StatusNotification", status(info="a\0b")
                     if version == "1.6" else status(connectorStatus="Avail\0able")]),
         "property", "fz13"),
        ('[2, "fz14", "DataTransfer", {"vendorId": "V\\ud800"}]', "property", "fz14"),
        ('[2, "fz15", "DataTransfer", {"vendorId": "V\\udfff\\ud800x"}]', "property", "fz15"),
        *[(json.dumps([2, f"fz-t{n}", timed[0], {**timed[1], "timestamp": stamp}]),
           "property", f"fz-t{n}")
          for n, stamp in enumerate(["2025-01-01", "20250101T000000Z", "2025-W01-1T00:00:00Z",
                                     "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59Z",
                                     "2025-02-30T00:00:00Z", "2025-01-01T25:00:00Z",
                                     "yesterday", "2025-01-01T00:00:00+0100"])],
    ]


def _generated_cases(version: str, rng: random.Random) -> list[tuple[str, str, str]]:
    status = _status16 if version == "1.6" else _status201
    cases = []
    for n in range(GENERATED_PER_KIND):
        depth = rng.randint(33, 1200)
        cases.append(("[2, " + f'"g-deep{n}", "Heartbeat", ' + '{"a": ' + "[" * depth
                      + "]" * depth + "}]", "format", f"g-deep{n}"))
        kind = rng.choice(["[]", "{}", "2.0", "3.0", '"2"', "null", "false", '[2]', '{"a": 2}'])
        cases.append((f'[{kind}, "g-kind{n}", "Heartbeat", {{}}]', "not_rpc", f"g-kind{n}"))
        huge = rng.choice([1, -1]) * rng.randint(2**31, 2**80)
        cases.append((json.dumps([2, f"g-int{n}", "StatusNotification",
                                  status(connectorId=huge)]), "property", f"g-int{n}"))
        junk = "".join(rng.choice('[]{}",:0123456789abc \\') for _ in range(rng.randint(1, 40)))
        try:
            json.loads(junk)
        except ValueError:
            cases.append((junk, "format", "-1"))
        bad = rng.choice(["\\u0000", "\\ud800", "\\udbff", "\\udc00", "\\udfff"])
        cases.append((f'[2, "g-str{n}", "DataTransfer", {{"vendorId": "v{bad}"}}]', "property",
                       f"g-str{n}"))
        cases.append((f'[2, "{"x" * rng.randint(37, 500)}", "Heartbeat", {{}}]', "rpc", None))
    return cases


def _expected_id(frame: str | bytes, wanted: str | None) -> str:
    return json.loads(frame)[1] if wanted is None else wanted


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_every_malformed_frame_gets_its_exact_call_error_and_the_connection_stays_open(
        server, station, version):
    charger_class = RawCharger if version == "1.6" else RawCharger201
    cases = _fixed_cases(version) + _generated_cases(version, random.Random(SEED))
    wrong = []
    with charger_class(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        if version == "2.0.1":
            charger.settle()
        for sent, (frame, kind, wanted) in enumerate(cases, 1):
            charger.ws.send(frame)
            answer = charger.receive()
            expected = [4, _expected_id(frame, wanted), CODES[version][kind]]
            if answer[:3] != expected:
                wrong.append((frame[:80], answer[:4], expected))
            if sent % 10 == 0:
                assert "currentTime" in charger.result("Heartbeat", {})
        assert "currentTime" in charger.result("Heartbeat", {})
    assert len(cases) > 80
    assert wrong == []


def test_a_2_0_1_message_with_custom_data_is_answered_as_without_it(server, station):
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.settle()
        answer = charger.result("Heartbeat", {"customData": {"vendorId": "acme", "x": 1}})
        assert "currentTime" in answer
        assert charger.result("StatusNotification", _status201(
            customData={"vendorId": "acme"})) == {}


def test_a_frame_over_64_kib_in_bytes_but_not_in_characters_closes_with_1009(server, station):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.send_raw(json.dumps([2, "big", "DataTransfer",
                                     {"vendorId": "X", "data": "€" * 30000}],
                                    ensure_ascii=False))
        with pytest.raises(ConnectionClosed):
            charger.receive()
        assert charger.ws.close_code == 1009
