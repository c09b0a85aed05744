"""Versions and credentials: the registration handshake both ways, tokens, 401s."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import requests

from tests.support.emsp import Emsp
from tests.support.ocpi import SECRET_KEY, identity_of, register
from voltspot.models import OcpiPartner
from voltspot.models.roaming import PartnerState
from voltspot.services.roaming import partners
from voltspot.services.roaming.sealing import unseal


def _token(value: str) -> dict[str, str]:
    return {"Authorization": "Token " + base64.b64encode(value.encode()).decode()}


def test_versions_answer_in_the_envelope_with_our_details_url(cpo, odb):
    created = partners.add_partner(odb, identity_of(cpo), "Versions reader")
    response = requests.get(created.versions_url, headers={
        **_token(created.token_a), "X-Request-ID": "req-1", "X-Correlation-ID": "cor-1"},
        timeout=10)
    body = response.json()
    assert response.status_code == 200
    assert body["status_code"] == 1000 and body["timestamp"].endswith("Z")
    assert body["data"] == [{"version": "2.2.1", "url": f"{cpo.base_url}/ocpi/2.2.1"}]
    assert response.headers["X-Request-ID"] == "req-1"
    assert response.headers["X-Correlation-ID"] == "cor-1"


def test_the_unencoded_token_of_older_peers_is_accepted(cpo, odb):
    created = partners.add_partner(odb, identity_of(cpo), "Plain token peer")
    response = requests.get(created.versions_url,
                            headers={"Authorization": f"Token {created.token_a}"}, timeout=10)
    assert response.json()["status_code"] == 1000


def test_a_wrong_token_is_401_with_an_ocpi_status(cpo):
    response = requests.get(f"{cpo.base_url}/ocpi/versions", headers=_token("nope"), timeout=10)
    assert response.status_code == 401
    assert response.json()["status_code"] == 2000


def test_token_a_cannot_read_locations(cpo, odb):
    created = partners.add_partner(odb, identity_of(cpo), "Early reader")
    response = requests.get(f"{cpo.base_url}/ocpi/2.2.1/locations",
                            headers=_token(created.token_a), timeout=10)
    assert response.status_code == 401


def test_an_emsp_registers_with_token_a_and_gets_token_c(cpo, odb, emsp: Emsp):
    partner_id = register(emsp, cpo, odb)
    assert emsp.violations == []
    with odb.session() as session:
        partner = session.get(OcpiPartner, partner_id)
        assert partner.state == PartnerState.REGISTERED
        assert (partner.country_code, partner.party_id) == ("DE", "TMS")
        # Their token is kept sealed.
        assert partner.their_token != emsp.token_for_cpo
        assert unseal(SECRET_KEY, partner.their_token) == emsp.token_for_cpo
        assert partner.endpoints["locations"]["RECEIVER"].endswith("/2.2.1/locations")
        # Token C is kept as a digest only, token A is spent.
        assert partner.token_c_digest == partners.digest(emsp.cpo_token)
        assert partner.token_a_digest is None


def test_token_a_is_spent_after_registration(cpo, odb, emsp: Emsp):
    created = partners.add_partner(odb, identity_of(cpo), "Spent A")
    emsp.register_with_cpo(created.versions_url, created.token_a)
    response = requests.get(created.versions_url, headers=_token(created.token_a), timeout=10)
    assert response.status_code == 401


def test_posting_credentials_twice_is_405(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    response = emsp.call_cpo("POST", f"{cpo.base_url}/ocpi/2.2.1/credentials", json={
        "token": "x", "url": f"{emsp.base_url}/versions",
        "roles": [{"role": "EMSP", "party_id": "TMS", "country_code": "DE"}]})
    assert response.status_code == 405


def test_put_credentials_renews_token_c(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    old = emsp.cpo_token
    answer = emsp.call_cpo("PUT", f"{cpo.base_url}/ocpi/2.2.1/credentials", json={
        "token": emsp.token_for_cpo, "url": f"{emsp.base_url}/versions",
        "roles": [{"role": "EMSP", "party_id": "TMS", "country_code": "DE"}]}).json()
    assert answer["status_code"] == 1000 and answer["data"]["token"] != old
    stale = requests.get(f"{cpo.base_url}/ocpi/versions", headers=_token(old), timeout=10)
    assert stale.status_code == 401


def test_get_credentials_returns_ours_with_the_callers_token(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    data = emsp.call_cpo("GET", f"{cpo.base_url}/ocpi/2.2.1/credentials").json()["data"]
    assert data["token"] == emsp.cpo_token
    assert data["roles"][0]["role"] == "CPO" and data["roles"][0]["party_id"] == "VSP"


def test_delete_credentials_unregisters(cpo, odb, emsp: Emsp):
    partner_id = register(emsp, cpo, odb)
    assert emsp.call_cpo("DELETE", f"{cpo.base_url}/ocpi/2.2.1/credentials").status_code == 200
    with odb.session() as session:
        assert session.get(OcpiPartner, partner_id).state == PartnerState.UNREGISTERED
    again = emsp.call_cpo("GET", f"{cpo.base_url}/ocpi/2.2.1/credentials")
    assert again.status_code == 401


def test_we_register_with_an_emsp_that_gave_us_token_a(cpo, odb, emsp: Emsp):
    view = partners.register_with(odb, identity_of(cpo), "They start", f"{emsp.base_url}/versions",
                                  emsp.token_a)
    assert view.state == "registered" and view.party_id == "TMS"
    assert emsp.violations == []
    # The token B we sent them works for them now.
    response = emsp.call_cpo("GET", f"{cpo.base_url}/ocpi/2.2.1/credentials")
    assert response.json()["status_code"] == 1000


def test_the_cli_registers_with_a_partner_and_prints_token_a_otherwise(cpo, ocpi_database_url,
                                                                         emsp: Emsp):
    env = {"VOLTSPOT_DATABASE_URL": ocpi_database_url, "VOLTSPOT_PUBLIC_URL": cpo.base_url,
           "VOLTSPOT_SECRET_KEY": SECRET_KEY}
    made = subprocess.run([sys.executable, "-m", "voltspot", "ocpi", "partner", "add",
                           "--name", "CLI partner"], env={**os.environ, **env},
                          capture_output=True, text=True, check=True).stdout
    assert f"{cpo.base_url}/ocpi/versions" in made and "Token A:" in made
    joined = subprocess.run([sys.executable, "-m", "voltspot", "ocpi", "partner", "add",
                             "--name", "CLI registered", "--versions-url",
                             f"{emsp.base_url}/versions", "--token", emsp.token_a],
                            env={**os.environ, **env}, capture_output=True, text=True, check=True)
    assert "Registered with CLI registered (DE*TMS, OCPI 2.2.1)" in joined.stdout


def test_unregistering_from_our_side_tells_them_and_shuts_their_token_out(cpo, odb,
                                                                         emsp: Emsp):
    partner_id = register(emsp, cpo, odb)
    view = partners.unregister(odb, identity_of(cpo), partner_id)
    assert view.state == "unregistered"
    assert emsp.pushes("credentials", "DELETE")
    again = emsp.call_cpo("GET", f"{cpo.base_url}/ocpi/2.2.1/credentials")
    assert again.status_code == 401
