"""The simulated OCPP 2.0.1 charger against a small in-test central system: what a CSMS
sees from it, message by message."""

from __future__ import annotations

import asyncio
import base64

import pytest
from ocpp.exceptions import NotImplementedError as OCPPNotImplemented
from ocpp.v201 import call

from tests.support.central_system import CHARGE_POINT_ID, PASSWORD, parse_time, play
from voltspot.simulator import SessionRefused, SimulatedCharger201

MEASURANDS = "Energy.Active.Import.Register,Power.Active.Import,SoC"


def _card(token: str) -> dict:
    return {"id_token": token, "type": "ISO14443"}


def _variable(component: str, name: str, *, instance: str | None = None,
              evse: int | None = None, connector: int | None = None) -> dict:
    component_payload: dict = {"name": component}
    if evse is not None:
        component_payload["evse"] = {"id": evse}
        if connector is not None:
            component_payload["evse"]["connector_id"] = connector
    variable = {"name": name} if instance is None else {"name": name, "instance": instance}
    return {"component": component_payload, "variable": variable}


async def _set(csms, component: str, name: str, value: str, **where) -> str:
    result = await csms.send(call.SetVariables(set_variable_data=[
        {**_variable(component, name, **where), "attribute_value": value}]))
    return result.set_variable_result[0]["attribute_status"]


async def _get(csms, component: str, name: str, **where) -> dict:
    result = await csms.send(call.GetVariables(get_variable_data=[
        _variable(component, name, **where)]))
    return result.get_variable_result[0]


def _statuses(csms, evse_id: int) -> list[str]:
    return [s["connector_status"] for s in csms.messages("StatusNotification")
            if s["evse_id"] == evse_id]


# -- connecting and booting --------------------------------------------------------------

def test_it_connects_with_the_201_subprotocol_and_basic_auth():
    async def scenario(csms, charger):
        (connection,) = csms.connections
        assert connection.path == f"/ocpp/{CHARGE_POINT_ID}"
        assert connection.subprotocol == "ocpp2.0.1"
        expected = base64.b64encode(f"{CHARGE_POINT_ID}:{PASSWORD}".encode()).decode()
        assert connection.authorization == f"Basic {expected}"

    play(scenario)


def test_it_boots_for_power_up_describing_the_station():
    async def scenario(csms, charger):
        (boot,) = csms.messages("BootNotification")
        assert boot["reason"] == "PowerUp"
        station = boot["charging_station"]
        assert (station["model"], station["vendor_name"]) == ("Simulator", "Voltspot")
        assert station["serial_number"] == charger.serial
        assert station["firmware_version"].startswith("voltspot-sim")
        assert charger.boot_count == 1 and charger.registration == "Accepted"

    play(scenario)


def test_it_reports_each_evse_connector_as_available_after_boot():
    async def scenario(csms, charger):
        statuses = csms.messages("StatusNotification")
        assert [(s["evse_id"], s["connector_id"], s["connector_status"]) for s in statuses] == [
            (1, 1, "Available"), (2, 1, "Available"), (3, 1, "Available")]
        assert all(parse_time(s["timestamp"]) for s in statuses)

    play(scenario, evses=3)


def test_heartbeats_follow_the_interval_the_boot_answer_gives():
    async def scenario(csms, charger):
        await csms.wait_for(lambda: len(csms.messages("Heartbeat")) >= 1, seconds=3)
        assert (await _get(csms, "OCPPCommCtrlr", "HeartbeatInterval"))["attribute_value"] == "1"

    play(scenario, csms={"boot_interval": 1})


def test_while_pending_it_answers_device_model_requests_then_boots_when_triggered():
    async def scenario(csms, charger):
        await csms.wait_for(lambda: charger.registration == "Pending")
        assert await _set(csms, "SampledDataCtrlr", "TxUpdatedMeasurands", MEASURANDS) == (
            "Accepted")
        got = await _get(csms, "SampledDataCtrlr", "TxUpdatedMeasurands")
        assert got["attribute_value"] == MEASURANDS
        report = await csms.send(call.GetBaseReport(request_id=7,
                                                    report_base="ConfigurationInventory"))
        assert report.status == "Accepted"
        await csms.wait_for(lambda: any(not r.get("tbc") for r in csms.messages("NotifyReport")))
        assert not charger.booted.is_set() and csms.messages("StatusNotification") == []
        triggered = await csms.send(call.TriggerMessage(requested_message="BootNotification"))
        assert triggered.status == "Accepted"
        await asyncio.wait_for(charger.booted.wait(), 3)
        assert [b["reason"] for b in csms.messages("BootNotification")] == ["PowerUp"] * 2

    play(scenario, csms={"boot_answers": ["Pending", "Accepted"], "boot_interval": 60},
         wait_for_boot=False)


