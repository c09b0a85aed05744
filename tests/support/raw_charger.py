"""Chargers speaking raw OCPP-J frames over a real WebSocket (sync), so a bug in the
``ocpp`` library is not hidden by the same library on both sides."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.support.http import basic_auth

_ids = itertools.count(1)

class RawCharger:
    """A charger speaking raw OCPP-J frames over a real WebSocket (sync, for tests)."""

    def __init__(self, ws_url: str, charge_point_id: str, password: str | None,
                 subprotocols: tuple[str, ...] = ("ocpp1.6",)) -> None:
        headers = basic_auth(charge_point_id, password) if password is not None else {}
        self.ws: ClientConnection = connect(f"{ws_url}/{charge_point_id}",
                                            subprotocols=list(subprotocols),
                                            additional_headers=headers, open_timeout=5,
                                            max_size=2**22, legacy=True)

    def send_raw(self, text: str) -> None:
        self.ws.send(text)

    def receive(self, timeout: float = 5) -> list:
        return json.loads(self.ws.recv(timeout=timeout))

    def call(self, action: str, payload: dict[str, Any]) -> list:
        """Send a CALL and return the reply frame (CALLRESULT or CALLERROR). CALLs the CSMS
        sends meanwhile are answered by :meth:`answer_csms` when it has an answer."""
        unique_id = str(next(_ids))
        self.ws.send(json.dumps([2, unique_id, action, payload]))
        while True:
            reply = self.receive()
            if reply[0] == 2 and self.answer_csms(reply):
                continue
            assert reply[1] == unique_id, reply
            return reply

    def answer_csms(self, frame: list) -> bool:
        """Answer a CALL from the CSMS that arrived while waiting for a reply; False leaves
        it to the test. Plain raw chargers answer nothing."""
        return False

    def result(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Send a CALL that must succeed and return the CALLRESULT payload."""
        reply = self.call(action, payload)
        assert reply[0] == 3, reply
        return reply[2]

    def boot(self) -> dict[str, Any]:
        return self.result("BootNotification",
                           {"chargePointVendor": "TestVendor", "chargePointModel": "Raw"})

    def close(self) -> None:
        self.ws.close()

    def __enter__(self) -> RawCharger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RawCharger201(RawCharger):
    """A raw OCPP 2.0.1 charger. The CSMS configures 2.0.1 chargers after boot; this one
    answers those calls as a charger with an empty SampledDataCtrlr would, records them in
    ``csms_calls`` and leaves any other CALL to the test."""

    def __init__(self, ws_url: str, charge_point_id: str, password: str | None,
                 subprotocols: tuple[str, ...] = ("ocpp2.0.1",)) -> None:
        super().__init__(ws_url, charge_point_id, password, subprotocols)
        self.variables: dict[str, str] = {"TxUpdatedMeasurands": "", "TxUpdatedInterval": "0",
                                          "TxEndedMeasurands": ""}
        self.csms_calls: list[tuple[str, dict[str, Any]]] = []

    def boot(self, reason: str = "PowerUp") -> dict[str, Any]:
        return self.result("BootNotification", {
            "reason": reason, "chargingStation": {"vendorName": "TestVendor",
                                                  "model": "Raw201"}})

    def answer_csms(self, frame: list) -> bool:
        _, unique_id, action, payload = frame
        if action == "GetVariables":
            result = {"getVariableResult": [
                {"attributeStatus": "Accepted" if item["variable"]["name"] in self.variables
                 else "UnknownVariable", "component": item["component"],
                 "variable": item["variable"],
                 **({"attributeValue": self.variables[item["variable"]["name"]]}
                    if item["variable"]["name"] in self.variables else {})}
                for item in payload["getVariableData"]]}
        elif action == "SetVariables":
            for item in payload["setVariableData"]:
                self.variables[item["variable"]["name"]] = item["attributeValue"]
            result = {"setVariableResult": [
                {"attributeStatus": "Accepted", "component": item["component"],
                 "variable": item["variable"]} for item in payload["setVariableData"]]}
        elif action == "GetBaseReport":
            result = {"status": "Accepted"}
        else:
            return False
        self.csms_calls.append((action, payload))
        self.ws.send(json.dumps([3, unique_id, result]))
        return True

    def settle(self, until: str = "GetBaseReport", timeout: float = 5) -> None:
        """Answer the CSMS's post-boot configuration calls until it has sent ``until`` (by
        default its last one, GetBaseReport) since the previous settle, so that a test's
        own commands do not queue behind them."""
        start = getattr(self, "_settled", 0)
        deadline = time.monotonic() + timeout
        while until not in [action for action, _ in self.csms_calls[start:]]:
            frame = self.receive(timeout=max(deadline - time.monotonic(), 0.01))
            assert frame[0] == 2 and self.answer_csms(frame), f"not a configuration call: {frame}"
        self._settled = len(self.csms_calls)

    def expect_call(self, action: str, timeout: float = 5) -> list:
        """The next CALL of ``action`` from the CSMS, unanswered (configuration calls that
        arrive first are answered as usual)."""
        deadline = time.monotonic() + timeout
        while True:
            frame = self.receive(timeout=max(deadline - time.monotonic(), 0.01))
            if frame[0] == 2 and frame[2] == action:
                return frame
            assert frame[0] == 2 and self.answer_csms(frame), f"expected {action}, got {frame}"

    def reply(self, frame: list, payload: dict[str, Any]) -> None:
        """Answer the CSMS's CALL ``frame`` with a CALLRESULT."""
        self.ws.send(json.dumps([3, frame[1], payload]))

    def reply_error(self, frame: list, code: str, description: str = "") -> None:
        """Answer the CSMS's CALL ``frame`` with a CALLERROR."""
        self.ws.send(json.dumps([4, frame[1], code, description, {}]))
