"""OCPP 1.6J messages from chargers, translated into service calls.

Each ``on_<action>`` turns a validated payload into one service call and the result into
the response dataclass; no SQL, pricing or payments here.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, DataTransferStatus, RegistrationStatus

from voltspot.domain.authorization import IdTagInfo
from voltspot.domain.clock import utcnow
from voltspot.domain.statuses import ConnectorStatus, Registration
from voltspot.ocpp.handlers import (
    StationHandlers,
    checked_connector,
    checked_readings,
    checked_register,
    refused_connector,
)
from voltspot.ocpp.timestamps import format_timestamp, parse_timestamp
from voltspot.services.charging import lifecycle as charging
from voltspot.services.roaming.identity import Identity
from voltspot.services.stations import registry as stations
from voltspot.services.stations import status as status_service

log = logging.getLogger("voltspot.ocpp")


def _id_tag_info(info: IdTagInfo) -> dict[str, Any]:
    return {
        "status": str(info.status),
        "expiry_date": format_timestamp(info.expiry_date) if info.expiry_date else None,
        "parent_id_tag": info.parent_id_tag,
    }


def _readings(meter_value: list[dict[str, Any]]) -> list[charging.MeterReading]:
    return checked_readings(
        charging.MeterReading(parse_timestamp(item["timestamp"]), item["sampled_value"])
        for item in meter_value)


class ChargePoint16(StationHandlers):
    """Handlers for one OCPP 1.6J charger."""

    @on(Action.boot_notification)
    def on_boot_notification(self, charge_point_vendor: str, charge_point_model: str,
                             **optional: Any) -> call_result.BootNotification:
        info = stations.BootInfo(
            vendor=charge_point_vendor, model=charge_point_model,
            serial_number=optional.get("charge_point_serial_number"),
            firmware_version=optional.get("firmware_version"),
            iccid=optional.get("iccid"), imsi=optional.get("imsi"),
            meter_type=optional.get("meter_type"),
            meter_serial_number=optional.get("meter_serial_number"))
        booted = self._messages.run_grouped(
            stations.record_boot, info, self._settings.heartbeat_interval)
        self._registration = booted.registration
        self._plug_count_known = booted.plug_count_known
        return call_result.BootNotification(
            current_time=format_timestamp(utcnow()), interval=booted.heartbeat_interval,
            status=RegistrationStatus(str(booted.registration)))

    @after(Action.boot_notification)
    def after_boot_notification(self, **_: Any) -> None:
        # A station whose plugs were declared is asked nothing: a reconnect storm's boots
        # then cost no look-up each.
        if self._plug_count_known or self._registration != Registration.ACCEPTED:
            return
        # Our own call needs this socket's reader to receive its answer: run beside it.
        threading.Thread(target=self._messages.read_plug_count, daemon=True).start()

    @on(Action.heartbeat)
    def on_heartbeat(self) -> call_result.Heartbeat:
        self._messages.record_seen()
        return call_result.Heartbeat(current_time=format_timestamp(utcnow()))

    @on(Action.status_notification)
    def on_status_notification(self, connector_id: int, error_code: str, status: str,
                               timestamp: str | None = None, info: str | None = None,
                               vendor_error_code: str | None = None,
                               **_: Any) -> call_result.StatusNotification:
        if not self._messages.run_grouped(
                status_service.record_status, checked_connector(connector_id),
                ConnectorStatus(status), error_code,
                parse_timestamp(timestamp) if timestamp else None, info, vendor_error_code):
            raise refused_connector("connectorId", connector_id)
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str) -> call_result.Authorize:
        info = self._messages.authorize(id_tag, Identity.from_settings(self._settings),
                                        timeout=self._settings.ocpi_authorize_timeout)
        return call_result.Authorize(id_tag_info=_id_tag_info(info))

    @on(Action.start_transaction)
    def on_start_transaction(self, connector_id: int, id_tag: str, meter_start: int,
                             timestamp: str, reservation_id: int | None = None
                             ) -> call_result.StartTransaction:
        result = self._messages.start_transaction(
            Identity.from_settings(self._settings),
            timeout=self._settings.ocpi_authorize_timeout, connector_id=connector_id,
            id_tag=id_tag, meter_start=checked_register(meter_start, "meterStart"),
            timestamp=parse_timestamp(timestamp), reservation_id=reservation_id)
        return call_result.StartTransaction(transaction_id=result.transaction_id,
                                            id_tag_info=_id_tag_info(result.id_tag_info))

    @on(Action.meter_values)
    def on_meter_values(self, connector_id: int, meter_value: list[dict[str, Any]],
                        transaction_id: int | None = None) -> call_result.MeterValues:
        self._messages.record_meter_values(connector_id, transaction_id,
                                           _readings(meter_value), station_id=self.station_id)
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    def on_stop_transaction(self, meter_stop: int, timestamp: str, transaction_id: int,
                            reason: str | None = None, id_tag: str | None = None,
                            transaction_data: list[dict[str, Any]] | None = None
                            ) -> call_result.StopTransaction:
        info = self._messages.run(charging.stop_transaction, transaction_id=transaction_id,
                                  meter_stop=checked_register(meter_stop, "meterStop"),
                                  timestamp=parse_timestamp(timestamp),
                                  reason=reason, id_tag=id_tag,
                                  transaction_data=_readings(transaction_data or []))
        return call_result.StopTransaction(id_tag_info=_id_tag_info(info) if info else None)

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        log.info("%s: DataTransfer from vendor %r, which no handler serves",
                 self.charge_point_id, vendor_id)
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(self, status: str
                                        ) -> call_result.FirmwareStatusNotification:
        self._messages.run(stations.record_firmware_status, status)
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status_notification(self, status: str
                                           ) -> call_result.DiagnosticsStatusNotification:
        self._messages.run(stations.record_diagnostics_status, status)
        return call_result.DiagnosticsStatusNotification()