def test_while_rejected_it_ignores_the_csms_and_boots_again_after_the_interval():
    async def scenario(csms, charger):
        await csms.wait_for(lambda: charger.registration == "Rejected")
        with pytest.raises(asyncio.TimeoutError):
            await csms.send(call.GetVariables(get_variable_data=[
                _variable("OCPPCommCtrlr", "HeartbeatInterval")]))
        await asyncio.wait_for(charger.booted.wait(), 3)
        assert len(csms.messages("BootNotification")) == 2

    play(scenario, csms={"boot_answers": ["Rejected", "Accepted"], "boot_interval": 1,
                         "response_timeout": 0.5}, wait_for_boot=False)


# -- the device model --------------------------------------------------------------------

def test_get_variables_answers_known_unknown_component_and_unknown_variable():
    async def scenario(csms, charger):
        result = await csms.send(call.GetVariables(get_variable_data=[
            _variable("ChargingStation", "Model"),
            _variable("TxCtrlr", "TxStartPoint"),
            _variable("Connector", "ConnectorType", evse=2, connector=1),
            _variable("NoSuchCtrlr", "Enabled"),
            _variable("EVSE", "Power", evse=9),
            _variable("TxCtrlr", "NoSuchVariable"),
            {**_variable("TxCtrlr", "TxStartPoint"), "attribute_type": "Target"},
        ]))
        assert [(r["attribute_status"], r.get("attribute_value"))
                for r in result.get_variable_result] == [
            ("Accepted", "Simulator"), ("Accepted", "PowerPathClosed"), ("Accepted", "cType2"),
            ("UnknownComponent", None), ("UnknownComponent", None), ("UnknownVariable", None),
            ("NotSupportedAttributeType", None)]

    play(scenario)


def test_set_variables_validates_values_and_refuses_read_only_ones():
    async def scenario(csms, charger):
        assert await _set(csms, "SampledDataCtrlr", "TxUpdatedInterval", "5") == "Accepted"
        assert await _set(csms, "SampledDataCtrlr", "TxUpdatedInterval", "soon") == "Rejected"
        assert await _set(csms, "SampledDataCtrlr", "TxUpdatedMeasurands", "Humidity") == (
            "Rejected")
        assert await _set(csms, "TxCtrlr", "TxStartPoint", "EVConnected") == "Accepted"
        assert await _set(csms, "TxCtrlr", "TxStartPoint", "EVConnected,PowerPathClosed") == (
            "Rejected")
        assert await _set(csms, "ChargingStation", "Model", "Other") == "Rejected"
        assert await _set(csms, "TxCtrlr", "NoSuchVariable", "1") == "UnknownVariable"
        assert await _set(csms, "NoSuchCtrlr", "Enabled", "true") == "UnknownComponent"
        assert (await _get(csms, "SampledDataCtrlr", "TxUpdatedInterval"))[
            "attribute_value"] == "5"

    play(scenario)


