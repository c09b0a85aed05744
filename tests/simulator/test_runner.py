"""The fleet runner and the ``voltspot simulate`` options: which chargers speak which OCPP
version, and a 2.0.1 fleet running against a central system until told to stop."""

from __future__ import annotations

import asyncio

import pytest
from click.testing import CliRunner

from tests.support.central_system import central_system
from tests.support.waiting import run_async
from voltspot.cli import cli
from voltspot.simulator import SimulatedCharger, SimulatedCharger201, make_chargers, run_chargers
from voltspot.simulator.runner import versions_for


def test_chargers_take_the_given_versions_in_turn():
    assert versions_for(3, ["1.6"]) == ["1.6", "1.6", "1.6"]
    assert versions_for(4, ["1.6", "2.0.1"]) == ["1.6", "2.0.1", "1.6", "2.0.1"]
    assert versions_for(3, ["1.6", "1.6", "2.0.1"]) == ["1.6", "1.6", "2.0.1"]


def test_an_unknown_or_missing_version_is_refused():
    with pytest.raises(ValueError, match="2.1"):
        versions_for(1, ["2.1"])
    with pytest.raises(ValueError, match="no OCPP version"):
        versions_for(1, [])


def test_a_mixed_fleet_gets_a_charger_class_per_version_with_the_shared_settings():
    chargers = make_chargers("ws://127.0.0.1:1/ocpp", ["A", "B", "C"], "pw", connectors=3,
                             ocpp_versions=["1.6", "2.0.1"], tx_start_point="EVConnected",
                             speed=5)
    assert [type(c) for c in chargers] == [SimulatedCharger, SimulatedCharger201,
                                           SimulatedCharger]
    assert [c.url for c in chargers] == [f"ws://127.0.0.1:1/ocpp/{n}" for n in "ABC"]
    assert {c.speed for c in chargers} == {5}
    station = chargers[1]
    assert station.device_model.value("TxCtrlr", "TxStartPoint") == "EVConnected"
    assert station.device_model.value("EVSE", "Power", evse=3) == "22000"


def test_a_201_fleet_boots_every_charger_and_returns_when_told_to_stop():
    async def scenario():
        async with central_system() as csms:
            stop = asyncio.Event()
            fleet = asyncio.create_task(run_chargers(
                csms.url, ["F-1", "F-2"], "pw", ocpp_versions=["2.0.1"], auto_sessions=False,
                stop_event=stop))
            await csms.wait_for(lambda: len(csms.messages("StatusNotification")) == 4)
            assert sorted(c.path for c in csms.connections) == ["/ocpp/F-1", "/ocpp/F-2"]
            stop.set()
            await asyncio.wait_for(fleet, 5)

    run_async(scenario)


def test_simulate_offers_the_201_options():
    result = CliRunner().invoke(cli, ["simulate", "--help"])
    assert result.exit_code == 0
    for option in ("--ocpp [1.6|2.0.1]", "--measurands", "--tx-start-point", "--unlock"):
        assert option in result.output


def test_simulate_refuses_measurands_a_charger_cannot_sample():
    result = CliRunner().invoke(cli, ["simulate", "--url", "ws://127.0.0.1:1/ocpp", "--id", "X",
                                      "--ocpp", "2.0.1", "--measurands", "Humidity"])
    assert result.exit_code == 2
    assert "--measurands" in result.output


def test_a_fleet_can_be_told_how_to_treat_charging_profiles():
    chargers = make_chargers("ws://127.0.0.1:1/ocpp", ["A", "B"], "pw",
                             ocpp_versions=["1.6", "2.0.1"], profiles="reject")
    assert [(c.profiles.reject, c.profiles.ignore) for c in chargers] == [(True, False)] * 2
    level0 = make_chargers("ws://127.0.0.1:1/ocpp", ["A"], "pw", profiles="level0")
    assert level0[0].profiles.stack_level_zero_only
    with pytest.raises(ValueError, match="obey, reject, ignore, level0"):
        make_chargers("ws://127.0.0.1:1/ocpp", ["A"], "pw", profiles="sometimes")
