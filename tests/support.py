"""Test clients that play chargers: raw OCPP-J frames, and the ``ocpp`` library's own
ChargePoint, so a bug in one library is not hidden by the same library on both sides."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
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


class LibraryChargePoint201(ChargePoint201):
    """The ``ocpp`` library's 2.0.1 charging station. Its device model is ``variables``
    ((component, variable) → value): GetVariables and SetVariables read and write it
    (``read_only`` ones are Rejected), and an accepted GetBaseReport is followed by
    NotifyReport parts of ``report_part_size`` variables, recorded in ``reports_sent``.
    ``answers`` replaces the answer to an action, as for :class:`LibraryChargePoint`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answers: dict[str, Callable[..., Any]] = {}
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.variables: dict[tuple[str, str], str] = {
            ("SampledDataCtrlr", "TxUpdatedMeasurands"): "",
            ("SampledDataCtrlr", "TxUpdatedInterval"): "0",
            ("SampledDataCtrlr", "TxEndedMeasurands"): "",
            ("OCPPCommCtrlr", "HeartbeatInterval"): "300",
            ("ChargingStation", "Model"): "Library201"}
        self.read_only: set[tuple[str, str]] = {("ChargingStation", "Model")}
        self.report_part_size = 2
        self.reports_sent: list[dict[str, Any]] = []
        self.reports_finished = 0
        self._report_accepted = False

    async def _answer(self, action: str, default: Any, **kwargs: Any) -> Any:
        self.received.append((action, kwargs))
        answer = self.answers.get(action)
        if answer is None:
            return default
        result = answer(**kwargs)
        return await result if asyncio.iscoroutine(result) else result

    def _status_of(self, component: dict, variable: dict) -> str:
        if (component["name"], variable["name"]) in self.variables:
            return "Accepted"
        if any(name == component["name"] for name, _ in self.variables):
            return "UnknownVariable"
        return "UnknownComponent"

    @on(Action201.get_variables)
    async def on_get_variables(self, get_variable_data: list[dict], **kwargs: Any):
        results = []
        for item in get_variable_data:
            status = self._status_of(item["component"], item["variable"])
            result = {"attribute_status": status, "component": item["component"],
                      "variable": item["variable"]}
            if status == "Accepted":
                result["attribute_value"] = self.variables[
                    (item["component"]["name"], item["variable"]["name"])]
            results.append(result)
        return await self._answer("GetVariables", result201.GetVariables(
            get_variable_result=results), get_variable_data=get_variable_data, **kwargs)

    @on(Action201.set_variables)
    async def on_set_variables(self, set_variable_data: list[dict], **kwargs: Any):
        results = []
        for item in set_variable_data:
            key = (item["component"]["name"], item["variable"]["name"])
            status = self._status_of(item["component"], item["variable"])
            if status == "Accepted" and key in self.read_only:
                status = "Rejected"
            if status == "Accepted":
                self.variables[key] = item["attribute_value"]
            results.append({"attribute_status": status, "component": item["component"],
                            "variable": item["variable"]})
        return await self._answer("SetVariables", result201.SetVariables(
            set_variable_result=results), set_variable_data=set_variable_data, **kwargs)

    @on(Action201.get_base_report)
    async def on_get_base_report(self, **kwargs: Any):
        answer = await self._answer("GetBaseReport", result201.GetBaseReport(status="Accepted"),
                                    **kwargs)
        self._report_accepted = answer.status == "Accepted"
        return answer

    @after(Action201.get_base_report)
    async def send_report(self, request_id: int, **_: Any) -> None:
        try:
            if self._report_accepted:
                await self._send_report(request_id)
        finally:
            self.reports_finished += 1

    async def _send_report(self, request_id: int) -> None:
        items = [{"component": {"name": component}, "variable": {"name": variable},
                  "variable_attribute": [{"type": "Actual", "value": value}],
                  "variable_characteristics": {"data_type": "string",
                                               "supports_monitoring": False}}
                 for (component, variable), value in self.variables.items()]
        parts = [items[i:i + self.report_part_size]
                 for i in range(0, len(items), self.report_part_size)]
        for seq_no, part in enumerate(parts):
            report = call201.NotifyReport(request_id=request_id, generated_at=now_iso(),
                                          seq_no=seq_no, report_data=part,
                                          tbc=seq_no < len(parts) - 1)
            await self.call(report)
            self.reports_sent.append({"seq_no": seq_no, "tbc": report.tbc, "items": len(part)})

    @on(Action201.request_start_transaction)
    async def on_request_start(self, **kwargs: Any):
        return await self._answer("RequestStartTransaction",
                                  result201.RequestStartTransaction(status="Accepted"), **kwargs)

    @on(Action201.request_stop_transaction)
    async def on_request_stop(self, **kwargs: Any):
        return await self._answer("RequestStopTransaction",
                                  result201.RequestStopTransaction(status="Accepted"), **kwargs)

    @on(Action201.reset)
    async def on_reset(self, **kwargs: Any):
        return await self._answer("Reset", result201.Reset(status="Accepted"), **kwargs)

    @on(Action201.unlock_connector)
    async def on_unlock(self, **kwargs: Any):
        return await self._answer("UnlockConnector", result201.UnlockConnector(status="Unlocked"),
                                  **kwargs)

    @on(Action201.change_availability)
    async def on_change_availability(self, **kwargs: Any):
        return await self._answer("ChangeAvailability",
                                  result201.ChangeAvailability(status="Accepted"), **kwargs)

    @on(Action201.trigger_message)
    async def on_trigger_message(self, **kwargs: Any):
        return await self._answer("TriggerMessage", result201.TriggerMessage(status="Accepted"),
                                  **kwargs)

    @on(Action201.clear_cache)
    async def on_clear_cache(self, **kwargs: Any):
        return await self._answer("ClearCache", result201.ClearCache(status="Accepted"), **kwargs)

    @on(Action201.data_transfer)
    async def on_data_transfer(self, **kwargs: Any):
        return await self._answer("DataTransfer",
                                  result201.DataTransfer(status="UnknownVendorId"), **kwargs)


