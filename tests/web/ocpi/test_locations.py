"""Locations and Tariffs, we are the sender: lists, pages, objects, pushes, open data."""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.emsp import Emsp, missing_fields
from tests.support.ocpi import publish_site, register
from tests.support.payloads import now_iso
from tests.support.raw_charger import RawCharger
from voltspot.models import Site


@pytest.fixture
def reader(cpo, odb, emsp: Emsp) -> Emsp:
    """A registered eMSP, to read with."""
    register(emsp, cpo, odb)
    return emsp


def test_locations_come_in_pages_with_link_total_and_limit(cpo, odb, reader):
    for _ in range(3):
        publish_site(odb)
    first = reader.call_cpo("GET", f"{cpo.base_url}/ocpi/2.2.1/locations?limit=2")
    total = int(first.headers["X-Total-Count"])
    assert total >= 3 and first.headers["X-Limit"] == "2"
    assert len(first.json()["data"]) == 2
    seen = [item["id"] for item in first.json()["data"]]
    url = first.headers["Link"]
    while url:
        assert url.startswith("<") and url.endswith('>; rel="next"')
        page = reader.call_cpo("GET", url[1:url.index(">")])
        seen += [item["id"] for item in page.json()["data"]]
        url = page.headers.get("Link")
    assert len(seen) == total == len(set(seen))


def test_a_location_is_a_valid_ocpi_location_with_evses_and_tariffs(cpo, odb, reader):
    site = publish_site(odb)
    location = reader.call_cpo(
        "GET", f"{cpo.base_url}/ocpi/2.2.1/locations/{site.site_id}").json()["data"]
    assert missing_fields("location", location) == []
    assert location["country"] == "NLD" and location["coordinates"]["latitude"] == "52.370216"
    evse = location["evses"][0]
    assert evse["uid"] == str(site.connector_pks[0]) and evse["evse_id"].startswith("NL*VSP*E")
    # The station has not connected: what it last said is unknown.
    assert evse["status"] == "UNKNOWN"
    connector = evse["connectors"][0]
    assert connector["standard"] == "IEC_62196_T2" and connector["format"] == "SOCKET"
    assert connector["tariff_ids"] == [str(site.tariff_id)]
    assert location["opening_times"] == {"twentyfourseven": True}


def test_an_evse_and_a_connector_are_read_on_their_own(cpo, odb, reader):
    site = publish_site(odb)
    base = f"{cpo.base_url}/ocpi/2.2.1/locations/{site.site_id}/{site.connector_pks[1]}"
    assert reader.call_cpo("GET", base).json()["data"]["uid"] == str(site.connector_pks[1])
    assert reader.call_cpo("GET", base + "/1").json()["data"]["id"] == "1"


def test_an_unknown_or_unpublished_location_is_2003(cpo, odb, reader):
    hidden = publish_site(odb, publish=False)
    for path in ("999999", str(hidden.site_id), "abc"):
        response = reader.call_cpo("GET", f"{cpo.base_url}/ocpi/2.2.1/locations/{path}")
        assert response.status_code == 404 and response.json()["status_code"] == 2003


def test_date_from_leaves_out_what_did_not_change_since(cpo, odb, reader):
    publish_site(odb)
    future = "2099-01-01T00:00:00Z"
    response = reader.call_cpo("GET", f"{cpo.base_url}/ocpi/2.2.1/locations",
                                params={"date_from": future})
    assert response.json()["data"] == [] and response.headers["X-Total-Count"] == "0"


def test_a_bad_limit_is_2001(cpo, odb, reader):
    response = reader.call_cpo("GET", f"{cpo.base_url}/ocpi/2.2.1/locations?limit=x")
    assert response.status_code == 400 and response.json()["status_code"] == 2001


def test_tariffs_carry_prices_excluding_vat_and_the_plug_page_words(cpo, odb, reader):
    site = publish_site(odb, energy_price=3900)
    tariffs = reader.call_cpo("GET", f"{cpo.base_url}/ocpi/2.2.1/tariffs").json()["data"]
    tariff = next(t for t in tariffs if t["id"] == str(site.tariff_id))
    assert missing_fields("tariff", tariff) == []
    components = {c["type"]: c for c in tariff["elements"][-1]["price_components"]}
    assert components["ENERGY"]["price"] == 0.3223 and components["ENERGY"]["vat"] == 21.0
    assert components["FLAT"]["price"] == 0.4132
    assert "€0.39/kWh" in tariff["tariff_alt_text"][0]["text"]


def test_the_open_data_feed_needs_no_token_and_may_be_cached(cpo, odb, reader):
    site = publish_site(odb)
    response = requests.get(f"{cpo.base_url}/ocpi/open/2.2.1/locations", timeout=10)
    assert response.status_code == 200
    assert "public" in response.headers["Cache-Control"]
    assert str(site.site_id) in [item["id"] for item in response.json()["data"]]
    tariffs = requests.get(f"{cpo.base_url}/ocpi/open/2.2.1/tariffs", timeout=10).json()
    assert str(site.tariff_id) in [item["id"] for item in tariffs["data"]]


def test_an_unknown_module_is_answered_in_the_envelope(cpo, odb, reader):
    response = reader.call_cpo("GET", f"{cpo.base_url}/ocpi/2.2.1/chargingprofiles/1")
    assert response.status_code == 404 and response.json()["status_code"] == 2000


def test_a_published_site_is_put_to_a_registered_emsp(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    put = emsp.wait_for(lambda: [r for r in emsp.pushes("locations", "PUT")
                                 if r.path.endswith(f"/NL/VSP/{site.site_id}")])
    assert put[0].body["id"] == str(site.site_id)
    assert put[0].headers["OCPI-from-party-id"] == "VSP"
    assert put[0].headers["OCPI-to-party-id"] == "TMS"
    assert emsp.violations == []


def test_a_status_notification_reaches_the_emsp_as_an_evse_patch_within_seconds(
        cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    emsp.wait_for(lambda: emsp.pushes(f"locations/NL/VSP/{site.site_id}", "PUT"))
    with RawCharger(cpo.ws_url, site.charge_point_id, site.password) as charger:
        charger.boot()
        started = time.monotonic()
        charger.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                              "status": "Charging", "timestamp": now_iso()})
        path = f"locations/NL/VSP/{site.site_id}/{site.connector_pks[0]}"
        patch = emsp.wait_for(lambda: [r for r in emsp.pushes(path, "PATCH")
                                       if r.body["status"] == "CHARGING"])
        assert time.monotonic() - started < 5
    assert set(patch[0].body) == {"status", "last_updated"}


def test_a_site_change_is_put_again(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    path = f"locations/NL/VSP/{site.site_id}"
    emsp.wait_for(lambda: emsp.pushes(path, "PUT"))
    with odb.session() as session:
        session.get(Site, site.site_id).name = f"Renamed {site.site_id}"
    renamed = emsp.wait_for(lambda: [r for r in emsp.pushes(path, "PUT")
                                     if r.body["name"].startswith("Renamed")])
    assert renamed[0].body["last_updated"] >= emsp.pushes(path, "PUT")[0].body["last_updated"]


def test_taking_a_site_off_roaming_removes_its_evses(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    path = f"locations/NL/VSP/{site.site_id}"
    emsp.wait_for(lambda: emsp.pushes(path, "PUT"))
    with odb.session() as session:
        session.get(Site, site.site_id).publish_to_roaming = False
    removed = emsp.wait_for(lambda: [r for r in emsp.pushes(path, "PUT")
                                     if not r.body["publish"]])
    assert {e["status"] for e in removed[0].body["evses"]} == {"REMOVED"}
