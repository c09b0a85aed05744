"""The JSON API for operators and machine clients, behind ``VOLTSPOT_API_TOKEN``."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request

from voltspot.runtime import runtime
from voltspot.services.charger_control import (
    ChargerError,
    ChargerUnreachable,
    NoAnswer,
    UnknownCommand,
)
from voltspot.services.charging import commands
from voltspot.services.errors import InvalidInput, NotFound
from voltspot.services.stations import registry as stations

bp = Blueprint("api", __name__, url_prefix="/api")


def _error(status: int, message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


@bp.before_request
def require_token() -> Response | None:
    token = runtime().settings.api_token
    if not token:
        return _error(403, "the API is closed: set VOLTSPOT_API_TOKEN to open it")
    auth = request.headers.get("Authorization", "")
    scheme, _, given = auth.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
        response = _error(401, "send Authorization: Bearer <VOLTSPOT_API_TOKEN>")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    return None


@bp.errorhandler(NotFound)
def not_found(error: NotFound) -> Response:
    return _error(404, str(error))


@bp.errorhandler(InvalidInput)
@bp.errorhandler(UnknownCommand)
def bad_request(error: Exception) -> Response:
    return _error(400, str(error))


@bp.errorhandler(NoAnswer)
def no_answer(error: NoAnswer) -> Response:
    return _error(504, str(error))


@bp.errorhandler(ChargerUnreachable)
def unreachable(error: ChargerUnreachable) -> Response:
    return _error(409, str(error))


@bp.errorhandler(ChargerError)
def charger_error(error: ChargerError) -> tuple[Response, int]:
    return jsonify(error=str(error), ocppError=error.code, description=error.description), 502


def _station_json(station: stations.StationInfo, detail: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "chargePointId": station.charge_point_id,
        "site": station.site,
        "registration": station.registration,
        "connected": station.connected,
        "lastSeenAt": station.last_seen_at.isoformat() if station.last_seen_at else None,
        "ocppVersion": station.ocpp_version,
        "status": station.status,
    }
    if detail:
        body.update(
            vendor=station.vendor, model=station.model, serialNumber=station.serial_number,
            firmwareVersion=station.firmware_version, firmwareStatus=station.firmware_status,
            diagnosticsStatus=station.diagnostics_status,
            lastBootAt=station.last_boot_at.isoformat() if station.last_boot_at else None,
            heartbeatInterval=station.heartbeat_interval, errorCode=station.error_code,
            bootReason=station.boot_reason, deviceModel=station.device_model,
            deviceModelAt=(station.device_model_at.isoformat()
                           if station.device_model_at else None))
    body["connectors"] = [
        {"connectorId": c.connector_id, "evseId": c.evse_id, "status": c.status,
         "errorCode": c.error_code, "info": c.info,
         "statusAt": c.status_at.isoformat() if c.status_at else None,
         "maxPowerW": c.max_power_w, "type": c.connector_type}
        for c in station.connectors]
    return body


@bp.get("/stations")
def list_stations() -> Response:
    return jsonify(stations=[_station_json(s, detail=False)
                             for s in stations.station_infos(runtime().db)])


@bp.get("/stations/<charge_point_id>")
def show_station(charge_point_id: str) -> Response:
    return jsonify(_station_json(stations.station_info(runtime().db, charge_point_id),
                                 detail=True))


@bp.post("/stations/<charge_point_id>/commands/<action>")
def send_command(charge_point_id: str, action: str) -> Response:
    payload = request.get_json(silent=True)
    if payload is None and request.content_length:
        abort(_error(400, "the body must be a JSON object"))
    if not isinstance(payload or {}, dict):
        abort(_error(400, "the body must be a JSON object"))
    rt = runtime()
    answer = commands.send_command(rt.db, rt.control, charge_point_id, action, payload or {})
    return jsonify(answer)


@bp.get("/sessions/<token>")
def show_session(token: str) -> Response:
    """A session by the token a remote start returned: its state and transaction id."""
    return jsonify(commands.remote_start_state(runtime().db, token))