class LibraryCharger201(LibraryCharger):
    """:class:`LibraryCharger` for OCPP 2.0.1: a :class:`LibraryChargePoint201` on its own
    loop, so the CSMS's post-boot configuration and the API's commands are answered while
    the test goes on."""

    async def _open(self) -> None:
        self._ws = await async_connect(self._url, subprotocols=["ocpp2.0.1"],
                                       additional_headers=self._headers)
        self.cp = LibraryChargePoint201(self.charge_point_id, self._ws, response_timeout=10)
        self._serving = asyncio.ensure_future(self.cp.start())

    def boot(self, reason: str = "PowerUp") -> Any:
        return self.send(call201.BootNotification(
            charging_station={"vendor_name": "TestVendor", "model": "Library201"},
            reason=reason))

    def configured(self, timeout: float = 5) -> None:
        """Wait until the CSMS's post-boot configuration has asked for the base report and
        the report has been sent."""
        def reported() -> bool:
            asked = sum(action == "GetBaseReport" for action, _ in self.cp.received)
            return asked > 0 and self.cp.reports_finished >= asked
        eventually(reported, timeout)

    def __exit__(self, *exc: object) -> None:
        async def close() -> None:
            # Calls still in flight (a NotifyReport after GetBaseReport) end with the socket.
            self._serving.cancel()
            await self._ws.close()
            pending = [task for task in asyncio.all_tasks()
                       if task is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
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


def run_async(main: Callable[[], Coroutine[Any, Any, Any]], timeout: float = 60) -> Any:
    """Run ``main()`` to completion on a fresh event loop in its own thread and return its
    result (re-raising its error). Not ``asyncio.run`` here: Playwright's sync API keeps an
    event loop running in the test thread once a browser test has run."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = asyncio.run(main())
        except BaseException as error:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"the scenario did not finish in {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")


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


def eventually(predicate: Callable[[], Any], seconds: float = 5, interval: float = 0.02) -> Any:
    """Poll ``predicate`` until it returns something truthy and return that; fail after
    ``seconds``. For effects the server applies beside the frame that caused them."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds} s (last: {value!r})")
        time.sleep(interval)


def in_background(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
    """Run ``function`` in a thread and return its future: an API command whose charger
    answer a raw test charger plays meanwhile."""
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(function(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - handed to the test through the future
            future.set_exception(error)
    threading.Thread(target=run, daemon=True).start()
    return future


def sampled_value(measurand: str, value: float, unit: str | None = None, *,
                  context: str = "Sample.Periodic", multiplier: int | None = None,
                  phase: str | None = None) -> dict[str, Any]:
    """One OCPP 2.0.1 sampledValue as a charger writes it (value a number, unitOfMeasure
    with its optional power-of-ten multiplier)."""
    sample: dict[str, Any] = {"value": value, "measurand": measurand, "context": context}
    if unit is not None or multiplier is not None:
        sample["unitOfMeasure"] = {
            **({"unit": unit} if unit is not None else {}),
            **({"multiplier": multiplier} if multiplier is not None else {})}
    if phase is not None:
        sample["phase"] = phase
    return sample


def transaction_event(event_type: str, transaction_id: str, seq_no: int, trigger: str, *,
                      timestamp: str | None = None, evse_id: int | None = 1,
                      state: str | None = None, id_token: str | None = None,
                      id_token_type: str = "ISO14443", stopped_reason: str | None = None,
                      remote_start_id: int | None = None, offline: bool | None = None,
                      samples: list[dict[str, Any]] | tuple = ()) -> dict[str, Any]:
    """A TransactionEventRequest payload; ``samples`` (see :func:`sampled_value`) go in one
    meterValue at the event's time."""
    at = timestamp or now_iso()
    info: dict[str, Any] = {"transactionId": transaction_id}
    if state is not None:
        info["chargingState"] = state
    if stopped_reason is not None:
        info["stoppedReason"] = stopped_reason
    if remote_start_id is not None:
        info["remoteStartId"] = remote_start_id
    payload: dict[str, Any] = {"eventType": event_type, "timestamp": at,
                               "triggerReason": trigger, "seqNo": seq_no,
                               "transactionInfo": info}
    if evse_id is not None:
        payload["evse"] = {"id": evse_id, "connectorId": 1}
    if id_token is not None:
        payload["idToken"] = {"idToken": id_token, "type": id_token_type}
    if offline is not None:
        payload["offline"] = offline
    if samples:
        payload["meterValue"] = [{"timestamp": at, "sampledValue": list(samples)}]
    return payload
