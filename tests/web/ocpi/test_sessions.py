"""Commands, Sessions and CDRs: START_SESSION → RemoteStart at a charger → CommandResult →
session PUT and PATCHes → STOP_SESSION → CDR, each exactly once and in order."""

from __future__ import annotations

import time
import uuid

from ocpp.v16 import call, call_result

from tests.support.emsp import Emsp
from tests.support.library_charger import LibraryCharger
from tests.support.ocpi import PublishedSite, publish_site, register
from tests.support.payloads import now_iso
from voltspot.models import ChargingSession, OcpiCdr, OcpiSession


def _token(uid: str) -> dict:
    return {"country_code": "DE", "party_id": "TMS", "uid": uid, "type": "APP_USER",
            "contract_id": f"DE-TMS-C{uid[-8:]}", "issuer": "Test eMSP", "valid": True,
            "whitelist": "ALLOWED", "last_updated": "2026-12-01T00:00:00Z"}


def _command(emsp: Emsp, cpo, name: str, body: dict) -> dict:
    response = emsp.call_cpo("POST", f"{cpo.base_url}/ocpi/2.2.1/commands/{name}", json=body)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _results(emsp: Emsp, ref: str) -> list:
    return emsp.pushes(f"command_results/{ref}", "POST")


def _plugged_charger(cpo, site: PublishedSite) -> LibraryCharger:
    charger = LibraryCharger(cpo.ws_url, site.charge_point_id, site.password).__enter__()
    charger.boot()
    for connector in (1, 2):
        charger.send(call.StatusNotification(connector_id=connector, error_code="NoError",
                                             status="Available"))
    return charger


