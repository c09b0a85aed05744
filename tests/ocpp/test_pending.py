"""With "accept unknown stations as pending" on, a new charger waits for an owner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.payloads import now_iso
from tests.support.raw_charger import RawCharger
from tests.support.server import start_server, stop_server
from voltspot.models import Station


@pytest.fixture(scope="module")
def open_server(database_url, tmp_path_factory):
    live = start_server(database_url, tmp_path_factory.mktemp("logs") / "pending.log",
                        accept_unknown_stations="true")
    yield live
    stop_server(live)


def test_an_unknown_station_boots_as_pending_and_is_recorded(open_server, db):
    with RawCharger(open_server.ws_url, "NEW-ARRIVAL-1", "its-own-password-123") as charger:
        answer = charger.boot()
        assert answer["status"] == "Pending"
        assert "currentTime" in charger.result("Heartbeat", {})
    with db.session() as session:
        station = session.scalar(select(Station).where(Station.charge_point_id == "NEW-ARRIVAL-1"))
        assert (station.registration, station.vendor) == ("Pending", "TestVendor")


def test_a_pending_station_authorises_nobody(open_server):
    with RawCharger(open_server.ws_url, "NEW-ARRIVAL-2", "its-own-password-123") as charger:
        charger.boot()
        assert charger.result("Authorize", {"idTag": "ANY"})["idTagInfo"]["status"] == "Invalid"
        started = charger.result("StartTransaction", {"connectorId": 1, "idTag": "ANY",
                                                      "meterStart": 0, "timestamp": now_iso()})
        assert started["idTagInfo"]["status"] == "Invalid"


def test_a_pending_station_must_keep_the_password_it_first_used(open_server):
    with RawCharger(open_server.ws_url, "NEW-ARRIVAL-3", "first-password-12345") as charger:
        charger.boot()
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus):
        RawCharger(open_server.ws_url, "NEW-ARRIVAL-3", "another-password-1234")


def test_registered_stations_still_need_their_password(open_server, station):
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus):
        RawCharger(open_server.ws_url, station.charge_point_id, "wrong-password-123456")
