"""OCPP 1.6J messages from chargers: answered per the spec and persisted (OCA compliance
cases TC_001, TC_003/004, TC_005, TC_023, TC_032, TC_037/039, TC_064, and real-charger
quirks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.support.payloads import now_iso
from tests.support.raw_charger import RawCharger
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, IdToken, MeterSample, OcppFrame, Station


def _station(db, charge_point_id) -> Station:
    with db.session() as session:
        station = session.scalar(select(Station).where(Station.charge_point_id == charge_point_id))
        station.connectors  # noqa: B018 - load while the session is open
        return station


def _session(db, transaction_id) -> ChargingSession:
    with db.session() as session:
        return session.scalar(select(ChargingSession).where(
            ChargingSession.transaction_id == transaction_id))


def _add_card(db, id_tag, **fields) -> None:
    """A card as the owner page registers it: its tag in capitals."""
    with db.session() as session:
        session.add(IdToken(id_tag=id_tag.upper(), **fields))


def _start(charger, connector_id=1, id_tag="CARD-OK", meter_start=1000, timestamp=None):
    return charger.result("StartTransaction", {
        "connectorId": connector_id, "idTag": id_tag, "meterStart": meter_start,
        "timestamp": timestamp or now_iso()})


def _meter(charger, transaction_id, timestamp, *sampled, connector_id=1):
    return charger.result("MeterValues", {
        "connectorId": connector_id, "transactionId": transaction_id,
        "meterValue": [{"timestamp": timestamp, "sampledValue": list(sampled)}]})


def test_cold_boot_is_accepted_with_a_heartbeat_interval_and_stored(server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        answer = charger.result("BootNotification", {
            "chargePointVendor": "Alfen BV", "chargePointModel": "NG9xx",
            "chargePointSerialNumber": "ACE0001", "firmwareVersion": "6.1.0", "iccid": "8931",
            "meterType": "MID", "meterSerialNumber": "M-1"})
    assert answer["status"] == "Accepted"
    assert answer["interval"] > 0
    assert datetime.fromisoformat(answer["currentTime"]) - datetime.now(UTC) < timedelta(seconds=5)
    stored = _station(db, station.charge_point_id)
    assert (stored.vendor, stored.model, stored.serial_number, stored.firmware_version,
            stored.meter_serial_number) == ("Alfen BV", "NG9xx", "ACE0001", "6.1.0", "M-1")
    assert stored.last_boot_at is not None


def test_heartbeat_answers_the_current_time_and_marks_the_station_seen(server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        before = _station(db, station.charge_point_id).last_seen_at
        answer = charger.result("Heartbeat", {})
    assert answer["currentTime"].endswith("Z")
    assert _station(db, station.charge_point_id).last_seen_at >= before


def test_a_connected_station_is_shown_connected_and_offline_after_it_closes(server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        assert _station(db, station.charge_point_id).connected
    deadline = datetime.now(UTC) + timedelta(seconds=5)
    while _station(db, station.charge_point_id).connected and datetime.now(UTC) < deadline:
        pass
    assert not _station(db, station.charge_point_id).connected


def test_status_of_connector_zero_is_the_station_and_others_their_connector(server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.result("StatusNotification", {"connectorId": 0, "errorCode": "NoError",
                                              "status": "Available"})
        charger.result("StatusNotification", {"connectorId": 2, "errorCode": "GroundFailure",
                                              "status": "Faulted", "info": "RCD tripped",
                                              "vendorErrorCode": "E42"})
    stored = _station(db, station.charge_point_id)
    assert stored.status == "Available"
    faulted = stored.connectors[1]
    assert (faulted.status, faulted.error_code, faulted.info, faulted.vendor_error_code) == (
        "Faulted", "GroundFailure", "RCD tripped", "E42")


def test_an_older_status_notification_does_not_replace_a_newer_one(server, station, db):
    newer = datetime.now(UTC)
    older = newer - timedelta(minutes=5)
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                              "status": "Charging",
                                              "timestamp": newer.isoformat()})
        charger.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                              "status": "Available",
                                              "timestamp": older.isoformat()})
    assert _station(db, station.charge_point_id).connectors[0].status == "Charging"


def test_a_status_for_a_connector_beyond_the_owners_declared_plugs_is_refused(server,
                                                                               station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        answer = charger.call("StatusNotification", {"connectorId": 3, "errorCode": "NoError",
                                                     "status": "Available"})
    assert answer[2] == "PropertyConstraintViolation"
    assert [c.connector_id for c in _station(db, station.charge_point_id).connectors] == [1, 2]


def test_authorize_answers_each_cards_status(server, station, db):
    now = datetime.now(UTC)
    _add_card(db, f"OK-{station.charge_point_id}"[:20], expires_at=now + timedelta(days=30))
    _add_card(db, f"BL-{station.charge_point_id}"[:20], blocked=True)
    _add_card(db, f"EX-{station.charge_point_id}"[:20], expires_at=now - timedelta(days=1))
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        def status(tag):
            return charger.result("Authorize", {"idTag": tag[:20]})["idTagInfo"]
        accepted = status(f"OK-{station.charge_point_id}")
        assert accepted["status"] == "Accepted"
        assert "expiryDate" in accepted
        assert status(f"BL-{station.charge_point_id}")["status"] == "Blocked"
        assert status(f"EX-{station.charge_point_id}")["status"] == "Expired"
        assert status("NOBODY-KNOWS-ME")["status"] == "Invalid"


def test_a_session_plug_first_runs_from_start_to_stop_with_energy(server, station, db):
    tag = f"S-{station.charge_point_id}"[:20]
    _add_card(db, tag)
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        charger.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                              "status": "Preparing"})
        assert charger.result("Authorize", {"idTag": tag})["idTagInfo"]["status"] == "Accepted"
        started = _start(charger, id_tag=tag, meter_start=5000)
        assert started["idTagInfo"]["status"] == "Accepted"
        transaction_id = started["transactionId"]
        charger.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                              "status": "Charging"})
        assert _session(db, transaction_id).status == SessionStatus.CHARGING
        _meter(charger, transaction_id, now_iso(),
               {"value": "7500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
               {"value": "11.2", "measurand": "Power.Active.Import", "unit": "kW"},
               {"value": "64", "measurand": "SoC", "unit": "Percent", "location": "EV"})
        live = _session(db, transaction_id)
        assert (live.energy_wh, live.power_w, live.soc_percent) == (2500, 11200.0, 64.0)
        charger.result("StopTransaction", {"transactionId": transaction_id, "meterStop": 9000,
                                           "timestamp": now_iso(), "reason": "EVDisconnected",
                                           "idTag": tag})
    done = _session(db, transaction_id)
    assert done.status == SessionStatus.COMPLETED
    assert (done.energy_wh, done.stop_reason, done.meter_stop_wh) == (4000, "EVDisconnected", 9000)


def test_meter_values_in_kwh_and_wh_are_stored_in_wh_with_context_and_phase(server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        transaction_id = _start(charger, meter_start=0)["transactionId"]
        _meter(charger, transaction_id, now_iso(),
               {"value": "1.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh",
                "context": "Sample.Periodic"},
               {"value": "16.1", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
               {"value": "230.5", "measurand": "Voltage", "unit": "V", "phase": "L1-N"},
               {"value": "2000"})
    with db.session() as session:
        samples = session.scalars(select(MeterSample).join(ChargingSession).where(
            ChargingSession.transaction_id == transaction_id).order_by(MeterSample.id)).all()
        rows = [(s.measurand, s.value, s.unit, s.phase, s.context) for s in samples]
    assert rows == [
        ("Energy.Active.Import.Register", 1500.0, "Wh", None, "Sample.Periodic"),
        ("Current.Import", 16.1, "A", "L1", None),
        ("Voltage", 230.5, "V", "L1-N", None),
        ("Energy.Active.Import.Register", 2000.0, "Wh", None, None),
    ]
    assert _session(db, transaction_id).energy_wh == 2000


def test_a_register_going_backwards_is_flagged_and_never_lowers_the_energy(server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        transaction_id = _start(charger, meter_start=1000)["transactionId"]
        energy = "Energy.Active.Import.Register"
        _meter(charger, transaction_id, now_iso(), {"value": "4000", "measurand": energy})
        _meter(charger, transaction_id, now_iso(), {"value": "3000", "measurand": energy})
        assert _session(db, transaction_id).energy_wh == 3000
        charger.result("StopTransaction", {"transactionId": transaction_id, "meterStop": 2500,
                                           "timestamp": now_iso()})
    done = _session(db, transaction_id)
    assert done.energy_wh == 3000
    assert "backwards" in done.meter_anomaly


def test_meter_values_out_of_order_keep_the_newest_power_and_the_highest_energy(
        server, station, db):
    later = datetime.now(UTC)
    earlier = later - timedelta(minutes=1)
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        transaction_id = _start(charger, meter_start=0)["transactionId"]
        _meter(charger, transaction_id, later.isoformat(),
               {"value": "2000", "measurand": "Energy.Active.Import.Register"},
               {"value": "7000", "measurand": "Power.Active.Import", "unit": "W"})
        _meter(charger, transaction_id, earlier.isoformat(),
               {"value": "1000", "measurand": "Energy.Active.Import.Register"},
               {"value": "3000", "measurand": "Power.Active.Import", "unit": "W"})
    session = _session(db, transaction_id)
    assert (session.energy_wh, session.power_w) == (2000, 7000.0)


def test_an_unreadable_sampled_value_is_skipped_and_the_rest_kept(server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        transaction_id = _start(charger, meter_start=0)["transactionId"]
        _meter(charger, transaction_id, now_iso(),
               {"value": "not-a-number", "measurand": "Energy.Active.Import.Register"},
               {"value": "900", "measurand": "Energy.Active.Import.Register"})
    assert _session(db, transaction_id).energy_wh == 900


def test_a_start_transaction_resent_after_a_reconnect_gets_the_same_id(server, station, db):
    stamp = now_iso()
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        first = _start(charger, timestamp=stamp, meter_start=42)["transactionId"]
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        again = _start(charger, timestamp=stamp, meter_start=42)["transactionId"]
    assert first == again
    with db.session() as session:
        count = len(session.scalars(select(ChargingSession).where(
            ChargingSession.charger_started_at == _session(db, first).charger_started_at,
            ChargingSession.station_id == _station(db, station.charge_point_id).id)).all())
    assert count == 1


def test_an_offline_transaction_with_an_invalid_tag_is_recorded_and_told_invalid(
        server, station, db):
    started = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    stopped = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        answer = _start(charger, id_tag="UNKNOWN-CARD", meter_start=100, timestamp=started)
        assert answer["idTagInfo"]["status"] == "Invalid"
        stop = charger.result("StopTransaction", {
            "transactionId": answer["transactionId"], "meterStop": 10100, "timestamp": stopped,
            "idTag": "UNKNOWN-CARD", "reason": "DeAuthorized"})
        assert stop["idTagInfo"]["status"] == "Invalid"
    recorded = _session(db, answer["transactionId"])
    assert (recorded.energy_wh, recorded.id_tag_status) == (10000, "Invalid")
    assert recorded.started_at < recorded.stopped_at < datetime.now(UTC) - timedelta(hours=1)


def test_stop_for_an_unknown_transaction_is_still_answered(server, station):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        reply = charger.call("StopTransaction", {"transactionId": 987654321, "meterStop": 5,
                                                 "timestamp": now_iso()})
    assert reply[0] == 3


def test_stop_without_reason_is_a_local_stop_and_keeps_its_transaction_data(server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        transaction_id = _start(charger, meter_start=0)["transactionId"]
        charger.result("StopTransaction", {
            "transactionId": transaction_id, "meterStop": 3000, "timestamp": now_iso(),
            "transactionData": [
                {"timestamp": now_iso(), "sampledValue": [
                    {"value": "0", "context": "Transaction.Begin"}]},
                {"timestamp": now_iso(), "sampledValue": [
                    {"value": "3000", "context": "Transaction.End"}]}]})
    done = _session(db, transaction_id)
    assert done.stop_reason == "Local"
    with db.session() as session:
        contexts = session.scalars(select(MeterSample.context).where(
            MeterSample.session_id == done.id)).all()
    assert sorted(contexts) == ["Transaction.Begin", "Transaction.End"]


def test_a_second_stop_transaction_changes_nothing(server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        transaction_id = _start(charger, meter_start=0)["transactionId"]
        for meter_stop in (500, 900):
            charger.result("StopTransaction", {"transactionId": transaction_id,
                                               "meterStop": meter_stop, "timestamp": now_iso()})
    assert _session(db, transaction_id).energy_wh == 500


def test_power_loss_late_stops_close_transactions_after_reboot(server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        transaction_id = _start(charger, meter_start=0)["transactionId"]
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        assert charger.boot()["status"] == "Accepted"
        charger.result("StopTransaction", {"transactionId": transaction_id, "meterStop": 1200,
                                           "timestamp": now_iso(), "reason": "PowerLoss"})
    assert _session(db, transaction_id).stop_reason == "PowerLoss"


def test_a_new_transaction_on_a_connector_closes_one_whose_stop_was_lost(server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        lost = _start(charger, meter_start=0,
                      timestamp=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
        _start(charger, meter_start=5000)
    assert _session(db, lost["transactionId"]).status == SessionStatus.COMPLETED


def test_data_transfer_from_an_unknown_vendor_is_answered_unknown_vendor(server, station):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        answer = charger.result("DataTransfer", {"vendorId": "com.example", "messageId": "Hi",
                                                 "data": "x"})
    assert answer["status"] == "UnknownVendorId"


def test_firmware_and_diagnostics_status_are_stored(server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.result("FirmwareStatusNotification", {"status": "Installing"})
        charger.result("DiagnosticsStatusNotification", {"status": "Uploaded"})
    stored = _station(db, station.charge_point_id)
    assert (stored.firmware_status, stored.diagnostics_status) == ("Installing", "Uploaded")


def test_frames_in_both_directions_are_logged_per_station(server, station, db):
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.result("Heartbeat", {})
    deadline = datetime.now(UTC) + timedelta(seconds=5)
    while datetime.now(UTC) < deadline:
        with db.session() as session:
            frames = session.scalars(select(OcppFrame).where(
                OcppFrame.charge_point_id == station.charge_point_id)
                .order_by(OcppFrame.id)).all()
        if len(frames) >= 2:
            break
    assert [f.direction for f in frames] == ["in", "out"]
    assert '"Heartbeat"' in frames[0].frame
