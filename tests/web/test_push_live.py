"""Web Push end to end: a live server, a charger played by the ocpp library, a driver's
phone subscribing over HTTP, and a real push endpoint on 127.0.0.1 that checks the VAPID
signature against the served public key and decrypts what arrives. The server's own
background job sends (never the charger's message handler)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import pytest
from ocpp.v16 import call
from sqlalchemy import select

from tests.factories import make_tariff, price_plugs
from tests.support.http import page
from tests.support.library_charger import LibraryCharger
from tests.support.payloads import now_iso, sampled_value, transaction_event
from tests.support.push_endpoint import PushEndpoint, unb64url
from tests.support.raw_charger import RawCharger201
from tests.support.server import own_database, start_server, stop_server
from voltspot.models import ChargingSession
from voltspot.services.driver.notifications import vapid_keys

database_url, db = own_database("push")


@pytest.fixture(scope="module")
def server(database_url, tmp_path_factory):
    """A server whose background jobs (payments, push) run every quarter second."""
    live = start_server(database_url, tmp_path_factory.mktemp("logs") / "push.log",
                        housekeeping_interval="0.25", hold_margin_percent="10")
    yield live
    stop_server(live)


def _json(server, method: str, path: str, body: object = None, language: str = "en"):
    request = urllib.request.Request(
        server.base_url + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "Accept-Language": language})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


@pytest.fixture
def push(server, db):
    status, key = _json(server, "GET", "/push/key")
    assert status == 200
    with PushEndpoint(server_key=key["publicKey"]) as endpoint:
        yield endpoint


def _charging(server, charger, evse: str, meter_start: int = 0) -> tuple[str, int]:
    """A driver's session at ``evse`` that has started charging: its token and
    transaction id."""
    charger.boot()
    charger.send(call.StatusNotification(connector_id=1, error_code="NoError",
                                         status="Available"))
    _, headers, _ = page(server, "POST", f"/c/{evse}/start", form={"start_key": uuid.uuid4().hex})
    token = headers["Location"].rsplit("/", 1)[-1]
    id_tag = charger.cp.received[-1][1]["id_tag"]
    started = charger.send(call.StartTransaction(connector_id=1, id_tag=id_tag,
                                                 meter_start=meter_start, timestamp=now_iso()))
    return token, started.transaction_id


def test_the_public_key_is_served_and_is_the_one_kept(server, db):
    first, second = _json(server, "GET", "/push/key"), _json(server, "GET", "/push/key")
    assert first == second
    key = first[1]["publicKey"]
    assert len(unb64url(key)) == 65 and unb64url(key)[0] == 4
    assert vapid_keys(db).public_key == key


def test_a_phone_is_told_in_its_language_when_the_charger_stops_the_session(server, db,
                                                                            station, push):
    evse = price_plugs(db, station.charge_point_id, make_tariff(db, None))[0]
    device = push.subscribe()
    with LibraryCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.send(call.StatusNotification(connector_id=1, error_code="NoError",
                                             status="Available"))
        _, headers, _ = page(server, "POST", f"/c/{evse}/start",
                             form={"start_key": uuid.uuid4().hex})
        token = headers["Location"].rsplit("/", 1)[-1]
        status, refused = _json(server, "POST", f"/sessions/{token}/push", device.as_json(),
                                "de")
        assert status == 409
        assert refused["error"] == ("Sie können sich benachrichtigen lassen, sobald das Laden "
                                    "begonnen hat.")
        id_tag = charger.cp.received[-1][1]["id_tag"]
        started = charger.send(call.StartTransaction(connector_id=1, id_tag=id_tag,
                                                     meter_start=1000, timestamp=now_iso()))
        assert _json(server, "POST", f"/sessions/{token}/push", device.as_json(),
                     "de")[0] == 201
        charger.send(call.StopTransaction(meter_stop=13_500, timestamp=now_iso(),
                                          transaction_id=started.transaction_id,
                                          reason="PowerLoss"))
        notice = device.next_message(timeout=20).json()
    assert notice == {
        "title": "Die Ladesäule hat Ihre Sitzung beendet",
        "body": "Die Ladesäule bei Test site hat Ihre Sitzung nach 12,5 kWh beendet. Ihre "
                "Quittung finden Sie in der App.",
        "url": f"/sessions/{token}",
        "tag": notice["tag"]}
    assert push.rejected == []


def test_a_phone_is_told_when_the_session_stops_at_the_card_hold(server, db, station, push):
    # €5/kWh with a €10 hold: 1.9 kWh reaches €9.50, within 10 % of the hold.
    tariff_id = make_tariff(db, None, energy_price_per_kwh=50000, hold_amount=1000,
                            session_fee=0)
    evse = price_plugs(db, station.charge_point_id, tariff_id)[0]
    device = push.subscribe()
    with LibraryCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        token, transaction_id = _charging(server, charger, evse)
        assert _json(server, "POST", f"/sessions/{token}/push", device.as_json())[0] == 201
        charger.send(call.MeterValues(connector_id=1, transaction_id=transaction_id,
                                      meter_value=[{"timestamp": now_iso(),
                                                    "sampled_value": [{"value": "1900"}]}]))
        notice = device.next_message(timeout=20).json()
        assert ("RemoteStopTransaction", {"transaction_id": transaction_id}) \
            in charger.cp.received
    assert notice["title"] == "Charging stopped at your card hold"
    assert notice["body"] == ("The cost reached €9.50, close to the €10.00 held on your "
                              "card. Unplug your car; you pay only for what you used.")


def test_a_phone_that_asked_to_stop_being_told_hears_nothing(server, db, station, push):
    evse = price_plugs(db, station.charge_point_id, make_tariff(db, None))[0]
    device = push.subscribe()
    with LibraryCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        token, transaction_id = _charging(server, charger, evse, meter_start=1000)
        assert _json(server, "POST", f"/sessions/{token}/push", device.as_json())[0] == 201
        assert _json(server, "DELETE", f"/sessions/{token}/push",
                     {"endpoint": device.endpoint}) == (204, None)
        charger.send(call.StopTransaction(meter_stop=9000, timestamp=now_iso(),
                                          transaction_id=transaction_id, reason="PowerLoss"))
        assert device.nothing_within(3)


def test_a_phone_is_told_when_a_2_0_1_charger_ends_the_session_at_the_cars_limit(server, db,
                                                                                  station, push):
    price_plugs(db, station.charge_point_id, make_tariff(db, None))
    transaction_id = str(uuid.uuid4())
    device = push.subscribe()
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.result("TransactionEvent", transaction_event(
            "Started", transaction_id, 0, "Authorized", id_token="",
            id_token_type="NoAuthorization", state="Charging",
            samples=[sampled_value("Energy.Active.Import.Register", 1000, "Wh",
                                   context="Transaction.Begin")]))
        with db.session() as session:
            token = session.scalar(select(ChargingSession.token).where(
                ChargingSession.charger_transaction_id == transaction_id))
        assert _json(server, "POST", f"/sessions/{token}/push", device.as_json(),
                     "nl")[0] == 201
        charger.result("TransactionEvent", transaction_event(
            "Ended", transaction_id, 1, "EnergyLimitReached", stopped_reason="SOCLimitReached",
            samples=[sampled_value("Energy.Active.Import.Register", 11000, "Wh",
                                   context="Transaction.End")]))
        notice = device.next_message(timeout=20).json()
    assert notice["title"] == "Laden klaar"
    assert notice["body"] == ("Je auto is vol bij Test site: 10,0 kWh. Koppel los wanneer je "
                              "klaar bent.")


def test_a_subscription_for_an_unknown_session_is_not_found(server, push):
    status, body = _json(server, "POST", "/sessions/no-such-token/push",
                         push.subscribe().as_json())
    assert status == 404 and "not valid" in body["error"]
