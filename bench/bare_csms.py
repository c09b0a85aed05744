"""A minimal OCPP 1.6J central system with no database and no authentication: asyncio,
``websockets.serve`` and ``ocpp.v16.ChargePoint`` with in-line validation. It answers
BootNotification, StartTransaction and MeterValues, and is the library's ceiling that the
load benchmark compares Voltspot with.

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
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

import benchlib

# Validate in the event loop's thread: the hop to an executor costs more than it saves.
ocpp.messages.ASYNC_VALIDATION = False

_transaction_ids = itertools.count(1)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class BareChargePoint(ChargePoint):
    """Answers the three messages the benchmark sends; stores nothing."""

    @on(Action.boot_notification)
    def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str,
                             **_: Any) -> call_result.BootNotification:
        return call_result.BootNotification(current_time=_now(), interval=300,
                                            status=RegistrationStatus.accepted)

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


async def _handle(connection: ServerConnection) -> None:
    if connection.subprotocol != "ocpp1.6":
        await connection.close(1002, "unsupported OCPP version")
        return
    charge_point_id = connection.request.path.rstrip("/").rsplit("/", 1)[-1]
    with contextlib.suppress(ConnectionClosed):
        await BareChargePoint(charge_point_id, connection).start()


async def _main(port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.cancel)
    async with serve(_handle, "127.0.0.1", port, subprotocols=["ocpp1.6"], compression=None,
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
