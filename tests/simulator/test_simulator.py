"""The simulated chargers, 1.6J and 2.0.1, against the live CSMS: what the demo and the
benchmark rely on."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from tests.support.http import api, command
from tests.support.waiting import running
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, IdToken, Station, TransactionEvent
from voltspot.simulator import SimulatedCharger, SimulatedCharger201


def _wait_for(predicate, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _simulated_drivers_card(db, id_tag):
    with db.session() as session:
        if session.scalar(select(IdToken).where(IdToken.id_tag == id_tag)) is None:
            session.add(IdToken(id_tag=id_tag, holder_name="Simulated driver"))


def _runner(loop):
    """Run one of the simulated charger's coroutines on its loop and wait for it."""
    return lambda coroutine: asyncio.run_coroutine_threadsafe(coroutine, loop).result(15)


def _sessions(db, charge_point_id):
    with db.session() as session:
        return session.scalars(select(ChargingSession).join(Station).where(
            Station.charge_point_id == charge_point_id).order_by(ChargingSession.id)).all()


def test_a_simulated_charger_boots_and_reports_every_connector(server, station, db):
    charger = SimulatedCharger(server.ws_url, station.charge_point_id, station.password,
                               step_delay=0)
    with running(charger):
        def reported():
            with db.session() as session:
                stored = session.scalar(select(Station).where(
                    Station.charge_point_id == station.charge_point_id))
                return stored.vendor and [c.status for c in stored.connectors]
        assert _wait_for(lambda: reported() == ["Available", "Available"])


def test_a_simulated_session_delivers_energy_and_soc_then_ends(server, station, db):
    _simulated_drivers_card(db, "SIM-CARD")
    charger = SimulatedCharger(server.ws_url, station.charge_point_id, station.password,
                               step_delay=0, meter_interval=3600)
    with running(charger) as loop:
        run = _runner(loop)
        transaction_id = run(charger.plug_in(1, "SIM-CARD"))
        run(charger.send_meter_values(1, elapsed=600))
        live = _sessions(db, station.charge_point_id)[-1]
        assert live.transaction_id == transaction_id
        assert live.energy_wh > 1000
        assert live.power_w > 0 and 0 < live.soc_percent <= 100
        run(charger.unplug(1))
    done = _sessions(db, station.charge_point_id)[-1]
    assert (done.status, done.stop_reason) == (SessionStatus.COMPLETED, "EVDisconnected")


def test_remote_start_and_stop_through_the_api_drive_the_simulator(server, station, db):
    charger = SimulatedCharger(server.ws_url, station.charge_point_id, station.password,
                               step_delay=0)
    with running(charger):
        status, body = command(server, station.charge_point_id, "RemoteStartTransaction",
                               {"idTag": "APP-SIM", "connectorId": 2})
        assert body["status"] == "Accepted"
        token = body["sessionToken"]
        state = _wait_for(lambda: (s := api(server, "GET", f"/api/sessions/{token}")[1])
                          ["transactionId"] and s)
        assert state["status"] == "charging"
        status, body = command(server, station.charge_point_id, "RemoteStopTransaction",
                               {"transactionId": state["transactionId"]})
        assert body["status"] == "Accepted"
        stopped = _wait_for(lambda: (s := api(server, "GET", f"/api/sessions/{token}")[1])
                            ["status"] == "completed" and s)
        assert stopped["stopReason"] == "Remote"


def test_a_simulated_201_charger_boots_reports_every_evse_and_is_configured(server, station,
                                                                             db):
    charger = SimulatedCharger201(server.ws_url, station.charge_point_id, station.password,
                                  step_delay=0)
    with running(charger):
        def reported():
            with db.session() as session:
                stored = session.scalar(select(Station).where(
                    Station.charge_point_id == station.charge_point_id))
                return (stored.vendor, stored.ocpp_version, [c.status for c in stored.connectors],
                        bool(stored.device_model))
        assert _wait_for(lambda: reported() == ("Voltspot", "2.0.1", ["Available", "Available"],
                                                True))
        assert charger.device_model.value("SampledDataCtrlr", "TxUpdatedMeasurands")


