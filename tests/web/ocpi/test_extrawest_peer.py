"""End to end against an independent eMSP: ``extrawest-ocpi`` from PyPI, installed into a
virtual environment of its own (``.venv-ocpi-peer`` at the repository root, kept between
runs) and served on 127.0.0.1. Voltspot registers with it, it pulls our Locations and
Tariffs and pushes a token, and a START_SESSION runs through a charger to its CDR, every
object parsed by the package's own OCPI 2.2.1 schemas.

The package has no client for sending commands, so the test sends START_SESSION and
STOP_SESSION with the peer's credentials and the peer's own command-result URL.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from ocpp.v16 import call

from tests.support.library_charger import LibraryCharger
from tests.support.ocpi import SECRET_KEY, identity_of, publish_site
from tests.support.payloads import now_iso
from voltspot.models import OcpiPartner, OcpiToken
from voltspot.services.roaming import partners
from voltspot.services.roaming.sealing import unseal

ROOT = Path(__file__).resolve().parents[3]
PEER_VENV = ROOT / ".venv-ocpi-peer"
PEER_PACKAGES = ["extrawest-ocpi==2025.7.16", "uvicorn==0.30.6"]
HERE = Path(__file__).parent


def _peer_python() -> Path:
    python = PEER_VENV / "bin" / "python"
    marker = PEER_VENV / "installed.txt"
    if not marker.exists() or marker.read_text() != " ".join(PEER_PACKAGES):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(PEER_VENV)], check=True)
        installed = subprocess.run([str(python), "-m", "pip", "install", "-q",
                                    *PEER_PACKAGES], capture_output=True, text=True)
        if installed.returncode != 0:
            pytest.skip(f"extrawest-ocpi could not be installed: {installed.stderr[-300:]}")
        marker.write_text(" ".join(PEER_PACKAGES))
    return python


class Peer:
    def __init__(self, python: Path, port: int, token_a: str, process: subprocess.Popen):
        self.python, self.port, self.token_a, self.process = python, port, token_a, process
        self.base_url = f"http://127.0.0.1:{port}"

    def store(self) -> dict:
        return requests.get(f"{self.base_url}/debug/store", timeout=10).json()

    def received(self, module: str, action: str | None = None) -> list[dict]:
        return [item for item in self.store()["received"] if item["module"] == module
                and (action is None or item["action"] == action)]


@pytest.fixture(scope="module")
def peer(tmp_path_factory) -> Iterator[Peer]:
    python = _peer_python()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token_a = secrets.token_urlsafe(16)
    log = (tmp_path_factory.mktemp("peer") / "peer.log").open("w")
    env = {"PATH": os.environ.get("PATH", ""), "PEER_TOKEN_A": token_a,
           "OCPI_HOST": f"127.0.0.1:{port}", "PROTOCOL": "http", "COUNTRY_CODE": "DE",
           "PARTY_ID": "EXW", "ENVIRONMENT": "development"}
    process = subprocess.Popen([str(python), "-m", "uvicorn", "extrawest_emsp:app", "--host",
                                "127.0.0.1", "--port", str(port)], cwd=HERE, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    running = Peer(python, port, token_a, process)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{running.base_url}/debug/store", timeout=1)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the extrawest peer did not start") from None
                time.sleep(0.2)
        yield running
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def _wait(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def _as_peer(token: str) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(token.encode()).decode()}


def test_extrawest_emsp_registers_pulls_pushes_and_gets_a_session_and_its_cdr(cpo, odb, peer):
    view = partners.register_with(odb, identity_of(cpo), f"Extrawest {uuid.uuid4().hex[:4]}",
                                  f"{peer.base_url}/ocpi/versions", peer.token_a)
    assert view.state == "registered" and (view.country_code, view.party_id) == ("DE", "EXW")
    # The token we gave them, which they call us with.
    our_token_for_them = peer.store()["cpo"]["credentials"]["token"]
    with odb.session() as session:
        their_token = unseal(SECRET_KEY, session.get(OcpiPartner, view.partner_id).their_token)
    site = publish_site(odb)

    pulled = subprocess.run([str(peer.python), "extrawest_emsp.py", "pull",
                             f"{cpo.base_url}/ocpi/versions", our_token_for_them], cwd=HERE,
                            capture_output=True, text=True, check=True)
    summary = json.loads(pulled.stdout)
    assert summary["errors"] == []
    assert summary["locations"] >= 1 and summary["tariffs"] >= 1 and summary["pages"] >= 2

    uid = f"EXW{uuid.uuid4().hex[:8].upper()}"
    token = {"country_code": "DE", "party_id": "EXW", "uid": uid, "type": "RFID",
             "contract_id": f"DE-EXW-C{uid[-6:]}", "issuer": "Extrawest", "valid": True,
             "whitelist": "ALLOWED", "last_updated": "2026-12-01T00:00:00Z"}
    requests.post(f"{peer.base_url}/debug/tokens", json=token, timeout=10)
    pushed = requests.post(f"{peer.base_url}/push/2.2.1", headers=_as_peer(their_token), json={
        "module_id": "tokens", "object_id": uid,
        "receivers": [{"endpoints_url": f"{cpo.base_url}/ocpi/2.2.1",
                       "auth_token": our_token_for_them}]}, timeout=20)
    assert pushed.json()["receiver_responses"][0]["response"]["status_code"] == 1000
    with odb.session() as session:
        assert session.query(OcpiToken).filter_by(partner_id=view.partner_id, uid=uid).one()

    # The published site reaches the peer as a PUT, parsed by its Location schema.
    _wait(lambda: [r for r in peer.received("locations") if r["id"] == str(site.site_id)])

    charger = LibraryCharger(cpo.ws_url, site.charge_point_id, site.password).__enter__()
    try:
        charger.boot()
        charger.send(call.StatusNotification(connector_id=1, error_code="NoError",
                                             status="Available"))
        command_url = f"{peer.base_url}/ocpi/emsp/2.2.1/commands/start-{uid}"
        answer = requests.post(f"{cpo.base_url}/ocpi/2.2.1/commands/START_SESSION",
                               headers=_as_peer(our_token_for_them), json={
                                   "response_url": command_url, "token": token,
                                   "location_id": str(site.site_id),
                                   "evse_uid": str(site.connector_pks[0])}, timeout=20)
        assert answer.json()["data"]["result"] == "ACCEPTED"
        result = _wait(lambda: peer.received("commands"))
        assert result[0]["id"] == f"start-{uid}" and result[0]["data"]["result"] == "ACCEPTED"

        begun = charger.send(call.StartTransaction(connector_id=1, id_tag=uid, meter_start=0,
                                                   timestamp=now_iso()))
        charger.send(call.MeterValues(connector_id=1, transaction_id=begun.transaction_id,
                                      meter_value=[{"timestamp": now_iso(), "sampled_value": [
                                          {"value": "3000", "unit": "Wh",
                                           "measurand": "Energy.Active.Import.Register"}]}]))
        _wait(lambda: [r for r in peer.received("sessions", "update")
                       if r["data"].get("kwh") == 3.0])
        charger.send(call.StopTransaction(meter_stop=6000, timestamp=now_iso(),
                                          transaction_id=begun.transaction_id))
        cdrs = _wait(lambda: peer.received("cdrs"))
    finally:
        charger.__exit__(None, None, None)
    sessions = peer.received("sessions")
    # The package keeps CiStrings in lower case.
    assert sessions[0]["action"] == "create"
    assert sessions[0]["data"]["cdr_token"]["uid"].upper() == uid
    assert cdrs[0]["data"]["total_energy"] == 6.0
    assert len(peer.received("cdrs")) == 1
