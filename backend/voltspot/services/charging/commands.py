"""Operator commands to stations, with a remote start that can be followed to the
transaction it causes."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from voltspot.db import Database
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, utcnow
from voltspot.services.charger_control import (
    ChargerControl,
    ChargerError,
    ChargerUnreachable,
    StartRequest,
)
from voltspot.services.charging import transactions
from voltspot.services.charging.lifecycle import fail_session, new_session
from voltspot.services.errors import NotFound
from voltspot.services.messages import N_
from voltspot.services.stations.registry import get_station

log = logging.getLogger(__name__)


def send_command(db: Database, control: ChargerControl, charge_point_id: str, action: str,
                 payload: dict[str, Any]) -> dict[str, Any]:
    """The operator API's raw pass-through: send ``action`` (in the station's OCPP
    version) to a registered station and return the charger's answer.

    A start goes through :func:`remote_start`, so that it is tracked.
    """
    with db.session() as session:
        get_station(session, charge_point_id)
    start = control.start_request(charge_point_id, action, payload)
    if start is not None:
        return remote_start(db, control, charge_point_id, start)
    return control.send(charge_point_id, action, payload)


def remote_start(db: Database, control: ChargerControl, charge_point_id: str,
                 start: StartRequest) -> dict[str, Any]:
    """Ask a station to start charging for ``start.id_tag`` on ``start.connector_id``.

    The session is recorded as ``starting`` before the charger is asked, and the charger's
    answer afterwards, so that the transaction that follows (which may even arrive before
    the answer) joins this session. Returns the charger's answer plus ``sessionToken``,
    which :func:`remote_start_state` resolves to the transaction id.
    """
    id_tag, connector_id = start.id_tag, start.connector_id
    with db.session() as session:
        station = get_station(session, charge_point_id)
        charging = new_session(
            session, station_id=station.id, connector_id=connector_id,
            id_tag=id_tag, status=SessionStatus.STARTING, origin="remote",
            requested_at=utcnow())
        if connector_id is not None:
            connector = next((c for c in station.connectors
                              if c.connector_id == connector_id), None)
            if connector is not None:
                charging.connector_pk, charging.tariff_id = connector.id, connector.tariff_id
        session.flush()
        token = charging.token
    answer = ask_to_start(db, control, token)
    return {**answer, "sessionToken": token}


def ask_to_start(db: Database, control: ChargerControl, token: str) -> dict[str, Any]:
    """Ask the charger to start the recorded session ``token`` and return its answer.

    A refusal, an error or no answer fails that session (its plug is freed, its hold
    released) unless the charger has already started it; the error is re-raised, a
    refusal is returned. A 2.0.1 charger that already runs a transaction on the plug
    (the cable went in first) names it, and the session takes it over.
    """
    with db.session() as session:
        charging = session.scalar(select(ChargingSession).where(ChargingSession.token == token))
        charge_point_id = charging.station.charge_point_id
        request = {"connector_id": charging.connector_id, "id_tag": charging.id_tag,
                   "remote_start_id": charging.id}
    try:
        started = control.start_charging(charge_point_id, **request)
    except (ChargerUnreachable, ChargerError) as error:
        _fail_start(db, token, str(N_("The charger did not respond")) if isinstance(
            error, ChargerUnreachable) else str(N_("The charger reported an error")))
        raise
    if not started.accepted:
        _fail_start(db, token, str(N_("The charger refused to start")))
    elif started.charger_transaction_id is not None:
        with db.session() as session:
            transactions.join_remote_start(session, charge_point_id, request["remote_start_id"],
                                           started.charger_transaction_id)
    return started.answer


def _fail_start(db: Database, token: str, reason: str) -> None:
    with db.session() as session:
        charging = session.scalar(select(ChargingSession).where(ChargingSession.token == token))
        if charging is not None and charging.transaction_id is None:
            fail_session(charging, reason)


def remote_start_state(db: Database, token: str) -> dict[str, Any]:
    """Where a remote start stands: its state, and the transaction id once it runs."""
    with db.session() as session:
        charging = session.scalar(select(ChargingSession).where(ChargingSession.token == token))
        if charging is None:
            raise NotFound("no session with that token")
        return {
            "sessionToken": charging.token,
            "chargePointId": charging.station.charge_point_id,
            "connectorId": charging.connector_id,
            "status": str(charging.status),
            "transactionId": charging.transaction_id,
            "chargerTransactionId": charging.charger_transaction_id,
            "energyWh": charging.energy_wh,
            "failureReason": charging.failure_reason,
            "stopReason": charging.stop_reason,
        }


class StopOutcome(StrEnum):
    """What asking to stop a session came to."""

    ALREADY_ENDED = "already_ended"
    # It had not started at the charger: ended here, its hold released.
    CANCELLED = "cancelled"
    # The charger accepted; the session ends when its stop arrives.
    ASKED = "asked"
    UNREACHABLE = "unreachable"
    REFUSED = "refused"


def stop_session(db: Database, control: ChargerControl, session_id: int,
                 cancel_reason: str) -> StopOutcome:
    """Stop session ``session_id`` (the caller has checked it may): a running session is
    stopped at the charger; one still waiting for the car is ended with ``cancel_reason``
    and its hold released. The one way drivers and owners stop a session."""
    with db.session() as session:
        charging = session.get(ChargingSession, session_id)
        if charging is None or not charging.status.is_open:
            return StopOutcome.ALREADY_ENDED
        if charging.transaction_id is None:
            fail_session(charging, cancel_reason)
            return StopOutcome.CANCELLED
        charge_point_id = charging.station.charge_point_id
        charger_transaction_id = charging.charger_transaction_id
    try:
        accepted = control.stop_charging(charge_point_id, charger_transaction_id).accepted
    except (ChargerUnreachable, ChargerError):
        return StopOutcome.UNREACHABLE
    return StopOutcome.ASKED if accepted else StopOutcome.REFUSED
