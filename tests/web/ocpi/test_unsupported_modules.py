"""Modules Voltspot does not offer (OCPI 2.2.1: every module but credentials is optional):
ChargingProfiles and HubClientInfo are not in our endpoints, and a call to them all the
same gets the answer to a resource that does not exist (HTTP 404 with OCPI 2000 in the
envelope), behind the same token check as every module (401)."""

from __future__ import annotations

import base64
import time

import pytest
import requests

from tests.support.emsp import Emsp
from tests.support.ocpi import identity_of, register
from voltspot.services.roaming import partners

SET_CHARGING_PROFILE = {
    "charging_profile": {"charging_rate_unit": "W", "charging_profile_period": [
        {"start_period": 0, "limit": 7400}]},
    "response_url": "RESPONSE_URL"}
CLIENT_INFO = {"party_id": "XYZ", "country_code": "NL", "role": "EMSP",
               "status": "CONNECTED", "last_updated": "2026-12-07T08:00:00Z"}


@pytest.fixture(scope="module")
def registered_emsp(cpo, odb):
    peer = Emsp().start()
    register(peer, cpo, odb)
    yield peer
    peer.stop()


def _profiles_url(cpo) -> str:
    return f"{cpo.base_url}/ocpi/2.2.1/chargingprofiles/1234"


def _calls(cpo, emsp_url: str = "http://127.0.0.1:9/ocpi") -> list[tuple[str, str, dict]]:
    """(method, URL, requests keyword arguments) of each Receiver call of both modules;
    results would go to the eMSP at ``emsp_url``."""
    response_url = f"{emsp_url}/2.2.1/chargingprofiles/result-1"
    profile = {**SET_CHARGING_PROFILE, "response_url": response_url}
    return [
        ("PUT", _profiles_url(cpo), {"json": profile}),
        ("GET", _profiles_url(cpo), {"params": {"duration": 900,
                                                 "response_url": response_url}}),
        ("DELETE", _profiles_url(cpo), {"params": {"response_url": response_url}}),
        ("PUT", f"{cpo.base_url}/ocpi/2.2.1/hubclientinfo/NL/XYZ", {"json": CLIENT_INFO}),
        ("GET", f"{cpo.base_url}/ocpi/2.2.1/hubclientinfo/NL/XYZ", {}),
    ]


def test_our_endpoints_list_neither_charging_profiles_nor_hub_client_info(
        cpo, registered_emsp: Emsp):
    details = registered_emsp.call_cpo("GET", f"{cpo.base_url}/ocpi/2.2.1").json()
    offered = {endpoint["identifier"] for endpoint in details["data"]["endpoints"]}
    assert "credentials" in offered
    assert offered.isdisjoint({"chargingprofiles", "hubclientinfo"})


def test_each_call_to_them_is_404_with_ocpi_2000_in_the_envelope(cpo, registered_emsp: Emsp):
    for method, url, options in _calls(cpo, registered_emsp.base_url):
        response = registered_emsp.call_cpo(method, url, headers={
            "X-Request-ID": "req-9", "X-Correlation-ID": "cor-9",
            "OCPI-from-country-code": "DE", "OCPI-from-party-id": "TMS",
            "OCPI-to-country-code": "NL", "OCPI-to-party-id": "VSP"}, **options)
        body = response.json()
        assert response.status_code == 404, (method, url)
        assert response.headers["Content-Type"].startswith("application/json")
        assert body["status_code"] == 2000 and "does not offer" in body["status_message"]
        assert body["timestamp"].endswith("Z") and "data" not in body
        assert response.headers["X-Request-ID"] == "req-9"
        assert response.headers["X-Correlation-ID"] == "cor-9"
        assert response.headers["OCPI-to-party-id"] == "TMS"
        assert response.headers["OCPI-from-party-id"] == "VSP"


def test_no_charging_profile_result_is_ever_posted_back(cpo, registered_emsp: Emsp):
    for method, url, options in _calls(cpo, registered_emsp.base_url)[:3]:
        registered_emsp.call_cpo(method, url, **options)
    time.sleep(1)  # the roaming job runs every 0.3 s
    assert registered_emsp.pushes("chargingprofiles") == []


def test_without_a_valid_token_they_are_401(cpo):
    for method, url, options in _calls(cpo):
        for headers in ({}, {"Authorization": "Token " + base64.b64encode(b"nope").decode()}):
            response = requests.request(method, url, headers=headers, timeout=10, **options)
            assert response.status_code == 401, (method, url, headers)
            assert response.json()["status_code"] == 2000
            assert response.headers["WWW-Authenticate"] == "Token"


def test_token_a_is_401_there_as_on_every_module_but_versions_and_credentials(cpo, odb):
    created = partners.add_partner(odb, identity_of(cpo), "Profile pusher")
    token_a = "Token " + base64.b64encode(created.token_a.encode()).decode()
    for method, url, options in _calls(cpo):
        response = requests.request(method, url, headers={"Authorization": token_a},
                                    timeout=10, **options)
        assert response.status_code == 401, (method, url)