def test_get_base_report_is_sent_as_numbered_notify_reports():
    async def scenario(csms, charger):
        answer = await csms.send(call.GetBaseReport(request_id=42, report_base="FullInventory"))
        assert answer.status == "Accepted"
        reports = await csms.wait_for(lambda: (r := csms.messages("NotifyReport"))
                                      and not r[-1].get("tbc") and r)
        assert len(reports) > 1
        assert [r["seq_no"] for r in reports] == list(range(len(reports)))
        assert [r["tbc"] for r in reports] == [True] * (len(reports) - 1) + [False]
        assert {r["request_id"] for r in reports} == {42}
        assert all(parse_time(r["generated_at"]) for r in reports)
        entries = [entry for r in reports for entry in r["report_data"]]
        by_name = {(e["component"]["name"], e["variable"]["name"],
                    e["component"].get("evse", {}).get("id")): e for e in entries}
        measurands = by_name[("SampledDataCtrlr", "TxUpdatedMeasurands", None)]
        assert measurands["variable_attribute"] == [
            {"type": "Actual", "value": "", "mutability": "ReadWrite", "persistent": True,
             "constant": False}]
        assert measurands["variable_characteristics"]["data_type"] == "MemberList"
        assert "SoC" in measurands["variable_characteristics"]["values_list"]
        assert by_name[("ChargingStation", "VendorName", None)]["variable_attribute"][0][
            "mutability"] == "ReadOnly"
        assert by_name[("EVSE", "AvailabilityState", 2)]["variable_attribute"][0][
            "value"] == "Available"
        assert ("Connector", "ConnectorType", 1) in by_name
        assert ("OCPPCommCtrlr", "HeartbeatInterval", None) in by_name
        assert ("AuthCtrlr", "AuthorizeRemoteStart", None) in by_name

    play(scenario)


def test_configuration_and_summary_reports_hold_what_their_names_say():
    async def scenario(csms, charger):
        for request_id, base in ((1, "ConfigurationInventory"), (2, "SummaryInventory")):
            assert (await csms.send(call.GetBaseReport(request_id=request_id,
                                                       report_base=base))).status == "Accepted"
            await csms.wait_for(lambda rid=request_id: any(
                r["request_id"] == rid and not r.get("tbc") for r in csms.messages("NotifyReport")))

        def entries(request_id):
            return [e for r in csms.messages("NotifyReport") if r["request_id"] == request_id
                    for e in r["report_data"]]
        assert {e["variable_attribute"][0]["mutability"] for e in entries(1)} == {"ReadWrite"}
        assert {e["variable"]["name"] for e in entries(2)} == {"AvailabilityState", "Available"}

    play(scenario)


# -- sessions ----------------------------------------------------------------------------

def test_an_rfid_session_with_power_path_closed_starts_once_authorized():
    async def scenario(csms, charger):
        transaction_id = await charger.plug_in(1, "CARD-1")
        (authorize,) = csms.messages("Authorize")
        assert authorize["id_token"] == _card("CARD-1")
        assert _statuses(csms, 1)[-1] == "Occupied"
        (started,) = csms.messages("TransactionEvent")
        assert started["event_type"] == "Started"
        assert started["trigger_reason"] == "Authorized"
        assert started["seq_no"] == 0 and started["offline"] is False
        assert started["transaction_info"] == {"transaction_id": transaction_id,
                                               "charging_state": "Charging"}
        assert started["id_token"] == _card("CARD-1")
        assert started["evse"] == {"id": 1, "connector_id": 1}
        (begin,) = started["meter_value"]
        (energy,) = begin["sampled_value"]
        assert energy["measurand"] == "Energy.Active.Import.Register"
        assert energy["context"] == "Transaction.Begin"
        assert energy["unit_of_measure"] == {"unit": "Wh"}
        assert isinstance(energy["value"], int | float)
        assert charger.transactions == {1: transaction_id}

    play(scenario)


def test_with_tx_start_point_ev_connected_plugging_in_starts_a_transaction_without_id_token():
    async def scenario(csms, charger):
        transaction_id = await charger.plug_in(2)
        (started,) = csms.messages("TransactionEvent")
        assert (started["event_type"], started["trigger_reason"]) == ("Started", "CablePluggedIn")
        assert "id_token" not in started
        assert started["transaction_info"] == {"transaction_id": transaction_id,
                                               "charging_state": "EVConnected"}
        assert started["evse"] == {"id": 2, "connector_id": 1}

    play(scenario, tx_start_point="EVConnected")


def test_with_ev_connected_a_card_authorizes_the_running_transaction_then_charging_starts():
    async def scenario(csms, charger):
        transaction_id = await charger.plug_in(1, "CARD-2")
        events = csms.messages("TransactionEvent")
        assert [(e["event_type"], e["trigger_reason"], e["transaction_info"]["charging_state"],
                 e["seq_no"]) for e in events] == [
            ("Started", "CablePluggedIn", "EVConnected", 0),
            ("Updated", "Authorized", "EVConnected", 1),
            ("Updated", "ChargingStateChanged", "Charging", 2)]
        assert events[1]["id_token"] == _card("CARD-2")
        assert {e["transaction_info"]["transaction_id"] for e in events} == {transaction_id}

    play(scenario, tx_start_point="EVConnected")