def _wait(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_remote_session_runs_from_start_session_to_one_cdr(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    uid = f"APP{uuid.uuid4().hex[:10].upper()}"
    charger = _plugged_charger(cpo, site)
    try:
        answer = _command(emsp, cpo, "START_SESSION", {
            "response_url": f"{emsp.base_url}/2.2.1/command_results/start-{uid}",
            "token": _token(uid), "location_id": str(site.site_id),
            "evse_uid": str(site.connector_pks[0]), "connector_id": "1",
            "authorization_reference": "ref-1"})
        assert answer["result"] == "ACCEPTED" and answer["timeout"] > 0
        started = _wait(lambda: [kw for action, kw in charger.cp.received
                                 if action == "RemoteStartTransaction"])
        assert started[0]["id_tag"] == uid and started[0]["connector_id"] == 1
        result = emsp.wait_for(lambda: _results(emsp, f"start-{uid}"))
        assert result[0].body["result"] == "ACCEPTED"

        begun = charger.send(call.StartTransaction(connector_id=1, id_tag=uid, meter_start=1000,
                                                   timestamp=now_iso()))
        assert begun.id_tag_info["status"] == "Accepted"
        charger.send(call.StatusNotification(connector_id=1, error_code="NoError",
                                             status="Charging"))
        charger.send(call.MeterValues(connector_id=1, transaction_id=begun.transaction_id,
                                      meter_value=[{"timestamp": now_iso(), "sampled_value": [
                                          {"value": "5000", "unit": "Wh",
                                           "measurand": "Energy.Active.Import.Register"}]}]))
        emsp.wait_for(lambda: [r for r in emsp.pushes("sessions", "PATCH")
                               if r.body.get("kwh") == 4.0])

        charger.cp.answers["RemoteStopTransaction"] = lambda **_: \
            call_result.RemoteStopTransaction(status="Accepted")
        session_id = emsp.pushes("sessions", "PUT")[0].body["id"]
        stop = _command(emsp, cpo, "STOP_SESSION", {
            "response_url": f"{emsp.base_url}/2.2.1/command_results/stop-{uid}",
            "session_id": session_id})
        assert stop["result"] == "ACCEPTED"
        assert emsp.wait_for(lambda: _results(emsp, f"stop-{uid}"))[0].body["result"] == \
            "ACCEPTED"
        charger.send(call.StopTransaction(meter_stop=8000, timestamp=now_iso(),
                                          transaction_id=begun.transaction_id,
                                          reason="Remote"))
        cdrs = emsp.wait_for(lambda: emsp.pushes("cdrs", "POST"))
    finally:
        charger.__exit__(None, None, None)

    cdr = cdrs[0].body
    assert cdr["session_id"] == session_id and cdr["total_energy"] == 7.0
    assert cdr["cdr_token"]["uid"] == uid and cdr["auth_method"] == "COMMAND"
    assert cdr["authorization_reference"] == "ref-1"
    # 7 kWh at €0.39 plus €0.50 per session, VAT included.
    assert cdr["total_cost"]["incl_vat"] == 3.23
    assert cdr["tariffs"][0]["id"] == str(site.tariff_id)
    session_pushes = [r for r in emsp.received if r.path.startswith("/ocpi/2.2.1/sessions/")]
    assert session_pushes[0].method == "PUT"
    assert session_pushes[-1].body["status"] == "COMPLETED"
    # The CDR came after the session's last PATCH.
    assert emsp.received.index(cdrs[0]) > emsp.received.index(session_pushes[-1])
    time.sleep(1.5)
    assert len(emsp.pushes("cdrs", "POST")) == 1
    with odb.session() as session:
        charging = session.get(ChargingSession, int(session_id))
        assert session.get(OcpiSession, charging.id).partner_id is not None
        assert charging.payment_state == "none"
        cdr_row = session.query(OcpiCdr).filter_by(session_id=charging.id).one()
        assert cdr_row.acknowledged_at is not None and cdr_row.partner_url.endswith(cdr["id"])
    assert emsp.violations == []


def test_a_partner_pulls_its_own_sessions_and_cdrs(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    uid = f"PULL{uuid.uuid4().hex[:8].upper()}"
    emsp.call_cpo("PUT", f"{cpo.base_url}/ocpi/2.2.1/tokens/DE/TMS/{uid}", json={
        **_token(uid), "type": "RFID", "whitelist": "ALWAYS"})
    charger = _plugged_charger(cpo, site)
    try:
        assert charger.send(call.Authorize(id_tag=uid)).id_tag_info["status"] == "Accepted"
        begun = charger.send(call.StartTransaction(connector_id=2, id_tag=uid, meter_start=0,
                                                   timestamp=now_iso()))
        charger.send(call.StopTransaction(meter_stop=1500, timestamp=now_iso(),
                                          transaction_id=begun.transaction_id))
        emsp.wait_for(lambda: emsp.pushes("cdrs", "POST"))
    finally:
        charger.__exit__(None, None, None)
    sessions = emsp.call_cpo("GET", f"{cpo.base_url}/ocpi/2.2.1/sessions/").json()["data"]
    assert [(s["cdr_token"]["uid"], s["status"], s["kwh"]) for s in sessions] == [
        (uid, "COMPLETED", 1.5)]
    cdrs = emsp.call_cpo("GET", f"{cpo.base_url}/ocpi/2.2.1/cdrs").json()["data"]
    assert [c["session_id"] for c in cdrs] == [sessions[0]["id"]]


def test_start_session_on_an_offline_charger_results_in_evse_inoperative(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    answer = _command(emsp, cpo, "START_SESSION", {
        "response_url": f"{emsp.base_url}/2.2.1/command_results/offline",
        "token": _token("OFFLINE1"), "location_id": str(site.site_id),
        "evse_uid": str(site.connector_pks[0])})
    assert answer["result"] == "ACCEPTED"
    result = emsp.wait_for(lambda: _results(emsp, "offline"))
    assert result[0].body["result"] == "EVSE_INOPERATIVE"


def test_a_refused_remote_start_is_a_rejected_command_result(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    charger = _plugged_charger(cpo, site)
    try:
        charger.cp.answers["RemoteStartTransaction"] = lambda **_: \
            call_result.RemoteStartTransaction(status="Rejected")
        _command(emsp, cpo, "START_SESSION", {
            "response_url": f"{emsp.base_url}/2.2.1/command_results/refused",
            "token": _token("REFUSED1"), "location_id": str(site.site_id),
            "evse_uid": str(site.connector_pks[1])})
        result = emsp.wait_for(lambda: _results(emsp, "refused"))
    finally:
        charger.__exit__(None, None, None)
    assert result[0].body["result"] == "REJECTED"


def test_unlock_connector_reaches_the_charger(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    charger = _plugged_charger(cpo, site)
    try:
        _command(emsp, cpo, "UNLOCK_CONNECTOR", {
            "response_url": f"{emsp.base_url}/2.2.1/command_results/unlock",
            "location_id": str(site.site_id), "evse_uid": str(site.connector_pks[1]),
            "connector_id": "1"})
        result = emsp.wait_for(lambda: _results(emsp, "unlock"))
        unlocked = [kw for action, kw in charger.cp.received if action == "UnlockConnector"]
    finally:
        charger.__exit__(None, None, None)
    assert result[0].body["result"] == "ACCEPTED" and unlocked[0]["connector_id"] == 2


def test_reservations_are_not_supported(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    answer = _command(emsp, cpo, "RESERVE_NOW", {"response_url": f"{emsp.base_url}/x"})
    assert answer["result"] == "NOT_SUPPORTED"


def test_stop_session_for_an_unknown_session_is_unknown_session(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    answer = _command(emsp, cpo, "STOP_SESSION", {
        "response_url": f"{emsp.base_url}/2.2.1/command_results/none", "session_id": "999999"})
    assert answer["result"] == "UNKNOWN_SESSION"


def test_start_session_at_an_unknown_location_is_2003(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    response = emsp.call_cpo("POST", f"{cpo.base_url}/ocpi/2.2.1/commands/START_SESSION",
                             json={"response_url": f"{emsp.base_url}/x",
                                   "token": _token("NOWHERE1"), "location_id": "999999"})
    assert response.status_code == 404 and response.json()["status_code"] == 2003
