"""The 2.0.1 device model (B06–B14): GetVariables / SetVariables through the operator API
with the charger's answer relayed, GetBaseReport → NotifyReport stored on the station, and
the configuration the CSMS does after every boot so that transactions can be billed."""

from __future__ import annotations

import json
import time

from ocpp.v201 import call_result
from sqlalchemy import select

from tests.support.http import api, command
from tests.support.library_charger import LibraryCharger201
from tests.support.payloads import now_iso
from tests.support.raw_charger import RawCharger201
from tests.support.waiting import eventually, in_background
from voltspot.models import Station

FULL_MEASURANDS = "Energy.Active.Import.Register,Power.Active.Import,SoC"


def _device_model(db, station) -> dict:
    with db.session() as session:
        return session.scalar(select(Station.device_model).where(
            Station.charge_point_id == station.charge_point_id)) or {}


def _variable(component: str, variable: str, **extra) -> dict:
    return {"component": {"name": component}, "variable": {"name": variable}, **extra}


class _Charger(RawCharger201):
    """A raw 2.0.1 charger whose SetVariables answers come from ``set_status(name, value)``
    and which, with ``has_sampled_data_ctrlr`` False, knows no SampledDataCtrlr at all."""

    def __init__(self, server, station, *, variables=None, set_status=None,
                 has_sampled_data_ctrlr=True) -> None:
        super().__init__(server.ws_url, station.charge_point_id, station.password)
        if variables is not None:
            self.variables = variables
        self.set_status = set_status or (
            lambda name, value: "Accepted" if name in self.variables else "UnknownVariable")
        self.has_sampled_data_ctrlr = has_sampled_data_ctrlr

    def answer_csms(self, frame: list) -> bool:
        _, unique_id, action, payload = frame
        if action == "GetVariables" and not self.has_sampled_data_ctrlr:
            results = [{"attributeStatus": "UnknownComponent", **_variable(
                item["component"]["name"], item["variable"]["name"])}
                for item in payload["getVariableData"]]
            result = {"getVariableResult": results}
        elif action == "SetVariables":
            results = []
            for item in payload["setVariableData"]:
                name, value = item["variable"]["name"], item["attributeValue"]
                status = (self.set_status(name, value) if self.has_sampled_data_ctrlr
                          else "UnknownComponent")
                if status == "Accepted":
                    self.variables[name] = value
                results.append({"attributeStatus": status, "component": item["component"],
                                "variable": item["variable"]})
            result = {"setVariableResult": results}
        else:
            return super().answer_csms(frame)
        self.csms_calls.append((action, payload))
        self.ws.send(json.dumps([3, unique_id, result]))
        return True


def _sets(charger) -> list[tuple[str, str]]:
    return [(item["variable"]["name"], item["attributeValue"])
            for action, payload in charger.csms_calls if action == "SetVariables"
            for item in payload["setVariableData"]]


# --- after boot: what billing needs -------------------------------------------------------

def test_empty_sampling_variables_are_set_after_boot(server, station):
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.settle()
        asked = charger.csms_calls[0]
    assert asked == ("GetVariables", {"getVariableData": [
        _variable("SampledDataCtrlr", "TxUpdatedMeasurands"),
        _variable("SampledDataCtrlr", "TxUpdatedInterval"),
        _variable("SampledDataCtrlr", "TxEndedMeasurands"),
        _variable("SampledDataCtrlr", "TxStartedMeasurands")]})
    assert charger.variables == {"TxUpdatedMeasurands": FULL_MEASURANDS,
                                 "TxUpdatedInterval": "60",
                                 "TxEndedMeasurands": "Energy.Active.Import.Register"}


def test_an_empty_tx_started_measurands_is_set_to_the_energy_register(server, station):
    with _Charger(server, station, variables={"TxUpdatedMeasurands": FULL_MEASURANDS,
                                              "TxUpdatedInterval": "60",
                                              "TxEndedMeasurands": "Energy.Active.Import.Register",
                                              "TxStartedMeasurands": ""}) as charger:
        charger.boot()
        charger.settle()
    assert _sets(charger) == [("TxStartedMeasurands", "Energy.Active.Import.Register")]