def test_no_meter_values_are_sent_until_the_csms_sets_tx_updated_measurands():
    async def scenario(csms, charger):
        await charger.plug_in(1, "CARD-3")
        await asyncio.sleep(1.3)
        assert csms.events(trigger_reason="MeterValuePeriodic") == []
        assert await _set(csms, "SampledDataCtrlr", "TxUpdatedMeasurands", MEASURANDS) == (
            "Accepted")
        periodic = await csms.wait_for(lambda: csms.events(trigger_reason="MeterValuePeriodic"),
                                       seconds=3)
        (sample,) = periodic[0]["meter_value"]
        values = {v["measurand"]: v for v in sample["sampled_value"]}
        assert set(values) == set(MEASURANDS.split(","))
        assert {m: v["unit_of_measure"]["unit"] for m, v in values.items()} == {
            "Energy.Active.Import.Register": "Wh", "Power.Active.Import": "W", "SoC": "Percent"}
        assert {v["context"] for v in values.values()} == {"Sample.Periodic"}
        assert values["Power.Active.Import"]["value"] == 22000
        assert 0 < values["SoC"]["value"] <= 100
        assert periodic[0]["transaction_info"]["charging_state"] == "Charging"

    play(scenario, meter_interval=1)


def test_configured_measurands_are_sent_every_tx_updated_interval_with_growing_energy():
    async def scenario(csms, charger):
        await charger.plug_in(1, "CARD-4")
        periodic = await csms.wait_for(
            lambda: len(e := csms.events(trigger_reason="MeterValuePeriodic")) >= 2 and e,
            seconds=4)
        energy = [next(v["value"] for v in e["meter_value"][0]["sampled_value"]
                       if v["measurand"] == "Energy.Active.Import.Register") for e in periodic]
        assert energy[1] > energy[0]
        assert [e["seq_no"] for e in csms.messages("TransactionEvent")] == list(
            range(len(csms.messages("TransactionEvent"))))

    play(scenario, meter_interval=1, speed=60,
         tx_updated_measurands="Energy.Active.Import.Register")


def test_a_remote_start_before_the_car_arrives_echoes_the_remote_start_id():
    async def scenario(csms, charger):
        answer = await csms.send(call.RequestStartTransaction(
            id_token=_card("APP-1"), remote_start_id=4711, evse_id=2))
        assert answer.status == "Accepted" and answer.transaction_id is None
        events = await csms.wait_for(lambda: len(e := csms.messages("TransactionEvent")) >= 2
                                     and e)
        started, plugged = events
        assert (started["event_type"], started["trigger_reason"]) == ("Started", "RemoteStart")
        assert started["transaction_info"]["remote_start_id"] == 4711
        assert started["id_token"] == {"id_token": "APP-1", "type": "ISO14443"}
        assert started["evse"] == {"id": 2, "connector_id": 1}
        assert (plugged["event_type"], plugged["trigger_reason"]) == ("Updated",
                                                                      "CablePluggedIn")
        assert plugged["transaction_info"]["charging_state"] == "Charging"
        assert [started["seq_no"], plugged["seq_no"]] == [0, 1]
        assert csms.messages("Authorize") == []
        assert _statuses(csms, 2)[-1] == "Occupied"

    play(scenario)


def test_a_remote_start_for_a_running_transaction_answers_its_id():
    async def scenario(csms, charger):
        transaction_id = await charger.plug_in(1)
        answer = await csms.send(call.RequestStartTransaction(
            id_token=_card("APP-2"), remote_start_id=5, evse_id=1))
        assert (answer.status, answer.transaction_id) == ("Accepted", transaction_id)
        remote = await csms.wait_for(lambda: csms.events(trigger_reason="RemoteStart"))
        assert remote[0]["event_type"] == "Updated"
        assert remote[0]["transaction_info"]["remote_start_id"] == 5
        await csms.wait_for(lambda: csms.events(trigger_reason="ChargingStateChanged"))

    play(scenario, tx_start_point="EVConnected")


