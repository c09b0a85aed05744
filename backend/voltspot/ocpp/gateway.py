"""The OCPP-J endpoint ``/ocpp/<charge_point_id>``: HTTP Basic auth before the upgrade,
subprotocol negotiation, then one :class:`OcppConnection` per socket."""

from __future__ import annotations

import logging
import uuid
from typing import Protocol

from flask import Blueprint, Response, current_app, request
from flask_sock import Sock

from voltspot.cluster.wiring import Cluster
from voltspot.config import Settings
from voltspot.db import Database
from voltspot.domain.protocol import OcppVersion
from voltspot.domain.statuses import Direction
from voltspot.group_commit import GroupCommitter
from voltspot.ocpp.connection import OcppConnection
from voltspot.ocpp.registry import ConnectionRegistry
from voltspot.ocpp.v16.incoming import ChargePoint16
from voltspot.ocpp.v201.incoming import ChargePoint201
from voltspot.services.charger_control import ChargerControl
from voltspot.services.errors import InvalidInput
from voltspot.services.stations import registry as stations

log = logging.getLogger("voltspot.ocpp")

# Subprotocol → (OCPP version, handler class), newest first.
PROTOCOLS = {OcppVersion.V201.subprotocol: (OcppVersion.V201, ChargePoint201),
             OcppVersion.V16.subprotocol: (OcppVersion.V16, ChargePoint16)}
CLOSE_PROTOCOL_ERROR = 1002

bp = Blueprint("ocpp", __name__)
sock = Sock()


class Process(Protocol):
    """What the gateway needs of the process serving it (the app factory puts one in
    ``app.extensions["voltspot"]``: :class:`voltspot.runtime.Runtime`)."""

    settings: Settings
    db: Database
    committer: GroupCommitter
    registry: ConnectionRegistry
    control: ChargerControl
    cluster: Cluster
    station_throttles: stations.StationThrottles
    sign_in_details: stations.SignInDetails

    def log_frame(self, charge_point_id: str, direction: Direction, frame: str) -> None: ...

    def station_changed(self, charge_point_id: str, kind: str) -> None: ...


def _process() -> Process:
    return current_app.extensions["voltspot"]


def _refuse(charge_point_id: str, why: str, detail: str = "") -> Response:
    log.warning("%s: connection refused from %s: %s", stations.log_safe(charge_point_id),
                request.remote_addr, detail or why)
    return Response(f"{why}\n", status=401, mimetype="text/plain",
                    headers={"WWW-Authenticate": 'Basic realm="OCPP"'})


@bp.before_request
def authenticate() -> Response | None:
    """OCPP Security Profile 1: the Basic-auth username must be the charge point id."""
    charge_point_id = (request.view_args or {}).get("charge_point_id", "")
    auth = request.authorization
    if auth is not None and auth.type == "basic" and auth.username != charge_point_id:
        return _refuse(charge_point_id, "the username must be the charge point id")
    password = auth.password if auth is not None and auth.type == "basic" else None
    process = _process()
    try:
        admission = stations.admit(process.db, charge_point_id, password,
                                   accept_unknown=process.settings.accept_unknown_stations,
                                   max_pending=process.settings.max_pending_stations,
                                   throttles=process.station_throttles,
                                   details=process.sign_in_details)
    except InvalidInput as error:
        return _refuse(charge_point_id, str(error))
    if admission.access == stations.Access.THROTTLED:
        log.warning("%s: connection refused from %s: too many failed sign-ins",
                    stations.log_safe(charge_point_id), request.remote_addr)
        return Response("too many failed attempts; wait and try again\n", status=429,
                        mimetype="text/plain",
                        headers={"Retry-After": str(admission.retry_after)})
    if admission.access in (stations.Access.UNKNOWN, stations.Access.BAD_PASSWORD):
        # One answer for both, so the answer does not tell which station ids exist.
        return _refuse(charge_point_id, "unknown station or wrong password",
                       str(admission.access))
    _narrow_offer(choose_subprotocol(_offered(), admission.preferred_version))
    return None


def _offered() -> list[str]:
    header = request.headers.get("Sec-WebSocket-Protocol", "")
    return [name.strip() for name in header.split(",") if name.strip()]


def choose_subprotocol(offered: list[str], preferred_version: str | None) -> str | None:
    """The OCPP version for a charger offering ``offered``: the one its station is
    configured for when offered, else the newest offered that we speak."""
    for subprotocol in offered:
        if subprotocol in PROTOCOLS and PROTOCOLS[subprotocol][0] == preferred_version:
            return subprotocol
    return next((name for name in PROTOCOLS if name in offered), None)


def _narrow_offer(chosen: str | None) -> None:
    # The WebSocket server takes the first offered subprotocol it speaks, in the charger's
    # order; leaving only our choice in the handshake makes it take ours.
    if chosen is not None:
        request.environ["HTTP_SEC_WEBSOCKET_PROTOCOL"] = chosen


@sock.route("/ocpp/<charge_point_id>", bp=bp)
def ocpp_socket(websocket, charge_point_id: str) -> None:
    protocol = PROTOCOLS.get(websocket.subprotocol or "")
    if protocol is None:
        log.warning("%s: offered no OCPP version we speak (we speak %s); closing with 1002",
                    charge_point_id, ", ".join(PROTOCOLS))
        websocket.close(reason=CLOSE_PROTOCOL_ERROR, message="unsupported OCPP version")
        return
    version, handler_class = protocol
    process = _process()
    connection_id = str(uuid.uuid4())
    # Presence first: a process sweeping stations that no process holds must never see
    # this one as connected in the database but held nowhere.
    previous = process.cluster.claim(charge_point_id, connection_id)
    station_id = stations.connect(process.committer, charge_point_id, connection_id, version)
    # Only now, so that the old process's "disconnected" cannot overwrite this connection.
    process.cluster.evict(previous, charge_point_id)
    handlers = handler_class(charge_point_id, station_id, process.db, process.committer,
                             process.settings, process.control)
    connection = OcppConnection(
        websocket, charge_point_id, version, handlers, connection_id=connection_id,
        frame_log=lambda direction, frame: process.log_frame(charge_point_id, direction, frame),
        response_timeout=process.settings.ocpp_response_timeout,
        on_handled=lambda action: process.station_changed(charge_point_id, action))
    process.registry.add(connection)
    log.info("%s: connected over OCPP %s from %s", charge_point_id, version, request.remote_addr)
    process.station_changed(charge_point_id, "connected")
    try:
        connection.serve()
    finally:
        process.registry.remove(connection)
        process.cluster.release(charge_point_id, connection.connection_id)
        stations.disconnect(process.committer, charge_point_id, connection.connection_id)
        process.station_changed(charge_point_id, "disconnected")
        log.info("%s: disconnected", charge_point_id)