def test_an_installer_configured_charger_is_left_alone(server, station):
    configured = {"TxUpdatedMeasurands": "Energy.Active.Import.Register,Current.Import",
                  "TxUpdatedInterval": "300", "TxEndedMeasurands": "Energy.Active.Import.Register"}
    with _Charger(server, station, variables=dict(configured)) as charger:
        charger.boot()
        charger.settle()
    assert [action for action, _ in charger.csms_calls] == ["GetVariables", "GetBaseReport"]
    assert charger.variables == configured


def test_a_charger_rejecting_the_full_measurand_list_gets_a_shorter_one(server, station):
    def no_soc(name, value):
        return "Rejected" if "SoC" in value else "Accepted"
    with _Charger(server, station, set_status=no_soc) as charger:
        charger.boot()
        charger.settle()
    assert [value for name, value in _sets(charger) if name == "TxUpdatedMeasurands"] == [
        FULL_MEASURANDS, "Energy.Active.Import.Register,Power.Active.Import"]
    assert charger.variables["TxUpdatedMeasurands"] == \
        "Energy.Active.Import.Register,Power.Active.Import"


def test_a_charger_rejecting_every_measurand_list_still_gets_its_base_report_asked(
        server, station):
    with _Charger(server, station, set_status=lambda name, value: "Rejected") as charger:
        charger.boot()
        charger.settle()
        assert "currentTime" in charger.result("Heartbeat", {})
    assert [value for name, value in _sets(charger) if name == "TxUpdatedMeasurands"] == [
        FULL_MEASURANDS, "Energy.Active.Import.Register,Power.Active.Import",
        "Energy.Active.Import.Register"]


def test_unknown_variable_for_a_required_sampling_variable_breaks_nothing(server, station):
    # TxEndedMeasurands is required by the spec; real chargers answer UnknownVariable.
    with _Charger(server, station, variables={"TxUpdatedMeasurands": "",
                                              "TxUpdatedInterval": "0"}) as charger:
        charger.boot()
        charger.settle()
        assert "currentTime" in charger.result("Heartbeat", {})
    assert charger.variables == {"TxUpdatedMeasurands": FULL_MEASURANDS,
                                 "TxUpdatedInterval": "60"}
    assert ("TxEndedMeasurands", "Energy.Active.Import.Register") in _sets(charger)


def test_a_charger_without_a_sampled_data_controller_is_still_read_and_served(server, station):
    with _Charger(server, station, has_sampled_data_ctrlr=False) as charger:
        charger.boot()
        charger.settle()
        assert "currentTime" in charger.result("Heartbeat", {})
    assert [action for action, _ in charger.csms_calls][-1] == "GetBaseReport"


def test_a_charger_answering_get_variables_with_a_call_error_keeps_being_served(server,
                                                                                station):
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        asked = charger.expect_call("GetVariables")
        charger.reply_error(asked, "NotImplemented", "no device model on this firmware")
        assert "currentTime" in charger.result("Heartbeat", {})
        assert charger.result("StatusNotification", {
            "timestamp": now_iso(), "connectorStatus": "Available", "evseId": 1,
            "connectorId": 1}) == {}


def test_the_library_clients_empty_measurands_are_set_after_boot(server, station):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.configured()
        variables = charger.cp.variables
    assert variables[("SampledDataCtrlr", "TxUpdatedMeasurands")] == FULL_MEASURANDS
    assert variables[("SampledDataCtrlr", "TxUpdatedInterval")] == "60"
    assert variables[("SampledDataCtrlr", "TxEndedMeasurands")] == \
        "Energy.Active.Import.Register"