def test_a_remote_start_on_a_busy_evse_is_rejected():
    async def scenario(csms, charger):
        await charger.plug_in(1, "CARD-5")
        answer = await csms.send(call.RequestStartTransaction(
            id_token=_card("APP-3"), remote_start_id=6, evse_id=1))
        assert answer.status == "Rejected"

    play(scenario)


def test_a_remote_stop_ends_the_transaction_with_reason_remote():
    async def scenario(csms, charger):
        transaction_id = await charger.plug_in(1, "CARD-6")
        answer = await csms.send(call.RequestStopTransaction(transaction_id=transaction_id))
        assert answer.status == "Accepted"
        (ended,) = await csms.wait_for(lambda: csms.events(event_type="Ended"))
        assert ended["trigger_reason"] == "RemoteStop"
        assert ended["transaction_info"]["stopped_reason"] == "Remote"
        assert ended["transaction_info"]["transaction_id"] == transaction_id
        assert ended["meter_value"][0]["sampled_value"][0]["context"] == "Transaction.End"
        await csms.wait_for(lambda: _statuses(csms, 1)[-1] == "Available")
        assert charger.transactions == {}

    play(scenario)


def test_a_remote_stop_of_an_unknown_transaction_is_rejected():
    async def scenario(csms, charger):
        answer = await csms.send(call.RequestStopTransaction(transaction_id="no-such-tx"))
        assert answer.status == "Rejected"

    play(scenario)


def test_unplugging_ends_with_ev_disconnected_and_frees_the_evse():
    async def scenario(csms, charger):
        await charger.plug_in(1, "CARD-7")
        await charger.unplug(1)
        (ended,) = csms.events(event_type="Ended")
        assert ended["trigger_reason"] == "EVCommunicationLost"
        assert ended["transaction_info"]["stopped_reason"] == "EVDisconnected"
        assert ended["transaction_info"]["charging_state"] == "Idle"
        assert _statuses(csms, 1)[-2:] == ["Occupied", "Available"]

    play(scenario)


def test_a_local_stop_may_carry_no_stopped_reason():
    async def scenario(csms, charger):
        await charger.plug_in(1, "CARD-8")
        await charger.unplug(1, reason=None)
        (ended,) = csms.events(event_type="Ended")
        assert ended["trigger_reason"] == "StopAuthorized"
        assert "stopped_reason" not in ended["transaction_info"]

    play(scenario)


def test_a_full_car_suspends_then_its_driver_unplugs():
    async def scenario(csms, charger):
        await charger.plug_in(1, "CARD-9")
        ended = await csms.wait_for(lambda: csms.events(event_type="Ended"), seconds=5)
        suspended = csms.events(trigger_reason="ChargingStateChanged")
        assert suspended[-1]["transaction_info"]["charging_state"] == "SuspendedEV"
        assert ended[0]["transaction_info"]["stopped_reason"] == "EVDisconnected"
        assert ended[0]["seq_no"] == suspended[-1]["seq_no"] + 1

    play(scenario, meter_interval=1, speed=3600, battery_kwh=5)


def test_each_transaction_counts_its_seq_no_from_zero():
    async def scenario(csms, charger):
        first = await charger.plug_in(1, "CARD-10")
        await charger.unplug(1)
        second = await charger.plug_in(1, "CARD-10")
        assert first != second
        assert [(e["transaction_info"]["transaction_id"], e["seq_no"])
                for e in csms.messages("TransactionEvent")] == [
            (first, 0), (first, 1), (second, 0)]

    play(scenario)


def test_a_card_the_csms_refuses_starts_nothing_and_the_car_leaves():
    async def scenario(csms, charger):
        with pytest.raises(SessionRefused):
            await charger.plug_in(1, "STOLEN")
        assert csms.messages("TransactionEvent") == []
        assert _statuses(csms, 1)[-2:] == ["Occupied", "Available"]

    play(scenario, csms={"refused_tokens": {"STOLEN": "Blocked"}})


def test_cars_arrive_on_their_own_with_auto_sessions():
    async def scenario(csms, charger):
        started = await csms.wait_for(lambda: csms.events(event_type="Started"), seconds=5)
        assert started[0]["id_token"]["id_token"] in ("AUTO-1", "AUTO-2")

    play(scenario, auto_sessions=True, session_interval=0.2, id_tags=["AUTO-1", "AUTO-2"])


