"""The push outbox: a partner that is down gets everything, in order, once it is back;
a Voltspot killed with pushes owed sends them after its restart, with one CDR."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.support.emsp import Emsp
from tests.support.ocpi import SECRET_KEY, publish_site, register
from tests.support.payloads import now_iso
from tests.support.raw_charger import RawCharger
from tests.support.server import fresh_database, start_server, stop_server
from voltspot.db import Database
from voltspot.models import OcpiCdr, OcpiOutbox, OcpiPartner
from voltspot.models.roaming import OutboxState


def _status(charger: RawCharger, status: str, error_code: str = "NoError") -> None:
    charger.result("StatusNotification", {"connectorId": 1, "errorCode": error_code,
                                          "status": status, "timestamp": now_iso()})


def test_a_partner_that_was_down_gets_every_status_in_order(cpo, odb, emsp: Emsp):
    partner_id = register(emsp, cpo, odb)
    site = publish_site(odb)
    emsp.wait_for(lambda: emsp.pushes(f"locations/NL/VSP/{site.site_id}", "PUT"))
    path = f"locations/NL/VSP/{site.site_id}/{site.connector_pks[0]}"
    emsp.down = True
    with RawCharger(cpo.ws_url, site.charge_point_id, site.password) as charger:
        charger.boot()
        for status, error_code in (("Charging", "NoError"), ("Finishing", "NoError"),
                                   ("Faulted", "GroundFailure"), ("Available", "NoError")):
            _status(charger, status, error_code)
            time.sleep(0.8)
        with odb.session() as session:
            assert session.get(OcpiPartner, partner_id).last_error is not None
        emsp.down = False
        emsp.wait_for(lambda: [r for r in emsp.pushes(path, "PATCH")
                               if r.body["status"] == "AVAILABLE"], timeout=60)
    statuses = [r.body["status"] for r in emsp.pushes(path, "PATCH")]
    assert statuses[-4:] == ["CHARGING", "BLOCKED", "OUTOFORDER", "AVAILABLE"]
    with odb.session() as session:
        assert session.get(OcpiPartner, partner_id).last_push_at is not None


@pytest.fixture
def killable(tmp_path):
    url = fresh_database(tmp_path, "killed")
    servers = []

    def start():
        server = start_server(url, tmp_path / f"server-{len(servers)}.log",
                              housekeeping_interval="0.3", secret_key=SECRET_KEY)
        servers.append(server)
        return server

    yield url, start
    for server in servers:
        if server.process.poll() is None:
            stop_server(server)


def test_pushes_owed_when_voltspot_is_killed_go_after_a_restart_with_one_cdr(killable,
                                                                             emsp: Emsp):
    url, start = killable
    database = Database(url)
    try:
        server = start()
        register(emsp, server, database)
        site = publish_site(database)
        uid = uuid.uuid4().hex[:12].upper()
        emsp.call_cpo("PUT", f"{server.base_url}/ocpi/2.2.1/tokens/DE/TMS/{uid}", json={
            "country_code": "DE", "party_id": "TMS", "uid": uid, "type": "RFID",
            "contract_id": "DE-TMS-C1", "issuer": "Test eMSP", "valid": True,
            "whitelist": "ALWAYS", "last_updated": "2026-12-01T00:00:00Z"})
        emsp.wait_for(lambda: emsp.pushes(f"locations/NL/VSP/{site.site_id}", "PUT"))
        emsp.down = True
        with RawCharger(server.ws_url, site.charge_point_id, site.password) as charger:
            charger.boot()
            assert charger.result("Authorize", {"idTag": uid})["idTagInfo"]["status"] == \
                "Accepted"
            begun = charger.result("StartTransaction", {"connectorId": 1, "idTag": uid,
                                                        "meterStart": 0,
                                                        "timestamp": now_iso()})
            time.sleep(0.8)
            charger.result("StopTransaction", {"transactionId": begun["transactionId"],
                                               "meterStop": 2500, "timestamp": now_iso()})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with database.session() as session:
                if session.query(OcpiCdr).count():
                    break
            time.sleep(0.2)
        server.process.kill()
        server.process.wait()
        with database.session() as session:
            owed = session.query(OcpiOutbox).filter_by(state=OutboxState.PENDING).count()
        assert owed >= 3  # session PUT, its PATCH and the CDR at least

        emsp.down = False
        start()
        cdrs = emsp.wait_for(lambda: emsp.pushes("cdrs", "POST"), timeout=60)
        time.sleep(2)
    finally:
        database.dispose()
    assert len(emsp.pushes("cdrs", "POST")) == 1
    assert cdrs[0].body["total_energy"] == 2.5
    sessions = [r for r in emsp.received if r.path.startswith("/ocpi/2.2.1/sessions/")]
    assert sessions[0].method == "PUT"
    assert emsp.received.index(cdrs[0]) > emsp.received.index(sessions[-1])
    assert emsp.violations == []
