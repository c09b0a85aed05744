"""Commands, we are the receiver: START_SESSION, STOP_SESSION and UNLOCK_CONNECTOR.

The eMSP gets its CommandResponse at once; the charger is asked afterwards, in a thread
of its own, and the CommandResult goes to the eMSP's ``response_url`` through the outbox
once the charger has answered (or not, in time). A START_SESSION is recorded as a
starting roaming session before the charger is asked, so the transaction that follows
joins it, as with any remote start. Reservations and the rest are answered
NOT_SUPPORTED.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from voltspot.db import Database
from voltspot.domain.statuses import ConnectorStatus
from voltspot.models import ChargingSession, Connector, OcpiPartner, OcpiSession, Station
from voltspot.services.charger_control import (
    ChargerControl,
    ChargerError,
    ChargerUnreachable,
    NoAnswer,
)
from voltspot.services.charging import commands as charging_commands
from voltspot.services.charging.lifecycle import fail_session
from voltspot.services.roaming import outbox
from voltspot.services.roaming.errors import InvalidParameters, UnknownLocation
from voltspot.services.roaming.objects import published_sites
from voltspot.services.roaming.tokens import charger_id_tag, open_roaming_session

log = logging.getLogger(__name__)

# Seconds the eMSP should wait for the CommandResult (the charger's answer, or our
# giving up on it, comes well within this).
RESULT_TIMEOUT = 60
SUPPORTED = ("START_SESSION", "STOP_SESSION", "UNLOCK_CONNECTOR")
KNOWN = SUPPORTED + ("RESERVE_NOW", "CANCEL_RESERVATION")
_FREE = (ConnectorStatus.AVAILABLE, ConnectorStatus.PREPARING)


@dataclass(frozen=True)
class CommandAnswer:
    """The CommandResponse: ACCEPTED, REJECTED, NOT_SUPPORTED or UNKNOWN_SESSION."""

    result: str
    message: str = ""

    def as_ocpi(self) -> dict[str, Any]:
        data: dict[str, Any] = {"result": self.result, "timeout": RESULT_TIMEOUT}
        if self.message:
            data["message"] = [{"language": "en", "text": self.message}]
        return data


def _later(work: Callable[[], None]) -> None:
    # After the HTTP answer: the charger may take its full response timeout.
    threading.Thread(target=work, name="ocpi-command", daemon=True).start()


def _required(body: Any, *names: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidParameters("the command body must be an object")
    for name in names:
        if not body.get(name):
            raise InvalidParameters(f"{name} is required")
    if not str(body["response_url"]).startswith(("http://", "https://")):
        raise InvalidParameters("response_url must be an http(s) URL")
    return body


def receive_command(db: Database, control: ChargerControl, partner_id: int, command: str,
                    body: Any) -> CommandAnswer:
    """Answer a command at once and carry it out afterwards (see the module docstring).
    Raises :class:`InvalidParameters` or :class:`UnknownLocation`."""
    if command not in KNOWN:
        return CommandAnswer("NOT_SUPPORTED", f"{command} is not an OCPI 2.2.1 command")
    if command not in SUPPORTED:
        return CommandAnswer("NOT_SUPPORTED", "reservations are not offered yet")
    if command == "START_SESSION":
        return _start_session(db, control, partner_id,
                              _required(body, "response_url", "token", "location_id"))
    if command == "STOP_SESSION":
        return _stop_session(db, control, partner_id,
                             _required(body, "response_url", "session_id"))
    return _unlock(db, control, partner_id,
                   _required(body, "response_url", "location_id", "evse_uid", "connector_id"))


def _evse(db: Database, partner_id: int, location_id: str, evse_uid: str | None
          ) -> tuple[int, int]:
    """The station id and connector pk of a location's EVSE that this partner sees
    (no ``evse_uid``: the first free one). Raises :class:`UnknownLocation`."""
    with db.session() as session:
        partner = session.get(OcpiPartner, partner_id)
        sites = published_sites(session, partner.owner_id,
                                site_id=int(location_id) if location_id.isdigit() else -1)
        if not sites:
            raise UnknownLocation(f"unknown location {location_id!r}")
        plugs = [(station, connector) for station in sites[0].stations
                 for connector in station.connectors]
        if evse_uid is not None:
            plugs = [(s, c) for s, c in plugs if str(c.id) == evse_uid]
            if not plugs:
                raise UnknownLocation(f"location {location_id} has no EVSE {evse_uid!r}")
        free = [(s, c) for s, c in plugs if s.connected and c.status in _FREE]
        station, connector = (free or plugs)[0]
        return station.id, connector.id


def _start_session(db: Database, control: ChargerControl, partner_id: int,
                   body: dict[str, Any]) -> CommandAnswer:
    token = body["token"]
    if not isinstance(token, dict) or not token.get("uid") or not token.get("contract_id"):
        raise InvalidParameters("token must be a Token with uid and contract_id")
    if body.get("connector_id") not in (None, "1"):
        raise UnknownLocation(f"EVSE {body.get('evse_uid')} has no connector "
                              f"{body['connector_id']!r}")
    station_id, connector_pk = _evse(db, partner_id, str(body["location_id"]),
                                     body.get("evse_uid"))
    response_url = body["response_url"]
    with db.session() as session:
        station = session.get(Station, station_id)
        connector = session.get(Connector, connector_pk)
        partner = session.get(OcpiPartner, partner_id)
        problem = None
        if not station.connected:
            problem = "EVSE_INOPERATIVE", "the charger is offline"
        elif connector.status not in _FREE:
            problem = "EVSE_OCCUPIED", f"the EVSE is {connector.status}"
        if problem is None:
            try:
                with session.begin_nested():
                    charging = open_roaming_session(
                        session, station, connector=connector,
                        id_tag=charger_id_tag(token["uid"]), partner=partner,
                        cdr_token={"uid": token["uid"], "type": token.get("type", "APP_USER"),
                                   "contract_id": token["contract_id"],
                                   "country_code": token.get("country_code",
                                                             partner.country_code),
                                   "party_id": token.get("party_id", partner.party_id)},
                        auth_method="COMMAND",
                        authorization_reference=body.get("authorization_reference"),
                        response_url=response_url)
                    session_token = charging.token
            except IntegrityError:
                problem = "EVSE_OCCUPIED", "another session holds the EVSE"
    if problem is not None:
        outbox.queue_command_result(db, partner_id, response_url, *problem)
        return CommandAnswer("ACCEPTED")
    _later(lambda: _ask_to_start(db, control, partner_id, session_token, response_url))
    return CommandAnswer("ACCEPTED")


def _ask_to_start(db: Database, control: ChargerControl, partner_id: int, session_token: str,
                  response_url: str) -> None:
    try:
        answer = charging_commands.ask_to_start(db, control, session_token)
        accepted = answer.get("status") == "Accepted"
        result = ("ACCEPTED", "the charger accepted") if accepted else \
            ("REJECTED", "the charger refused to start")
    except NoAnswer:
        result = "TIMEOUT", "the charger did not answer in time"
    except (ChargerUnreachable, ChargerError) as error:
        result = "FAILED", str(error)
    with db.session() as session:
        roaming = session.scalar(select(OcpiSession).join(
            ChargingSession, ChargingSession.id == OcpiSession.session_id).where(
            ChargingSession.token == session_token))
        roaming.response_url = None
        outbox.enqueue_command_result(session, partner_id, response_url, *result)


def _stop_session(db: Database, control: ChargerControl, partner_id: int,
                  body: dict[str, Any]) -> CommandAnswer:
    with db.session() as session:
        found = session.execute(
            select(OcpiSession, ChargingSession)
            .join(ChargingSession, ChargingSession.id == OcpiSession.session_id)
            .where(OcpiSession.partner_id == partner_id,
                   OcpiSession.ocpi_id == str(body["session_id"]))).first()
        if found is None or not found[1].status.is_open:
            return CommandAnswer("UNKNOWN_SESSION", "no running session with that id")
        charging = found[1]
        if charging.charger_transaction_id is None:
            # Not started at the charger yet: ending it here is the whole stop.
            fail_session(charging, "stopped by the driver's app before charging began")
            outbox.enqueue_command_result(session, partner_id, body["response_url"],
                                          "ACCEPTED", "the session was ended before it began")
            return CommandAnswer("ACCEPTED")
        target = charging.station.charge_point_id, charging.charger_transaction_id

    def stop() -> None:
        try:
            outcome = control.stop_charging(*target)
            result = ("ACCEPTED", "the charger is stopping") if outcome.accepted else \
                ("REJECTED", f"the charger refused to stop ({outcome.status})")
        except NoAnswer:
            result = "TIMEOUT", "the charger did not answer in time"
        except (ChargerUnreachable, ChargerError) as error:
            result = "FAILED", str(error)
        outbox.queue_command_result(db, partner_id, body["response_url"], *result)

    _later(stop)
    return CommandAnswer("ACCEPTED")


def _unlock(db: Database, control: ChargerControl, partner_id: int,
            body: dict[str, Any]) -> CommandAnswer:
    if str(body["connector_id"]) != "1":
        raise UnknownLocation(f"EVSE {body['evse_uid']} has no connector "
                              f"{body['connector_id']!r}")
    station_id, connector_pk = _evse(db, partner_id, str(body["location_id"]),
                                     str(body["evse_uid"]))
    with db.session() as session:
        charge_point_id = session.get(Station, station_id).charge_point_id
        number = session.get(Connector, connector_pk).connector_id

    def unlock() -> None:
        try:
            outcome = control.unlock(charge_point_id, number)
            if outcome.accepted:
                result = "ACCEPTED", "unlocked"
            elif outcome.status in ("NotSupported", "UnknownConnector"):
                result = "NOT_SUPPORTED", "the charger cannot unlock this connector"
            else:
                result = "FAILED", f"the charger answered {outcome.status or 'no'}"
        except NoAnswer:
            result = "TIMEOUT", "the charger did not answer in time"
        except (ChargerUnreachable, ChargerError) as error:
            result = "FAILED", str(error)
        outbox.queue_command_result(db, partner_id, body["response_url"], *result)

    _later(unlock)
    return CommandAnswer("ACCEPTED")