# -- connection loss ---------------------------------------------------------------------

def test_events_are_queued_offline_and_replayed_in_order_with_an_unanswered_one_resent():
    async def scenario(csms, charger):
        transaction_id = await charger.plug_in(1, "CARD-11")
        csms.drop_on_next_transaction_event = True
        meter = asyncio.ensure_future(charger.send_meter_values(1, elapsed=600))
        await csms.wait_for(lambda: not charger.booted.is_set())
        unplugged = asyncio.ensure_future(charger.unplug(1))
        await csms.wait_for(lambda: charger.queued_transaction_events == 2)
        await asyncio.wait_for(asyncio.gather(meter, unplugged), 5)

        assert len(csms.connections) == 2
        assert [b["reason"] for b in csms.messages("BootNotification")] == ["PowerUp"]
        events = csms.messages("TransactionEvent")
        assert [(e["seq_no"], e["event_type"]) for e in events] == [
            (0, "Started"), (1, "Updated"), (1, "Updated"), (2, "Ended")]
        assert events[1] == events[2]
        assert events[1]["offline"] is False
        assert events[3]["offline"] is True
        assert {e["transaction_info"]["transaction_id"] for e in events} == {transaction_id}
        reconnected = csms.connections[1].at
        assert parse_time(events[3]["timestamp"]) < reconnected
        replayed = [r for r in csms.received if r.action == "TransactionEvent"]
        assert [r.connection for r in replayed] == [1, 1, 2, 2]

    play(scenario)


# -- commands ----------------------------------------------------------------------------

def test_an_immediate_reset_ends_transactions_and_boots_again_for_remote_reset():
    async def scenario(csms, charger):
        await charger.plug_in(1, "CARD-12")
        assert (await csms.send(call.Reset(type="Immediate"))).status == "Accepted"
        await csms.wait_for(lambda: charger.boot_count == 2 and charger.booted.is_set())
        (ended,) = csms.events(event_type="Ended")
        assert ended["trigger_reason"] == "ResetCommand"
        assert ended["transaction_info"]["stopped_reason"] == "ImmediateReset"
        assert [b["reason"] for b in csms.messages("BootNotification")] == [
            "PowerUp", "RemoteReset"]
        assert _statuses(csms, 1)[-1] == "Available" and charger.transactions == {}

    play(scenario)


def test_an_on_idle_reset_waits_for_the_transaction_and_boots_for_scheduled_reset():
    async def scenario(csms, charger):
        await charger.plug_in(1, "CARD-13")
        assert (await csms.send(call.Reset(type="OnIdle"))).status == "Scheduled"
        await asyncio.sleep(0.2)
        assert len(csms.messages("BootNotification")) == 1
        await charger.unplug(1)
        await csms.wait_for(lambda: charger.boot_count == 2)
        assert csms.messages("BootNotification")[-1]["reason"] == "ScheduledReset"

    play(scenario)


def test_an_idle_station_resets_at_once_on_idle():
    async def scenario(csms, charger):
        assert (await csms.send(call.Reset(type="OnIdle"))).status == "Accepted"
        await csms.wait_for(lambda: charger.boot_count == 2)

    play(scenario)


def test_unlock_connector_unlocks_a_connector_without_an_authorized_transaction():
    async def scenario(csms, charger):
        await charger.plug_in(1)
        unlocked = await csms.send(call.UnlockConnector(evse_id=1, connector_id=1))
        assert unlocked.status == "Unlocked"
        await csms.wait_for(lambda: _statuses(csms, 1)[-1] == "Available")
        await charger.plug_in(2, "CARD-14")
        busy = await csms.send(call.UnlockConnector(evse_id=2, connector_id=1))
        assert busy.status == "OngoingAuthorizedTransaction"
        unknown = await csms.send(call.UnlockConnector(evse_id=7, connector_id=1))
        assert unknown.status == "UnknownConnector"

    play(scenario)


def test_unlock_connector_can_be_answered_with_a_not_implemented_call_error():
    async def scenario(csms, charger):
        with pytest.raises(OCPPNotImplemented):
            await csms.send(call.UnlockConnector(evse_id=1, connector_id=1))
        assert charger.booted.is_set()

    play(scenario, unlock_connector="NotImplemented")


