"""The operator API's door: a bearer token, and closed when no token is set."""

from __future__ import annotations

from tests.support.http import API_TOKEN, api
from tests.support.raw_charger import RawCharger
from voltspot.app import create_app
from voltspot.runtime import runtime


def _get(server, path, token):
    return api(server, "GET", path, token=token)


def test_a_wrong_token_is_refused_with_401(server):
    status, body = _get(server, "/api/stations", "not-the-token")
    assert status == 401
    assert "Bearer" in body["error"]


def test_without_a_configured_token_the_api_is_closed(database_url):
    app = create_app({"database_url": database_url, "api_token": ""})
    response = app.test_client().get("/api/stations", headers={"Authorization": "Bearer "})
    runtime(app).db.dispose()
    assert response.status_code == 403
    assert "VOLTSPOT_API_TOKEN" in response.json["error"]


def test_stations_are_listed_with_connection_state_and_connector_status(server, station):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                              "status": "Available"})
        status, body = _get(server, "/api/stations", API_TOKEN)
        listed = {s["chargePointId"]: s for s in body["stations"]}[station.charge_point_id]
        assert listed["connected"] is True
        assert listed["lastSeenAt"]
        assert listed["connectors"][0]["status"] == "Available"


def test_one_station_shows_what_it_said_at_boot(server, station):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
    status, body = _get(server, f"/api/stations/{station.charge_point_id}", API_TOKEN)
    assert (status, body["vendor"], body["model"]) == (200, "TestVendor", "Raw")
    assert [c["evseId"].count("*") for c in body["connectors"]] == [3, 3]


def test_an_unknown_station_is_404(server):
    assert _get(server, "/api/stations/NOPE", API_TOKEN)[0] == 404


def test_an_unknown_session_token_is_404(server):
    assert _get(server, "/api/sessions/not-a-token", API_TOKEN)[0] == 404
