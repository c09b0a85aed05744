"""Tokens, we are the receiver: pushes, reads, and the authorisation of RFID tags we do
not know (whitelist, real time at the eMSP, the owner's policy when it does not answer)."""

from __future__ import annotations

import time
import uuid

from tests.support.emsp import Emsp
from tests.support.ocpi import publish_site, register
from tests.support.payloads import now_iso, transaction_event
from tests.support.raw_charger import RawCharger, RawCharger201
from voltspot.db import Database
from voltspot.services.roaming import partners


def _token(uid: str, **changes) -> dict:
    return {"country_code": "DE", "party_id": "TMS", "uid": uid, "type": "RFID",
            "contract_id": f"DE-TMS-C{uid[-6:]}", "issuer": "Test eMSP", "valid": True,
            "whitelist": "ALLOWED", "last_updated": "2026-12-01T00:00:00Z", **changes}


def _url(cpo, uid: str) -> str:
    return f"{cpo.base_url}/ocpi/2.2.1/tokens/DE/TMS/{uid}"


def _uid() -> str:
    return uuid.uuid4().hex[:14].upper()


def _authorize(cpo, site, id_tag: str) -> tuple[str, float]:
    with RawCharger(cpo.ws_url, site.charge_point_id, site.password) as charger:
        charger.boot()
        started = time.monotonic()
        answer = charger.result("Authorize", {"idTag": id_tag})
        return answer["idTagInfo"]["status"], time.monotonic() - started