def test_the_post_boot_report_arrives_in_parts_and_is_stored_whole(server, station, db):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.configured()
        parts = charger.cp.reports_sent
    model = _device_model(db, station)
    assert [(part["seq_no"], part["tbc"]) for part in parts] == [(0, True), (1, True),
                                                                  (2, False)]
    assert model == {
        "SampledDataCtrlr:TxUpdatedMeasurands": FULL_MEASURANDS,
        "SampledDataCtrlr:TxUpdatedInterval": "60",
        "SampledDataCtrlr:TxEndedMeasurands": "Energy.Active.Import.Register",
        "OCPPCommCtrlr:HeartbeatInterval": "300",
        "ChargingStation:Model": "Library201"}


def test_the_operator_api_shows_the_reported_device_model_and_boot_reason(server, station):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot("Watchdog")
        charger.configured()
    status, body = api(server, "GET", f"/api/stations/{station.charge_point_id}")
    assert status == 200
    assert body["bootReason"] == "Watchdog"
    assert body["deviceModel"]["ChargingStation:Model"] == "Library201"
    assert body["ocppVersion"] == "2.0.1"


def test_the_device_model_is_not_read_again_within_the_hour(server, station, db):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        eventually(lambda: _device_model(db, station))
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot("RemoteReset")
        eventually(lambda: sum(action == "SetVariables" for action, _ in charger.cp.received)
                   == 3)
        time.sleep(0.5)  # the report request, were it coming, follows at once
        assert "GetBaseReport" not in [action for action, _ in charger.cp.received]


# --- operator commands ----------------------------------------------------------------------

def test_get_variables_through_the_api_returns_each_value_and_status(server, station):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.configured()
        status, body = command(server, station.charge_point_id, "GetVariables", {
            "getVariableData": [_variable("OCPPCommCtrlr", "HeartbeatInterval"),
                                _variable("OCPPCommCtrlr", "NoSuchVariable"),
                                _variable("NoSuchCtrlr", "Enabled")]})
    assert status == 200
    assert [(r["attributeStatus"], r.get("attributeValue")) for r in
            body["getVariableResult"]] == [("Accepted", "300"), ("UnknownVariable", None),
                                           ("UnknownComponent", None)]


def test_set_variables_through_the_api_writes_what_the_charger_accepts(server, station):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.configured()
        status, body = command(server, station.charge_point_id, "SetVariables", {
            "setVariableData": [
                _variable("OCPPCommCtrlr", "HeartbeatInterval", attributeValue="900"),
                _variable("ChargingStation", "Model", attributeValue="Renamed"),
                _variable("OCPPCommCtrlr", "NoSuchVariable", attributeValue="1"),
                _variable("NoSuchCtrlr", "Enabled", attributeValue="true")]})
        read = command(server, station.charge_point_id, "GetVariables", {
            "getVariableData": [_variable("OCPPCommCtrlr", "HeartbeatInterval")]})[1]
    assert status == 200
    assert [r["attributeStatus"] for r in body["setVariableResult"]] == [
        "Accepted", "Rejected", "UnknownVariable", "UnknownComponent"]
    assert read["getVariableResult"][0]["attributeValue"] == "900"