def test_change_availability_makes_an_evse_unavailable_and_back():
    async def scenario(csms, charger):
        answer = await csms.send(call.ChangeAvailability(operational_status="Inoperative",
                                                         evse={"id": 2}))
        assert answer.status == "Accepted"
        await csms.wait_for(lambda: _statuses(csms, 2)[-1] == "Unavailable")
        assert _statuses(csms, 1) == ["Available"]
        answer = await csms.send(call.ChangeAvailability(operational_status="Operative"))
        assert answer.status == "Accepted"
        await csms.wait_for(lambda: _statuses(csms, 2)[-1] == "Available")

    play(scenario)


def test_change_availability_during_a_transaction_is_scheduled_until_the_car_leaves():
    async def scenario(csms, charger):
        await charger.plug_in(1, "CARD-15")
        answer = await csms.send(call.ChangeAvailability(operational_status="Inoperative"))
        assert answer.status == "Scheduled"
        await csms.wait_for(lambda: _statuses(csms, 2)[-1] == "Unavailable")
        assert _statuses(csms, 1)[-1] == "Occupied"
        await charger.unplug(1)
        assert _statuses(csms, 1)[-1] == "Unavailable"

    play(scenario)


@pytest.mark.parametrize(("requested", "action"), [
    ("Heartbeat", "Heartbeat"), ("StatusNotification", "StatusNotification"),
    ("MeterValues", "MeterValues"), ("BootNotification", "BootNotification")])
def test_trigger_message_is_accepted_then_the_message_follows(requested, action):
    async def scenario(csms, charger):
        before = len(csms.messages(action))
        evse = {"id": 1, "connector_id": 1} if requested != "BootNotification" else None
        answer = await csms.send(call.TriggerMessage(requested_message=requested, evse=evse))
        assert answer.status == "Accepted"
        sent = await csms.wait_for(lambda: len(m := csms.messages(action)) > before and m)
        if requested == "BootNotification":
            assert sent[-1]["reason"] == "Triggered"
        if requested == "MeterValues":
            assert sent[-1]["evse_id"] == 1
            assert sent[-1]["meter_value"][0]["sampled_value"][0]["context"] == "Trigger"

    play(scenario)


def test_trigger_message_for_a_transaction_event_needs_a_transaction():
    async def scenario(csms, charger):
        refused = await csms.send(call.TriggerMessage(requested_message="TransactionEvent"))
        assert refused.status == "Rejected"
        await charger.plug_in(1, "CARD-16")
        answer = await csms.send(call.TriggerMessage(requested_message="TransactionEvent"))
        assert answer.status == "Accepted"
        (triggered,) = await csms.wait_for(lambda: csms.events(trigger_reason="Trigger"))
        assert triggered["event_type"] == "Updated"

    play(scenario)


def test_clear_cache_is_accepted_and_data_transfer_has_no_vendor():
    async def scenario(csms, charger):
        assert (await csms.send(call.ClearCache())).status == "Accepted"
        answer = await csms.send(call.DataTransfer(vendor_id="com.example"))
        assert answer.status == "UnknownVendorId"

    play(scenario)


def test_a_fault_ends_the_transaction_and_shows_faulted_until_cleared():
    async def scenario(csms, charger):
        await charger.plug_in(1, "CARD-17")
        await charger.set_faulted(1)
        (ended,) = await csms.wait_for(lambda: csms.events(event_type="Ended"))
        assert ended["trigger_reason"] == "AbnormalCondition"
        assert _statuses(csms, 1)[-1] == "Faulted"
        await charger.set_faulted(1, False)
        assert _statuses(csms, 1)[-1] == "Occupied"

    play(scenario)


def test_invalid_settings_are_refused_when_the_charger_is_made():
    with pytest.raises(ValueError, match="tx_start_point"):
        SimulatedCharger201("ws://127.0.0.1:1/ocpp", "X", tx_start_point="Authorized")
    with pytest.raises(ValueError, match="unlock_connector"):
        SimulatedCharger201("ws://127.0.0.1:1/ocpp", "X", unlock_connector="Maybe")
    with pytest.raises(ValueError, match="tx_updated_measurands"):
        SimulatedCharger201("ws://127.0.0.1:1/ocpp", "X", tx_updated_measurands="Humidity")
