"""A small eMSP of our own on 127.0.0.1, for tests: it registers either way, receives
Locations, Tariffs, Sessions and CDRs, answers real-time authorisations and takes
CommandResults, and checks every request against the OCPI 2.2.1 rules it relies on
(token, headers, required fields and their types). Problems are collected in
``violations``, which tests assert to be empty."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

VERSION = "2.2.1"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


# Required fields of the objects a CPO pushes (OCPI 2.2.1, mod_*.asciidoc), by type.
_STR, _NUM, _LIST, _DICT, _BOOL = str, (int, float), list, dict, bool
REQUIRED = {
    "location": {"country_code": _STR, "party_id": _STR, "id": _STR, "publish": _BOOL,
                 "address": _STR, "city": _STR, "country": _STR, "coordinates": _DICT,
                 "time_zone": _STR, "last_updated": _STR},
    "evse": {"uid": _STR, "status": _STR, "connectors": _LIST, "last_updated": _STR},
    "connector": {"id": _STR, "standard": _STR, "format": _STR, "power_type": _STR,
                  "max_voltage": int, "max_amperage": int, "last_updated": _STR},
    "tariff": {"country_code": _STR, "party_id": _STR, "id": _STR, "currency": _STR,
               "elements": _LIST, "last_updated": _STR},
    "session": {"country_code": _STR, "party_id": _STR, "id": _STR,
                "start_date_time": _STR, "kwh": _NUM, "cdr_token": _DICT,
                "auth_method": _STR, "location_id": _STR, "evse_uid": _STR,
                "connector_id": _STR, "currency": _STR, "status": _STR,
                "last_updated": _STR},
    "cdr": {"country_code": _STR, "party_id": _STR, "id": _STR, "start_date_time": _STR,
            "end_date_time": _STR, "cdr_token": _DICT, "auth_method": _STR,
            "cdr_location": _DICT, "currency": _STR, "charging_periods": _LIST,
            "total_cost": _DICT, "total_energy": _NUM, "total_time": _NUM,
            "last_updated": _STR},
    "command_result": {"result": _STR},
}
EVSE_STATUSES = {"AVAILABLE", "BLOCKED", "CHARGING", "INOPERATIVE", "OUTOFORDER", "PLANNED",
                 "REMOVED", "RESERVED", "UNKNOWN"}
SESSION_STATUSES = {"ACTIVE", "COMPLETED", "INVALID", "PENDING", "RESERVATION"}


def _is(value: Any, kind_of: Any) -> bool:
    # JSON true is not a number here.
    return isinstance(value, kind_of) and (kind_of is _BOOL or not isinstance(value, bool))


def missing_fields(kind: str, data: Any) -> list[str]:
    """What ``data`` lacks to be a valid object of ``kind`` (empty: valid)."""
    if not isinstance(data, dict):
        return [f"{kind} is not an object"]
    problems = [f"{kind}.{name} missing or of the wrong type"
                for name, kind_of in REQUIRED[kind].items()
                if not _is(data.get(name), kind_of)]
    if kind == "location":
        for evse in data.get("evses", []):
            problems += missing_fields("evse", evse)
    if kind == "evse":
        if data.get("status") not in EVSE_STATUSES:
            problems.append(f"evse.status {data.get('status')!r}")
        for plug in data.get("connectors", []):
            problems += missing_fields("connector", plug)
    if kind == "session" and data.get("status") not in SESSION_STATUSES:
        problems.append(f"session.status {data.get('status')!r}")
    return problems


class Emsp:
    """Start with :meth:`start`; ``base_url`` ends in ``/ocpi``."""

    def __init__(self) -> None:
        self.token_a = secrets.token_urlsafe(16)
        # The token we give the CPO to call us with (our token C or B).
        self.token_for_cpo = secrets.token_urlsafe(16)
        # The token the CPO gave us to call it with.
        self.cpo_token: str | None = None
        self.cpo_versions_url: str | None = None
        self.received: list[Received] = []
        self.violations: list[str] = []
        self.down = False
        self.authorize_answer: dict[str, Any] | None = {"allowed": "ALLOWED"}
        self.authorize_delay = 0.0
        self.lock = threading.Lock()
        emsp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                emsp._dispatch(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/ocpi"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> Emsp:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # What the CPO pushed.
    def pushes(self, prefix: str = "", method: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path.startswith(f"/ocpi/{VERSION}/{prefix}")
                    and (method is None or r.method == method)]

    def wait_for(self, predicate, timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate()
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"timed out; received: {[(r.method, r.path) for r in self.received]}")

    def register_with_cpo(self, cpo_versions_url: str, token_a: str) -> dict[str, Any]:
        """Act as the eMSP that starts the handshake with the CPO's token A."""
        self.cpo_token = token_a
        versions = self.call_cpo("GET", cpo_versions_url).json()["data"]
        details_url = next(v["url"] for v in versions if v["version"] == VERSION)
        endpoints = self.call_cpo("GET", details_url).json()["data"]["endpoints"]
        credentials_url = next(e["url"] for e in endpoints if e["identifier"] == "credentials")
        answer = self.call_cpo("POST", credentials_url, json={
            "token": self.token_for_cpo, "url": f"{self.base_url}/versions",
            "roles": [{"role": "EMSP", "business_details": {"name": "Test eMSP"},
                       "party_id": "TMS", "country_code": "DE"}]}).json()
        self.cpo_token = answer["data"]["token"]
        self.cpo_versions_url = answer["data"]["url"]
        return answer

    def call_cpo(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        token = base64.b64encode(self.cpo_token.encode()).decode()
        headers = {"Authorization": f"Token {token}", "X-Request-ID": secrets.token_hex(8),
                   "X-Correlation-ID": secrets.token_hex(8), **kwargs.pop("headers", {})}
        return requests.request(method, url, headers=headers, timeout=20, **kwargs)

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
            self.violations.append(f"{handler.command} {handler.path}: body is not JSON")
        path = handler.path.split("?")[0]
        record = Received(handler.command, path, dict(handler.headers), body)
        if self.down:
            self._answer(handler, 503, {"status_code": 3000, "status_message": "down"})
            return
        self._check_headers(record)
        if not self._authorised(handler, path):
            self._answer(handler, 401, {"status_code": 2000, "status_message": "bad token"})
            return
        with self.lock:
            self.received.append(record)
        self._route(handler, record)

    def _authorised(self, handler: BaseHTTPRequestHandler, path: str) -> bool:
        given = handler.headers.get("Authorization", "")
        expected = {self.token_for_cpo}
        if path in ("/ocpi/versions", f"/ocpi/{VERSION}", f"/ocpi/{VERSION}/credentials"):
            expected.add(self.token_a)
        for token in expected:
            if given == "Token " + base64.b64encode(token.encode()).decode():
                return True
        self.violations.append(f"{handler.command} {path}: Authorization {given!r}")
        return False

    def _check_headers(self, record: Received) -> None:
        for header in ("X-Request-ID", "X-Correlation-ID"):
            if not record.headers.get(header):
                self.violations.append(f"{record.method} {record.path}: no {header}")

    def _route(self, handler: BaseHTTPRequestHandler, record: Received) -> None:
        path, method, body = record.path, record.method, record.body
        base = f"/ocpi/{VERSION}"
        if path == "/ocpi/versions":
            return self._ok(handler, [{"version": VERSION, "url": f"{self.base_url}/{VERSION}"}])
        if path == base:
            return self._ok(handler, {"version": VERSION, "endpoints": [
                {"identifier": m, "role": r, "url": f"{self.base_url}/{VERSION}/{m}"}
                for m, r in (("credentials", "SENDER"), ("credentials", "RECEIVER"),
                             ("locations", "RECEIVER"), ("tariffs", "RECEIVER"),
                             ("sessions", "RECEIVER"), ("cdrs", "RECEIVER"),
                             ("tokens", "SENDER"), ("commands", "SENDER"))]})
        if path == f"{base}/credentials" and method == "POST":
            self.cpo_token = body["token"]
            self.cpo_versions_url = body["url"]
            # A real eMSP reads the CPO's endpoints with the new token before answering.
            versions = self.call_cpo("GET", body["url"])
            if versions.status_code != 200:
                self.violations.append(f"CPO versions with token B: {versions.status_code}")
            return self._ok(handler, {"token": self.token_for_cpo,
                                      "url": f"{self.base_url}/versions",
                                      "roles": [{"role": "EMSP", "party_id": "TMS",
                                                 "country_code": "DE",
                                                 "business_details": {"name": "Test eMSP"}}]})
        if path.startswith(f"{base}/locations/"):
            parts = path.removeprefix(f"{base}/locations/").split("/")
            if method == "PUT" and len(parts) == 3:
                self.violations += missing_fields("location", body)
            elif method == "PATCH" and (not isinstance(body, dict) or "last_updated" not in body):
                self.violations.append(f"PATCH {path} without last_updated")
            return self._ok(handler)
        if path.startswith(f"{base}/tariffs/") and method == "PUT":
            self.violations += missing_fields("tariff", body)
            return self._ok(handler)
        if path.startswith(f"{base}/sessions/"):
            if method == "PUT":
                self.violations += missing_fields("session", body)
            elif not isinstance(body, dict) or "last_updated" not in body:
                self.violations.append(f"PATCH {path} without last_updated")
            return self._ok(handler)
        if path == f"{base}/cdrs" and method == "POST":
            self.violations += missing_fields("cdr", body)
            return self._ok(handler, headers={"Location": f"{self.base_url}/{VERSION}/cdrs/"
                                                          f"{body.get('id')}"})
        if path.startswith(f"{base}/tokens/") and path.endswith("/authorize"):
            time.sleep(self.authorize_delay)
            return self._ok(handler, {**(self.authorize_answer or {}),
                                      "token": {"uid": path.split("/")[-2]}})
        if path.startswith(f"{base}/command_results/"):
            self.violations += missing_fields("command_result", body)
            return self._ok(handler)
        self._answer(handler, 404, {"status_code": 2000, "status_message": "no such route"})

    def _ok(self, handler: BaseHTTPRequestHandler, data: Any = None,
            headers: dict[str, str] | None = None) -> None:
        body = {"status_code": 1000, "status_message": "Success",
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if data is not None:
            body["data"] = data
        self._answer(handler, 200, body, headers)

    def _answer(self, handler: BaseHTTPRequestHandler, status: int, body: dict,
                headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(raw)