def test_the_chargers_get_variables_answer_is_relayed_as_it_sent_it(server, station):
    asked_for = {"getVariableData": [
        {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"},
         "attributeType": "MaxSet"}]}
    answer = {"getVariableResult": [
        {"attributeStatus": "Rejected", "attributeType": "MaxSet",
         "attributeStatusInfo": {"reasonCode": "ReadOnly"},
         "component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}]}
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.settle()
        reply = in_background(command, server, station.charge_point_id, "GetVariables",
                              asked_for)
        asked = charger.expect_call("GetVariables")
        charger.reply(asked, answer)
        assert asked[3] == asked_for
        assert reply.result(10) == (200, answer)


def test_a_get_variables_payload_that_breaks_the_schema_is_refused_before_sending(
        server, station):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.configured()
        sent_before = len(charger.cp.received)
        status, body = command(server, station.charge_point_id, "GetVariables", {
            "getVariableData": [{"component": {"name": "OCPPCommCtrlr"}}]})
        assert status == 400
        assert "variable" in body["error"]
        assert len(charger.cp.received) == sent_before


def test_a_base_report_asked_through_the_api_replaces_the_stored_device_model(server, station,
                                                                              db):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        eventually(lambda: len(_device_model(db, station)) == 5)
        charger.cp.variables[("OCPPCommCtrlr", "HeartbeatInterval")] = "42"
        status, body = command(server, station.charge_point_id, "GetBaseReport",
                               {"requestId": 77, "reportBase": "ConfigurationInventory"})
        assert (status, body) == (200, {"status": "Accepted"})
        eventually(lambda: _device_model(db, station).get(
            "OCPPCommCtrlr:HeartbeatInterval") == "42")
    assert ("GetBaseReport", {"request_id": 77, "report_base": "ConfigurationInventory"}) \
        in charger.cp.received


def test_a_base_report_the_charger_cannot_give_relays_its_status(server, station):
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.configured()
        charger.cp.answers["GetBaseReport"] = lambda **_: call_result.GetBaseReport(
            status="NotSupported")
        assert command(server, station.charge_point_id, "GetBaseReport", {
            "requestId": 5, "reportBase": "SummaryInventory"}) == (200,
                                                                    {"status": "NotSupported"})


# --- NotifyReport, raw ------------------------------------------------------------------------

def _report(charger, seq_no, tbc, *items, request_id=9) -> dict:
    return charger.result("NotifyReport", {"requestId": request_id, "generatedAt": now_iso(),
                                           "seqNo": seq_no, "tbc": tbc,
                                           "reportData": list(items)})


def _item(component: dict, variable: dict, *attributes: dict) -> dict:
    return {"component": component, "variable": variable,
            "variableAttribute": list(attributes) or [{"value": "x"}]}


def test_a_multi_part_report_is_stored_whole_with_evse_and_instance_names(server, station,
                                                                          db):
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        assert _report(charger, 0, True,
                       _item({"name": "ChargingStation"}, {"name": "AvailabilityState"},
                             {"type": "Actual", "value": "Available"}),
                       _item({"name": "OCPPCommCtrlr"},
                             {"name": "MessageTimeout", "instance": "Default"},
                             {"type": "Actual", "value": "30"})) == {}
        assert _report(charger, 1, False,
                       _item({"name": "EVSE", "evse": {"id": 1}}, {"name": "Power"},
                             {"type": "MaxSet", "value": "22000"},
                             {"type": "Actual", "value": "11000"}),
                       _item({"name": "Connector", "evse": {"id": 2, "connectorId": 1}},
                             {"name": "ConnectorType"}, {"value": "cType2"}),
                       _item({"name": "TxCtrlr", "instance": "Main"},
                             {"name": "TxStartPoint"},
                             {"type": "Target", "value": "PowerPathClosed"})) == {}
    assert _device_model(db, station) == {
        "ChargingStation:AvailabilityState": "Available",
        "OCPPCommCtrlr:MessageTimeout/Default": "30",
        "EVSE@1:Power": "11000",
        "Connector@2:ConnectorType": "cType2",
        "TxCtrlr/Main:TxStartPoint": "PowerPathClosed"}


def test_a_new_report_replaces_what_the_previous_one_said(server, station, db):
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        _report(charger, 0, False, _item({"name": "OldCtrlr"}, {"name": "Gone"}), request_id=1)
        _report(charger, 0, False, _item({"name": "NewCtrlr"}, {"name": "Here"}), request_id=2)
    assert _device_model(db, station) == {"NewCtrlr:Here": "x"}


def test_an_empty_report_part_is_answered(server, station):
    with RawCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        assert charger.result("NotifyReport", {"requestId": 3, "generatedAt": now_iso(),
                                               "seqNo": 0}) == {}