def test_a_simulated_201_session_delivers_energy_and_soc_then_ends(server, station, db):
    _simulated_drivers_card(db, "SIM-CARD-201")
    charger = SimulatedCharger201(server.ws_url, station.charge_point_id, station.password,
                                  step_delay=0, meter_interval=3600)
    with running(charger) as loop:
        run = _runner(loop)
        assert _wait_for(lambda: charger.device_model.value(
            "SampledDataCtrlr", "TxUpdatedMeasurands"))
        transaction_id = run(charger.plug_in(1, "SIM-CARD-201"))
        run(charger.send_meter_values(1, elapsed=600))
        live = _sessions(db, station.charge_point_id)[-1]
        assert live.charger_transaction_id == transaction_id
        assert live.status == SessionStatus.CHARGING
        assert live.energy_wh > 1000
        assert live.power_w > 0 and 0 < live.soc_percent <= 100
        run(charger.unplug(1))
    done = _sessions(db, station.charge_point_id)[-1]
    assert (done.status, done.stop_reason) == (SessionStatus.COMPLETED, "EVDisconnected")


@pytest.mark.parametrize("tx_start_point", ["PowerPathClosed", "EVConnected"])
def test_remote_start_and_stop_through_the_api_drive_the_201_simulator(server, station, db,
                                                                       tx_start_point):
    charger = SimulatedCharger201(server.ws_url, station.charge_point_id, station.password,
                                  step_delay=0, tx_start_point=tx_start_point)
    with running(charger):
        status, body = command(server, station.charge_point_id, "RequestStartTransaction",
                               {"idToken": {"idToken": "APP-SIM-201", "type": "Central"},
                                "evseId": 2})
        assert body["status"] == "Accepted", body
        token = body["sessionToken"]
        state = _wait_for(lambda: (s := api(server, "GET", f"/api/sessions/{token}")[1])
                          ["transactionId"] and s)
        assert state["status"] == "charging"
        assert state["chargerTransactionId"] == charger.transactions[2]
        status, body = command(server, station.charge_point_id, "RequestStopTransaction",
                               {"transactionId": state["chargerTransactionId"]})
        assert body["status"] == "Accepted", body
        stopped = _wait_for(lambda: (s := api(server, "GET", f"/api/sessions/{token}")[1])
                            ["status"] == "completed" and s)
        assert stopped["stopReason"] == "Remote"


def test_a_201_session_ended_while_offline_is_replayed_once_after_reconnecting(server, station,
                                                                              db):
    _simulated_drivers_card(db, "SIM-CARD-201")
    charger = SimulatedCharger201(server.ws_url, station.charge_point_id, station.password,
                                  step_delay=0, meter_interval=3600)
    with running(charger) as loop:
        run = _runner(loop)
        assert _wait_for(lambda: charger.device_model.value(
            "SampledDataCtrlr", "TxUpdatedMeasurands"))
        transaction_id = run(charger.plug_in(1, "SIM-CARD-201"))
        run(charger.lose_connection())
        assert not charger.booted.is_set()
        meter = asyncio.run_coroutine_threadsafe(charger.send_meter_values(1, elapsed=600), loop)
        unplugged = asyncio.run_coroutine_threadsafe(charger.unplug(1), loop)
        meter.result(15)
        unplugged.result(15)
        assert charger.boot_count == 1
    done = _sessions(db, station.charge_point_id)[-1]
    assert done.charger_transaction_id == transaction_id
    assert (done.status, done.stop_reason) == (SessionStatus.COMPLETED, "EVDisconnected")
    assert done.energy_wh > 1000
    with db.session() as session:
        seq_nos = session.scalars(select(TransactionEvent.seq_no).where(
            TransactionEvent.charger_transaction_id == transaction_id)).all()
    assert sorted(seq_nos) == [0, 1, 2]
