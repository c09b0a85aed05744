"""The driver journey against a live server and a charger played by the ocpp library:
start with a hold, charge, stop, receipt — and every way it can go wrong, with what the
driver is told and what happens to the money."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from ocpp.v16 import call, call_result
from sqlalchemy import select

from tests.factories import make_card
from tests.support.http import page
from tests.support.library_charger import LibraryCharger
from tests.support.payloads import now_iso
from voltspot.config import load_settings
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import ChargingSession, Station
from voltspot.runtime import Runtime


@pytest.fixture
def charger(server, station, priced):
    with LibraryCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        for connector_id in (1, 2):
            charger.send(call.StatusNotification(connector_id=connector_id,
                                                 error_code="NoError", status="Available"))
        yield charger


def _start(server, evse, key=None):
    return page(server, "POST", f"/c/{evse}/start",
                form={"start_key": key or uuid.uuid4().hex})


def _token(response) -> str:
    status, headers, _ = response
    assert status == 303, response
    return headers["Location"].rsplit("/", 1)[-1]


def _session(db, token) -> ChargingSession:
    with db.session() as session:
        return session.scalar(select(ChargingSession).where(ChargingSession.token == token))


def _wait(predicate, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError("not reached in time")


def _remote_start_tag(charger) -> str:
    action, fields = charger.cp.received[-1]
    assert action == "RemoteStartTransaction"
    return fields["id_tag"]


def test_the_plug_page_shows_the_full_price_and_the_hold_before_start(server, charger, priced):
    status, _, body = page(server, "GET", f"/c/{priced[0]}")
    assert status == 200
    assert re.search(r"€0.39/kWh.*€0.35 per session.*incl. 21% VAT", body, re.S)
    assert "We hold €50.00 on your card" in body
    assert "Demo payment — no card charged" in body
    assert "Start charging" in body


def test_a_session_runs_from_start_to_receipt(server, db, charger, priced):
    token = _token(_start(server, priced[0]))
    assert _session(db, token).payment_state == PaymentState.HELD
    id_tag = _remote_start_tag(charger)
    started = charger.send(call.StartTransaction(connector_id=1, id_tag=id_tag, meter_start=1000,
                                                 timestamp=now_iso()))
    sampled = [{"value": "11000", "measurand": "Energy.Active.Import.Register"},
               {"value": "7400", "measurand": "Power.Active.Import", "unit": "W"},
               {"value": "55", "measurand": "SoC", "unit": "Percent"}]
    charger.send(call.MeterValues(connector_id=1, transaction_id=started.transaction_id,
                                  meter_value=[{"timestamp": now_iso(),
                                                "sampled_value": sampled}]))
    _, _, live = page(server, "GET", f"/sessions/{token}", htmx=True)
    assert "10.00" in live and "7.4 kW" in live and "€4.25" in live and "55 %" in live
    assert page(server, "POST", f"/sessions/{token}/stop")[0] == 303
    assert charger.cp.received[-1] == ("RemoteStopTransaction",
                                       {"transaction_id": started.transaction_id})
    charger.send(call.StopTransaction(meter_stop=21000, timestamp=now_iso(),
                                      transaction_id=started.transaction_id, reason="Remote"))
    done = _wait(lambda: (s := _session(db, token)).payment_state == PaymentState.CAPTURED and s)
    assert (done.cost, done.amount_captured) == (815, 815)
    _, _, receipt = page(server, "GET", f"/sessions/{token}/receipt")
    assert "20.0 kWh × €0.39" in receipt and "€8.15" in receipt and "€41.85" in receipt


def test_a_double_tap_gives_one_session(server, db, charger, priced):
    key = uuid.uuid4().hex
    assert _token(_start(server, priced[0], key)) == _token(_start(server, priced[0], key))


def test_a_second_phone_is_told_the_plug_is_taken_and_nothing_is_held(server, db, charger,
                                                                       priced):
    _token(_start(server, priced[0]))
    status, _, body = _start(server, priced[0])
    assert status == 409
    assert "Someone else is using this plug" in body
    assert "Try plug 2" in body


def test_an_offline_charger_is_refused_before_any_hold(server, db, station, priced):
    status, _, body = _start(server, priced[0])
    assert status == 409
    assert "This charger is offline, so we did not hold anything on your card" in body
    with db.session() as session:
        assert session.scalar(select(ChargingSession).join(Station).where(
            Station.charge_point_id == station.charge_point_id)) is None


def test_a_rejected_remote_start_fails_the_session_and_releases_the_hold(server, db, charger,
                                                                          priced):
    charger.cp.answers["RemoteStartTransaction"] = lambda **_: call_result.RemoteStartTransaction(
        status="Rejected")
    token = _token(_start(server, priced[0]))
    released = _wait(lambda: (s := _session(db, token)).payment_state == PaymentState.RELEASED
                     and s)
    assert released.status == SessionStatus.FAILED
    _, _, body = page(server, "GET", f"/sessions/{token}")
    assert "The charger refused to start" in body
    assert "Your hold of €50.00 is released; nothing was charged." in body
    assert _start(server, priced[0])[0] == 303


def test_no_car_in_time_cancels_the_session_and_releases_the_hold(server, db, charger, priced,
                                                                   database_url):
    token = _token(_start(server, priced[0]))
    runtime = Runtime(load_settings({"database_url": database_url, "remote_start_timeout": 1},
                                    environ={}))
    try:
        time.sleep(1.1)
        runtime.run_housekeeping()
    finally:
        runtime.db.dispose()
    failed = _wait(lambda: (s := _session(db, token)).payment_state == PaymentState.RELEASED
                   and s)
    assert failed.failure_reason == "no car was plugged in in time"


def test_cancelling_before_the_car_is_plugged_in_releases_the_hold(server, db, charger, priced):
    token = _token(_start(server, priced[0]))
    page(server, "POST", f"/sessions/{token}/stop")
    cancelled = _wait(lambda: (s := _session(db, token)).payment_state == PaymentState.RELEASED
                      and s)
    assert cancelled.status == SessionStatus.FAILED


def _charging(server, charger, priced):
    token = _token(_start(server, priced[0]))
    started = charger.send(call.StartTransaction(
        connector_id=1, id_tag=_remote_start_tag(charger), meter_start=0, timestamp=now_iso()))
    charger.send(call.MeterValues(connector_id=1, transaction_id=started.transaction_id,
                                  meter_value=[{"timestamp": now_iso(), "sampled_value": [
                                      {"value": "4000"}]}]))
    return token, started.transaction_id


def test_unplugging_at_the_car_ends_and_bills_the_session(server, db, charger, priced):
    token, transaction_id = _charging(server, charger, priced)
    charger.send(call.StopTransaction(meter_stop=5000, timestamp=now_iso(),
                                      transaction_id=transaction_id, reason="EVDisconnected"))
    done = _wait(lambda: (s := _session(db, token)).payment_state == PaymentState.CAPTURED and s)
    assert (done.stop_reason, done.cost) == ("EVDisconnected", 35 + 195)


def test_a_fault_mid_session_ends_it_billed_up_to_the_last_reading(server, db, charger, priced):
    token, _ = _charging(server, charger, priced)
    charger.send(call.StatusNotification(connector_id=1, error_code="GroundFailure",
                                         status="Faulted"))
    done = _wait(lambda: (s := _session(db, token)).payment_state == PaymentState.CAPTURED and s)
    assert (done.stop_reason, done.energy_wh, done.cost) == ("ConnectorFault", 4000, 35 + 156)


def test_a_charger_offline_mid_session_is_shown_as_waiting(server, db, station, priced):
    with LibraryCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.send(call.StatusNotification(connector_id=1, error_code="NoError",
                                             status="Available"))
        token, _ = _charging(server, charger, priced)
    _wait(lambda: "Waiting for the charger" in page(server, "GET", f"/sessions/{token}",
                                                      htmx=True)[2])
    assert _session(db, token).status == SessionStatus.CHARGING


def test_an_unknown_session_link_says_so(server):
    status, _, body = page(server, "GET", "/sessions/not-a-real-token")
    assert status == 404
    assert "This session link is not valid" in body


def test_a_typed_charger_code_opens_its_plug_page(server, priced):
    status, headers, _ = page(server, "GET", f"/scan?code={priced[0].lower()}")
    assert status == 302
    assert headers["Location"].endswith(f"/c/{priced[0]}")


def test_a_code_that_is_not_a_charger_code_is_explained(server):
    status, _, body = page(server, "GET", "/scan?code=hello")
    assert status == 200
    assert "is not a charger code" in body


def test_find_a_spot_lists_a_site_by_name_with_availability(server, charger, priced):
    status, _, body = page(server, "GET", "/?q=Test+site")
    assert status == 200
    assert "Test site" in body
    assert re.search(r"\d+ of \d+ free", body)


def test_a_card_session_at_the_charger_is_priced_at_the_plugs_tariff(server, db, charger,
                                                                      priced):
    started = charger.send(call.StartTransaction(connector_id=2, id_tag="ANY-CARD",
                                                 meter_start=0, timestamp=now_iso()))
    charger.send(call.StopTransaction(meter_stop=1000, timestamp=now_iso(),
                                      transaction_id=started.transaction_id))
    with db.session() as session:
        done = session.get(ChargingSession, started.transaction_id)
        assert (done.cost, done.currency) == (35 + 39, "EUR")
        assert done.payment_state == PaymentState.NONE


def test_a_free_card_session_is_not_billed(server, db, charger, priced):
    make_card(db, "STAFF-CARD-1", billing="free")
    started = charger.send(call.StartTransaction(connector_id=2, id_tag="staff-card-1",
                                                 meter_start=0, timestamp=now_iso()))
    assert started.id_tag_info["status"] == "Accepted"
    charger.send(call.StopTransaction(meter_stop=1000, timestamp=now_iso(),
                                      transaction_id=started.transaction_id))
    with db.session() as session:
        assert session.get(ChargingSession, started.transaction_id).cost is None
