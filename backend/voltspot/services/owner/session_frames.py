"""Which of a station's raw OCPP frames belong to one plug's session: calls that name the
plug (OCPP 1.6 ``connectorId``; 2.0.1 ``evseId`` / ``evse.id``) or the session's
transaction, and the answers to those calls. Station-wide messages (heartbeats, boot,
whole-station commands on plug 0) are left out: the session page shows the plug's
conversation, the station page the whole log.

Pure: frames in, frames out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeVar

CALL, CALL_RESULT, CALL_ERROR = 2, 3, 4


class RawFrame(Protocol):
    @property
    def frame(self) -> str: ...


F = TypeVar("F", bound=RawFrame)


def _plug_named(payload: dict[str, Any]) -> int | None:
    if "evseId" in payload:
        return payload["evseId"]
    evse = payload.get("evse")
    if isinstance(evse, dict) and "id" in evse:
        return evse["id"]
    return payload.get("connectorId")


def _transaction_named(payload: dict[str, Any]) -> str | None:
    info = payload.get("transactionInfo")
    value = info.get("transactionId") if isinstance(info, dict) else None
    value = payload.get("transactionId", value)
    return None if value is None else str(value)


def is_plug_call(message: Sequence[Any], plug: int, transaction_ids: set[str]) -> bool:
    """True for a CALL about ``plug`` or one of ``transaction_ids``."""
    if len(message) < 4 or message[0] != CALL or not isinstance(message[3], dict):
        return False
    payload = message[3]
    named = _plug_named(payload)
    if isinstance(named, int) and not isinstance(named, bool) and named == plug:
        return True
    return _transaction_named(payload) in transaction_ids


def plug_frames(frames: Iterable[F], plug: int,
                transaction_ids: Iterable[str | int | None]) -> list[F]:
    """The frames (in the order given) that are about ``plug`` or the transactions
    ``transaction_ids`` (the charger's and ours), with the answers to them. A frame that
    is not OCPP JSON is left out."""
    ids = {str(value) for value in transaction_ids if value is not None}
    calls: set[str] = set()
    kept = []
    for item in frames:
        try:
            message = json.loads(item.frame)
        except ValueError:
            continue
        if not isinstance(message, list) or len(message) < 3:
            continue
        if message[0] == CALL:
            if is_plug_call(message, plug, ids):
                calls.add(str(message[1]))
                kept.append(item)
        elif message[0] in (CALL_RESULT, CALL_ERROR) and str(message[1]) in calls:
            kept.append(item)
    return kept
