"""A minimal OCPP 1.6J and 2.0.1 central system with no database and no authentication:
asyncio, ``websockets.serve`` and the library's ``ChargePoint`` of the negotiated version
with in-line validation. For 1.6 it answers BootNotification, StatusNotification,
Heartbeat, StartTransaction and MeterValues; for 2.0.1 BootNotification,
StatusNotification, Heartbeat, Authorize and TransactionEvent (idTokenInfo Accepted when an
idToken comes, as 1.6's StartTransaction gets its idTagInfo; nothing looked up). It is the
library's ceiling that the load benchmark compares Voltspot with.

Run: ``python bench/bare_csms.py --port 9000`` (listens on 127.0.0.1 only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
from datetime import UTC, datetime
from typing import Any

import ocpp.messages
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from ocpp.v201.enums import AuthorizationStatusEnumType, RegistrationStatusEnumType
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

import benchlib

# Validate in the event loop's thread: the hop to an executor costs more than it saves.
ocpp.messages.ASYNC_VALIDATION = False

_transaction_ids = itertools.count(1)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class BareChargePoint(ChargePoint):
    """Answers the messages the 1.6 benchmark sends (fleet mode included); stores
    nothing."""

    @on(Action.boot_notification)
    def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str,
                             **_: Any) -> call_result.BootNotification:
        return call_result.BootNotification(current_time=_now(), interval=300,
                                            status=RegistrationStatus.accepted)

    @on(Action.status_notification)
    def on_status_notification(self, connector_id: int, error_code: str, status: str,
                               **_: Any) -> call_result.StatusNotification:
        return call_result.StatusNotification()

    @on(Action.heartbeat)
    def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.start_transaction)
    def on_start_transaction(self, connector_id: int, id_tag: str, meter_start: int,
                             timestamp: str, **_: Any) -> call_result.StartTransaction:
        return call_result.StartTransaction(
            transaction_id=next(_transaction_ids),
            id_tag_info={"status": AuthorizationStatus.accepted})

    @on(Action.meter_values)
    def on_meter_values(self, connector_id: int, meter_value: list[dict[str, Any]],
                        **_: Any) -> call_result.MeterValues:
        return call_result.MeterValues()


class BareChargePoint201(ChargePoint201):
    """Answers what a 2.0.1 charger sends around a transaction; stores nothing."""

    @on(Action201.boot_notification)
    def on_boot_notification(self, charging_station: dict[str, Any], reason: str,
                             **_: Any) -> result201.BootNotification:
        return result201.BootNotification(
            current_time=_now(), interval=300, status=RegistrationStatusEnumType.accepted)

    @on(Action201.status_notification)
    def on_status_notification(self, timestamp: str, connector_status: str, evse_id: int,
                               connector_id: int, **_: Any
                               ) -> result201.StatusNotification:
        return result201.StatusNotification()

    @on(Action201.heartbeat)
    def on_heartbeat(self, **_: Any) -> result201.Heartbeat:
        return result201.Heartbeat(current_time=_now())

    @on(Action201.authorize)
    def on_authorize(self, id_token: dict[str, Any], **_: Any) -> result201.Authorize:
        return result201.Authorize(
            id_token_info={"status": AuthorizationStatusEnumType.accepted})

    @on(Action201.transaction_event)
    def on_transaction_event(self, event_type: str, timestamp: str, trigger_reason: str,
                             seq_no: int, transaction_info: dict[str, Any],
                             id_token: dict[str, Any] | None = None, **_: Any
                             ) -> result201.TransactionEvent:
        if id_token is None:
            return result201.TransactionEvent()
        return result201.TransactionEvent(
            id_token_info={"status": AuthorizationStatusEnumType.accepted})


CHARGE_POINTS = {"ocpp1.6": BareChargePoint, "ocpp2.0.1": BareChargePoint201}


async def _handle(connection: ServerConnection) -> None:
    charge_point_class = CHARGE_POINTS.get(connection.subprotocol or "")
    if charge_point_class is None:
        await connection.close(1002, "unsupported OCPP version")
        return
    charge_point_id = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
    with contextlib.suppress(ConnectionClosed):
        await charge_point_class(charge_point_id, connection).start()


async def _main(port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.cancel)
    async with serve(_handle, "127.0.0.1", port, subprotocols=list(CHARGE_POINTS),
                     compression=None,
                     ping_interval=None, max_size=65536, backlog=2048):
        print(f"bare CSMS listening on 127.0.0.1:{port}", flush=True)
        with contextlib.suppress(asyncio.CancelledError):
            await stop


def main() -> None:
    """Serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    benchlib.raise_nofile_limit()
    asyncio.run(_main(args.port))


if __name__ == "__main__":
    main()
