"""Chargers built on the ``ocpp`` library's own ChargePoint (1.6 and 2.0.1), each on its
own asyncio loop in a thread, with answers a test can set per action."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from websockets.asyncio.client import connect as async_connect

from tests.support.http import basic_auth
from tests.support.payloads import now_iso
from tests.support.waiting import eventually


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
