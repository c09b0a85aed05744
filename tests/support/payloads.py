"""OCPP payloads as chargers write them: timestamps, 2.0.1 sampled values and
TransactionEvent requests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


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
