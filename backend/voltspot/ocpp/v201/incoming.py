"""OCPP 2.0.1 messages from chargers, translated into the same service calls as 1.6.

Each ``on_<action>`` turns a validated payload into one service call and the result into
the response dataclass; no SQL, pricing or payments here. 2.0.1 EVSEs are Voltspot's
connectors: ``evseId`` is the connector number drivers see.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ocpp.exceptions import PropertyConstraintViolationError, SecurityError
from ocpp.routing import after, on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action, DataTransferStatusEnumType, RegistrationStatusEnumType

from voltspot.domain.authorization import IdTagInfo
from voltspot.domain.clock import utcnow
from voltspot.domain.money import major_units
from voltspot.domain.statuses import Registration
from voltspot.ocpp.handlers import (
    StationHandlers,
    checked_connector,
    checked_evse_connector,
    checked_readings,
    refused_connector,
)
from voltspot.ocpp.timestamps import format_timestamp, parse_timestamp
from voltspot.services.charging import lifecycle as charging
from voltspot.services.charging import transactions
from voltspot.services.roaming.identity import Identity
from voltspot.services.stations import registry as stations
from voltspot.services.stations import status as status_service

log = logging.getLogger("voltspot.ocpp")

# What a Pending or Rejected station may send (B02.FR.09, B03.FR.07): its boot, and the
# reports the CSMS asks for while it is pending (B02.FR.01).
_WHILE_NOT_ACCEPTED = frozenset({"BootNotification", "NotifyReport"})

# Unit multipliers (powers of ten) beyond any meter's: from milli to giga and a margin.
MAX_MULTIPLIER = 12


def _id_token_info(info: IdTagInfo) -> dict[str, Any]:
    return {
        "status": str(info.status),
        "cache_expiry_date_time": (format_timestamp(info.expiry_date)
                                   if info.expiry_date else None),
        "group_id_token": ({"id_token": info.parent_id_tag, "type": "Central"}
                           if info.parent_id_tag else None),
    }


def _sampled_value(raw: dict[str, Any]) -> dict[str, Any]:
    """A 2.0.1 sampledValue in the shape the meter domain reads (1.6's): the unit's
    power-of-ten multiplier applied, signed meter data marked as such."""
    unit = raw.get("unit_of_measure") or {}
    multiplier = unit.get("multiplier", 0)
    if not -MAX_MULTIPLIER <= multiplier <= MAX_MULTIPLIER:
        raise PropertyConstraintViolationError(
            description=f"unit multiplier {multiplier} is not a power of ten a meter uses")
    value = raw["value"] * 10.0 ** multiplier
    sample = {"value": str(value), "measurand": raw.get("measurand"),
              "unit": unit.get("unit"), "phase": raw.get("phase"),
              "context": raw.get("context"), "location": raw.get("location")}
    return {key: item for key, item in sample.items() if item is not None}


def _readings(meter_value: list[dict[str, Any]] | None) -> list[charging.MeterReading]:
    return checked_readings(
        charging.MeterReading(parse_timestamp(item["timestamp"]),
                              [_sampled_value(raw) for raw in item["sampled_value"]])
        for item in meter_value or [])


class ChargePoint201(StationHandlers):
    """Handlers for one OCPP 2.0.1 charger."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Open transactions with an event recorded as new over this connection: the
        # charger's replays, which come first after a reconnect, are over for them.
        self._new_over_this_connection: set[str] = set()

    def check_admitted(self, action: str) -> None:
        """A Pending or Rejected station's messages other than its boot (and the reports
        asked of it) are answered SecurityError (B02.FR.09, B03.FR.07)."""
        if action not in _WHILE_NOT_ACCEPTED and self.registration != Registration.ACCEPTED:
            raise SecurityError(description=f"{action} is not allowed while the station's "
                                f"registration is {self.registration}")

    @on(Action.boot_notification)
    def on_boot_notification(self, charging_station: dict[str, Any], reason: str,
                             **_: Any) -> call_result.BootNotification:
        modem = charging_station.get("modem") or {}
        info = stations.BootInfo(
            vendor=charging_station["vendor_name"], model=charging_station["model"],
            serial_number=charging_station.get("serial_number"),
            firmware_version=charging_station.get("firmware_version"),
            iccid=modem.get("iccid"), imsi=modem.get("imsi"), boot_reason=reason)
        booted = self._messages.run_grouped(
            stations.record_boot, info, self._settings.heartbeat_interval)
        self._registration = booted.registration
        self._new_over_this_connection.clear()  # a rebooted charger may number anew
        return call_result.BootNotification(
            current_time=format_timestamp(utcnow()), interval=booted.heartbeat_interval,
            status=RegistrationStatusEnumType(str(booted.registration)))

    @after(Action.boot_notification)
    def after_boot_notification(self, **_: Any) -> None:
        # Our own calls need this socket's reader to receive their answers: run beside it.
        threading.Thread(
            target=self._messages.configure_after_boot, daemon=True,
            kwargs={"sample_interval_s": self._settings.meter_sample_interval}).start()

    @on(Action.heartbeat)
    def on_heartbeat(self) -> call_result.Heartbeat:
        self._messages.record_seen()
        return call_result.Heartbeat(current_time=format_timestamp(utcnow()))

    @on(Action.status_notification)
    def on_status_notification(self, timestamp: str, connector_status: str, evse_id: int,
                               connector_id: int, **_: Any) -> call_result.StatusNotification:
        if not self._messages.run_grouped(
                status_service.record_evse_status, checked_connector(evse_id, "evseId"),
                checked_evse_connector(connector_id), connector_status,
                parse_timestamp(timestamp)):
            raise refused_connector("evseId", evse_id)
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_token: dict[str, Any], **_: Any) -> call_result.Authorize:
        info = self._messages.authorize(id_token["id_token"],
                                        Identity.from_settings(self._settings),
                                        timeout=self._settings.ocpi_authorize_timeout,
                                        id_token_type=id_token["type"])
        return call_result.Authorize(id_token_info=_id_token_info(info))

    @on(Action.transaction_event)
    def on_transaction_event(self, event_type: str, timestamp: str, trigger_reason: str,
                             seq_no: int, transaction_info: dict[str, Any],
                             meter_value: list[dict[str, Any]] | None = None,
                             evse: dict[str, Any] | None = None,
                             id_token: dict[str, Any] | None = None, **_: Any
                             ) -> call_result.TransactionEvent:
        event = transactions.TransactionEventReport(
            event_type=event_type, timestamp=parse_timestamp(timestamp),
            trigger_reason=trigger_reason, seq_no=seq_no,
            charger_transaction_id=transaction_info["transaction_id"],
            evse_id=(evse or {}).get("id"),
            evse_connector_id=(evse or {}).get("connector_id"),
            charging_state=transaction_info.get("charging_state"),
            stopped_reason=transaction_info.get("stopped_reason"),
            id_tag=(id_token or {}).get("id_token"),
            id_token_type=(id_token or {}).get("type"),
            remote_start_id=transaction_info.get("remote_start_id"),
            readings=_readings(meter_value))
        # Events sent offline need nothing special: they carry the time they happened.
        reference = event.charger_transaction_id
        answer = self._messages.record_transaction_event(
            event, station_id=self.station_id,
            follows_on=reference in self._new_over_this_connection,
            # Started and the periodic meter values of every charger: group-committed
            # like 1.6 StartTransaction and MeterValues.
            grouped=event_type != "Ended", identity=Identity.from_settings(self._settings),
            timeout=self._settings.ocpi_authorize_timeout)
        if event_type == "Ended":
            self._new_over_this_connection.discard(reference)
        elif not answer.replayed:
            self._new_over_this_connection.add(reference)
        total_cost = None
        if answer.cost is not None:
            # In the currency's main unit; an unbilled session's 0 has no currency.
            total_cost = (float(major_units(answer.cost, answer.currency))
                          if answer.cost else 0)
        return call_result.TransactionEvent(
            total_cost=total_cost,
            id_token_info=_id_token_info(answer.id_tag_info) if answer.id_tag_info else None)

    @on(Action.meter_values)
    def on_meter_values(self, evse_id: int, meter_value: list[dict[str, Any]], **_: Any
                        ) -> call_result.MeterValues:
        self._messages.record_meter_values(evse_id, None, _readings(meter_value),
                                           station_id=self.station_id)
        return call_result.MeterValues()

    @on(Action.notify_report)
    def on_notify_report(self, request_id: int, generated_at: str, seq_no: int,
                         report_data: list[dict[str, Any]] | None = None, tbc: bool = False,
                         **_: Any) -> call_result.NotifyReport:
        self._messages.run(stations.record_device_report, report_data or [],
                           first_part=seq_no == 0, last_part=not tbc)
        return call_result.NotifyReport()

    @on(Action.notify_event)
    def on_notify_event(self, generated_at: str, seq_no: int, event_data: list[dict[str, Any]],
                        tbc: bool = False, **_: Any) -> call_result.NotifyEvent:
        for item in event_data:
            log.info("%s: event %s: %s.%s = %s (%s)", self.charge_point_id,
                     item.get("event_id"), item.get("component", {}).get("name"),
                     item.get("variable", {}).get("name"), item.get("actual_value"),
                     item.get("trigger"))
        self._messages.run(stations.record_seen)
        return call_result.NotifyEvent()

    @on(Action.security_event_notification)
    def on_security_event_notification(self, type: str, timestamp: str,
                                       tech_info: str | None = None, **_: Any
                                       ) -> call_result.SecurityEventNotification:
        log.warning("%s: security event %s at %s%s", self.charge_point_id, type, timestamp,
                    f": {tech_info}" if tech_info else "")
        self._messages.run(stations.record_seen)
        return call_result.SecurityEventNotification()

    @on(Action.firmware_status_notification)
    def on_firmware_status_notification(self, status: str, **_: Any
                                        ) -> call_result.FirmwareStatusNotification:
        self._messages.run(stations.record_firmware_status, status)
        return call_result.FirmwareStatusNotification()

    @on(Action.log_status_notification)
    def on_log_status_notification(self, status: str, **_: Any
                                   ) -> call_result.LogStatusNotification:
        self._messages.run(stations.record_diagnostics_status, status)
        return call_result.LogStatusNotification()

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        log.info("%s: DataTransfer from vendor %r, which no handler serves",
                 self.charge_point_id, vendor_id)
        return call_result.DataTransfer(status=DataTransferStatusEnumType.unknown_vendor_id)
