"""Test clients that play chargers: raw OCPP-J frames, and the ``ocpp`` library's own
ChargePoint, so a bug in one library is not hidden by the same library on both sides."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import connect as async_connect
from websockets.sync.client import ClientConnection, connect

_ids = itertools.count(1)


def basic_auth(charge_point_id: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{charge_point_id}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


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


class LibraryChargePoint(ChargePoint):
    """The ``ocpp`` library's charge point with answers a test can set per action."""

    answers: dict[str, Callable[..., Any]]
    received: list[tuple[str, dict[str, Any]]]

    async def _answer(self, action: str, default: Any, **kwargs: Any) -> Any:
        self.received.append((action, kwargs))
        answer = self.answers.get(action)
        if answer is None:
            return default
        result = answer(**kwargs)
        return await result if asyncio.iscoroutine(result) else result

    @on(Action.remote_start_transaction)
    async def on_remote_start(self, **kwargs):
        return await self._answer("RemoteStartTransaction",
                            call_result.RemoteStartTransaction(status="Accepted"), **kwargs)

    @on(Action.remote_stop_transaction)
    async def on_remote_stop(self, **kwargs):
        return await self._answer("RemoteStopTransaction",
                            call_result.RemoteStopTransaction(status="Accepted"), **kwargs)

    @on(Action.reset)
    async def on_reset(self, **kwargs):
        return await self._answer("Reset", call_result.Reset(status="Accepted"), **kwargs)

    @on(Action.unlock_connector)
    async def on_unlock(self, **kwargs):
        return await self._answer("UnlockConnector", call_result.UnlockConnector(status="Unlocked"),
                            **kwargs)

    @on(Action.change_availability)
    async def on_change_availability(self, **kwargs):
        return await self._answer("ChangeAvailability",
                            call_result.ChangeAvailability(status="Accepted"), **kwargs)

    @on(Action.get_configuration)
    async def on_get_configuration(self, **kwargs):
        known = {"HeartbeatInterval": "300", "MeterValueSampleInterval": "60"}
        keys = kwargs.get("key") or list(known)
        return await self._answer("GetConfiguration", call_result.GetConfiguration(
            configuration_key=[{"key": k, "readonly": False, "value": known[k]}
                               for k in keys if k in known],
            unknown_key=[k for k in keys if k not in known] or None), **kwargs)

    @on(Action.change_configuration)
    async def on_change_configuration(self, **kwargs):
        return await self._answer("ChangeConfiguration",
                            call_result.ChangeConfiguration(status="Accepted"), **kwargs)

    @on(Action.trigger_message)
    async def on_trigger_message(self, **kwargs):
        return await self._answer("TriggerMessage", call_result.TriggerMessage(status="Accepted"),
                            **kwargs)

    @on(Action.clear_cache)
    async def on_clear_cache(self, **kwargs):
        return await self._answer("ClearCache", call_result.ClearCache(status="Accepted"), **kwargs)

    @on(Action.data_transfer)
    async def on_data_transfer(self, **kwargs):
        return await self._answer("DataTransfer",
                            call_result.DataTransfer(status="UnknownVendorId"), **kwargs)


class LibraryCharger:
    """Runs a :class:`LibraryChargePoint` on its own asyncio loop in a thread, so a test can
    call the CSMS's HTTP API while the charger answers the commands that follow."""

    def __init__(self, ws_url: str, charge_point_id: str, password: str) -> None:
        self.charge_point_id = charge_point_id
        self._url = f"{ws_url}/{charge_point_id}"
        self._headers = basic_auth(charge_point_id, password)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.cp: LibraryChargePoint | None = None

    def __enter__(self) -> LibraryCharger:
        self._thread.start()
        self.run(self._open(), timeout=10)
        return self

    async def _open(self) -> None:
        self._ws = await async_connect(self._url, subprotocols=["ocpp1.6"],
                                       additional_headers=self._headers)
        self.cp = LibraryChargePoint(self.charge_point_id, self._ws, response_timeout=10)
        self.cp.answers, self.cp.received = {}, []
        self._serving = asyncio.ensure_future(self.cp.start())

    def run(self, coroutine, timeout: float = 15):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def send(self, payload: Any) -> Any:
        """Send a CALL with the library (validated by it) and return the result dataclass."""
        return self.run(self.cp.call(payload))

    def boot(self) -> Any:
        return self.send(call.BootNotification(charge_point_vendor="TestVendor",
                                               charge_point_model="Library"))

    def __exit__(self, *exc: object) -> None:
        async def close() -> None:
            self._serving.cancel()
            await self._ws.close()
        try:
            self.run(close(), timeout=5)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
            self.loop.close()


def api(server, method: str, path: str, body: Any = None, token: str | None = None
        ) -> tuple[int, Any]:
    """Call the live server's JSON API; returns (status, decoded body)."""
    from tests.conftest import API_TOKEN

    request = urllib.request.Request(
        server.base_url + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token or API_TOKEN}",
                 "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def command(server, charge_point_id: str, action: str, payload: dict | None = None
            ) -> tuple[int, Any]:
    """POST an operator command to a station through the API."""
    return api(server, "POST", f"/api/stations/{charge_point_id}/commands/{action}",
               payload or {})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def page(server, method: str, path: str, form: dict[str, str] | None = None,
         htmx: bool = False) -> tuple[int, dict[str, str], str]:
    """A browser-like request to the live server, without following redirects; returns
    (status, headers, body text)."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    headers = {"HX-Request": "true"} if htmx else {}
    request = urllib.request.Request(server.base_url + path, data=data, method=method,
                                     headers=headers)
    try:
        with _opener.open(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read().decode()


@contextmanager
def running(charger) -> Iterator[asyncio.AbstractEventLoop]:
    """Run a simulated ``charger`` on its own loop in a thread until the block ends;
    yields the loop, for ``asyncio.run_coroutine_threadsafe`` on the charger's helpers."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    stop = asyncio.Event()

    async def main() -> None:
        task = asyncio.create_task(charger.run())
        await stop.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    finished = asyncio.run_coroutine_threadsafe(main(), loop)
    try:
        asyncio.run_coroutine_threadsafe(asyncio.wait_for(charger.booted.wait(), 10),
                                         loop).result(15)
        yield loop
    finally:
        loop.call_soon_threadsafe(stop.set)
        finished.result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