def test_a_pushed_token_is_read_back(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    uid = _uid()
    assert emsp.call_cpo("PUT", _url(cpo, uid), json=_token(uid)).json()["status_code"] == 1000
    read = emsp.call_cpo("GET", _url(cpo, uid)).json()
    assert read["data"]["contract_id"] == _token(uid)["contract_id"]


def test_an_unknown_token_is_404_with_2004(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    response = emsp.call_cpo("GET", _url(cpo, "NOSUCHTOKEN"))
    assert response.status_code == 404 and response.json()["status_code"] == 2004


def test_a_patch_changes_the_token(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    uid = _uid()
    emsp.call_cpo("PUT", _url(cpo, uid), json=_token(uid))
    patched = emsp.call_cpo("PATCH", _url(cpo, uid), json={
        "valid": False, "last_updated": "2026-12-02T00:00:00Z"})
    assert patched.json()["status_code"] == 1000
    assert emsp.call_cpo("GET", _url(cpo, uid)).json()["data"]["valid"] is False


def test_a_token_that_does_not_match_its_url_is_2001(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    response = emsp.call_cpo("PUT", _url(cpo, "AAA"), json=_token("BBB"))
    assert response.status_code == 400 and response.json()["status_code"] == 2001


def test_a_token_of_another_party_is_refused(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    uid = _uid()
    response = emsp.call_cpo("PUT", f"{cpo.base_url}/ocpi/2.2.1/tokens/NL/XYZ/{uid}",
                             json=_token(uid, country_code="NL", party_id="XYZ"))
    assert response.json()["status_code"] == 2001


def test_an_unknown_tag_is_authorised_in_real_time_by_the_emsp(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    uid = _uid()
    emsp.authorize_answer = {"allowed": "ALLOWED", "authorization_reference": "auth-77"}
    status, _ = _authorize(cpo, site, uid)
    assert status == "Accepted"
    asked = emsp.pushes(f"tokens/{uid}/authorize", "POST")
    assert asked[0].body["location_id"] == str(site.site_id)


def test_a_tag_the_emsp_refuses_is_invalid(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    emsp.authorize_answer = {"allowed": "NOT_ALLOWED"}
    assert _authorize(cpo, site, _uid())[0] == "Invalid"


def test_an_emsp_that_does_not_answer_in_time_means_refusal_by_default(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    emsp.authorize_delay = 5
    status, seconds = _authorize(cpo, site, _uid())
    assert status == "Invalid" and seconds < 4


def test_with_the_seen_valid_policy_a_token_pushed_valid_is_accepted_offline(
        cpo, odb: Database, emsp: Emsp):
    partner_id = register(emsp, cpo, odb)
    partners.set_offline_policy(odb, partner_id, "seen_valid")
    site = publish_site(odb)
    uid = _uid()
    emsp.call_cpo("PUT", _url(cpo, uid), json=_token(uid))
    emsp.authorize_delay = 5
    assert _authorize(cpo, site, uid)[0] == "Accepted"


def test_a_token_whitelisted_always_is_accepted_without_asking(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    uid = _uid()
    emsp.call_cpo("PUT", _url(cpo, uid), json=_token(uid, whitelist="ALWAYS"))
    assert _authorize(cpo, site, uid)[0] == "Accepted"
    assert emsp.pushes(f"tokens/{uid}/authorize") == []


def test_an_rfid_roaming_session_is_pushed_with_auth_request(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    uid = _uid()
    emsp.authorize_answer = {"allowed": "ALLOWED", "authorization_reference": "auth-88"}
    with RawCharger(cpo.ws_url, site.charge_point_id, site.password) as charger:
        charger.boot()
        assert charger.result("Authorize", {"idTag": uid})["idTagInfo"]["status"] == "Accepted"
        begun = charger.result("StartTransaction", {"connectorId": 2, "idTag": uid,
                                                    "meterStart": 0, "timestamp": now_iso()})
        assert begun["idTagInfo"]["status"] == "Accepted"
    put = emsp.wait_for(lambda: emsp.pushes("sessions", "PUT"))
    assert put[0].body["auth_method"] == "AUTH_REQUEST"
    assert put[0].body["authorization_reference"] == "auth-88"
    assert put[0].body["evse_uid"] == str(site.connector_pks[1])
    assert put[0].body["cdr_token"]["uid"] == uid


def test_a_2_0_1_station_gets_the_emsps_real_time_answer_too(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    uid = _uid()
    emsp.authorize_answer = {"allowed": "ALLOWED"}
    with RawCharger201(cpo.ws_url, site.charge_point_id, site.password) as charger:
        charger.boot()
        charger.settle()
        answer = charger.result("Authorize", {"idToken": {"idToken": uid,
                                                          "type": "ISO14443"}})
    assert answer["idTokenInfo"]["status"] == "Accepted"
    assert emsp.pushes(f"tokens/{uid}/authorize", "POST")


def test_a_whitelisted_tag_the_charger_let_in_without_asking_starts_a_roaming_session(
        cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    uid = _uid()
    emsp.call_cpo("PUT", _url(cpo, uid), json=_token(uid, whitelist="ALWAYS"))
    with RawCharger(cpo.ws_url, site.charge_point_id, site.password) as charger:
        charger.boot()
        begun = charger.result("StartTransaction", {"connectorId": 1, "idTag": uid,
                                                    "meterStart": 0, "timestamp": now_iso()})
    assert begun["idTagInfo"]["status"] == "Accepted"
    put = emsp.wait_for(lambda: [r for r in emsp.pushes("sessions", "PUT")
                                 if r.body["cdr_token"]["uid"] == uid])
    assert put[0].body["auth_method"] == "WHITELIST"


def _start_201(cpo, site, uid: str, transaction_id: str) -> list[dict]:
    """A 2.0.1 charger that let ``uid`` in from its own list (no Authorize): Started, then
    an Updated repeating the token; the answers."""
    with RawCharger201(cpo.ws_url, site.charge_point_id, site.password) as charger:
        charger.boot()
        charger.settle()
        started = charger.result("TransactionEvent", transaction_event(
            "Started", transaction_id, 0, "Authorized", id_token=uid, state="EVConnected"))
        updated = charger.result("TransactionEvent", transaction_event(
            "Updated", transaction_id, 1, "ChargingStateChanged", id_token=uid,
            state="Charging"))
    return [started, updated]


def _roaming_put(emsp: Emsp, uid: str) -> list:
    return emsp.wait_for(lambda: [r for r in emsp.pushes("sessions", "PUT")
                                  if r.body["cdr_token"]["uid"] == uid])


def test_a_2_0_1_transaction_started_with_an_unknown_tag_is_authorised_by_the_emsp(
        cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    uid = _uid()
    emsp.authorize_answer = {"allowed": "ALLOWED", "authorization_reference": "auth-201"}
    answers = _start_201(cpo, site, uid, f"TX-{uid}")
    assert [a["idTokenInfo"]["status"] for a in answers] == ["Accepted", "Accepted"]
    # Asked once: the Updated repeating the token is the same transaction's.
    assert len(emsp.pushes(f"tokens/{uid}/authorize", "POST")) == 1
    put = _roaming_put(emsp, uid)
    assert put[0].body["auth_method"] == "AUTH_REQUEST"
    assert put[0].body["authorization_reference"] == "auth-201"
    assert put[0].body["evse_uid"] == str(site.connector_pks[0])
    assert emsp.violations == []


def test_a_2_0_1_transaction_with_a_tag_the_emsp_refuses_is_told_invalid(
        cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    uid = _uid()
    emsp.authorize_answer = {"allowed": "NOT_ALLOWED"}
    answers = _start_201(cpo, site, uid, f"TX-{uid}")
    assert answers[0]["idTokenInfo"]["status"] == "Invalid"
    assert emsp.pushes(f"tokens/{uid}/authorize", "POST")
    time.sleep(1)  # the roaming job runs every 0.3 s: a session would have been pushed
    assert [r for r in emsp.pushes("sessions", "PUT") if r.body["cdr_token"]["uid"] == uid] == []


def test_a_2_0_1_transaction_the_emsp_does_not_answer_for_is_refused_by_default(
        cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    uid = _uid()
    emsp.call_cpo("PUT", _url(cpo, uid), json=_token(uid))
    emsp.authorize_delay = 5
    started = time.monotonic()
    answers = _start_201(cpo, site, uid, f"TX-{uid}")
    assert answers[0]["idTokenInfo"]["status"] == "Invalid"
    assert emsp.pushes(f"tokens/{uid}/authorize", "POST")
    assert time.monotonic() - started < 12


def test_a_2_0_1_transaction_the_emsp_does_not_answer_for_follows_the_seen_valid_policy(
        cpo, odb: Database, emsp: Emsp):
    partner_id = register(emsp, cpo, odb)
    partners.set_offline_policy(odb, partner_id, "seen_valid")
    site = publish_site(odb)
    uid = _uid()
    emsp.call_cpo("PUT", _url(cpo, uid), json=_token(uid))
    emsp.authorize_delay = 5
    answers = _start_201(cpo, site, uid, f"TX-{uid}")
    assert answers[0]["idTokenInfo"]["status"] == "Accepted"
    put = _roaming_put(emsp, uid)
    assert put[0].body["auth_method"] == "WHITELIST"


def test_a_2_0_1_key_code_is_not_asked_about_at_the_emsp(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    uid = _uid()
    with RawCharger201(cpo.ws_url, site.charge_point_id, site.password) as charger:
        charger.boot()
        charger.settle()
        answer = charger.result("Authorize", {"idToken": {"idToken": uid, "type": "KeyCode"}})
    assert answer["idTokenInfo"]["status"] == "Invalid"
    assert emsp.pushes(f"tokens/{uid}/authorize") == []


def test_a_2_0_1_transaction_with_a_tag_the_emsp_blocked_is_told_blocked(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    uid = _uid()
    emsp.authorize_answer = {"allowed": "BLOCKED"}
    answers = _start_201(cpo, site, uid, f"TX-{uid}")
    assert answers[0]["idTokenInfo"]["status"] == "Blocked"


def test_a_1_6_start_with_a_tag_the_emsp_says_expired_is_told_expired(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    uid = _uid()
    emsp.authorize_answer = {"allowed": "EXPIRED"}
    with RawCharger(cpo.ws_url, site.charge_point_id, site.password) as charger:
        charger.boot()
        begun = charger.result("StartTransaction", {"connectorId": 1, "idTag": uid,
                                                    "meterStart": 0, "timestamp": now_iso()})
    assert begun["idTagInfo"]["status"] == "Expired"
    assert begun["transactionId"] > 0
