"""OCPP 2.0.1 transactions onto the same sessions as 1.6 (E03/E04 local starts, E09/E10
start points, E21 remote stop, F01/F03 remote start with remoteStartId, replays by seqNo),
spoken as raw frames to a live server."""

from __future__ import annotations

import time
import uuid

from sqlalchemy import select

from tests.factories import make_card
from tests.support.payloads import now_iso, sampled_value, transaction_event
from tests.support.raw_charger import RawCharger, RawCharger201
from voltspot.domain.meter import ENERGY_REGISTER as ENERGY
from voltspot.domain.statuses import ConnectorStatus, SessionStatus
from voltspot.models import ChargingSession, Connector, MeterSample, Station


def _charger(server, station) -> RawCharger201:
    return RawCharger201(server.ws_url, station.charge_point_id, station.password)


def _boot(charger) -> dict:
    return charger.boot()


def _card(db, id_tag) -> None:
    make_card(db, id_tag)


def _event(charger, event_type, transaction_id, seq_no, trigger, *, energy_wh=None,
           context="Sample.Periodic", power_w=None, **fields) -> list:
    """Send a TransactionEvent (fields as :func:`transaction_event` takes them) with an
    energy register and power reading when given; returns the reply frame."""
    samples = []
    if energy_wh is not None:
        samples.append(sampled_value(ENERGY, energy_wh, "Wh", context=context))
    if power_w is not None:
        samples.append(sampled_value("Power.Active.Import", power_w, "W", context=context))
    return charger.call("TransactionEvent", transaction_event(
        event_type, transaction_id, seq_no, trigger, samples=samples, **fields))


def _by_charger_id(db, transaction_id, station=None) -> ChargingSession | None:
    """The session of a charger's transaction id (of ``station``: chargers' ids repeat)."""
    query = select(ChargingSession).where(
        ChargingSession.charger_transaction_id == transaction_id)
    if station is not None:
        query = query.join(Station).where(Station.charge_point_id == station.charge_point_id)
    with db.session() as session:
        return session.scalar(query)


def test_a_charger_offering_both_versions_gets_the_newest(server, station):
    with RawCharger(server.ws_url, station.charge_point_id, station.password,
                    ("ocpp1.6", "ocpp2.0.1")) as charger:
        assert charger.ws.subprotocol == "ocpp2.0.1"


def test_authorised_first_then_cable_records_one_billed_session(server, station, db):
    _card(db, "E03-CARD")
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        _boot(charger)
        authorize = charger.result("Authorize", {"idToken": {"idToken": "E03-CARD",
                                                             "type": "ISO14443"}})
        assert authorize["idTokenInfo"]["status"] == "Accepted"
        started = _event(charger, "Started", transaction_id, 0, "CablePluggedIn",
                         energy_wh=1000, context="Transaction.Begin", state="EVConnected",
                         id_token="E03-CARD")
        assert started[0] == 3 and started[2]["idTokenInfo"]["status"] == "Accepted"
        _event(charger, "Updated", transaction_id, 1, "ChargingStateChanged",
               state="Charging")
        _event(charger, "Updated", transaction_id, 2, "MeterValuePeriodic",
               energy_wh=4000, power_w=11000, state="Charging")
        ended = _event(charger, "Ended", transaction_id, 3, "EVCommunicationLost",
                       energy_wh=5500, context="Transaction.End",
                       stopped_reason="EVDisconnected", state="Idle")
    assert ended[0] == 3
    recorded = _by_charger_id(db, transaction_id)
    assert (recorded.id_tag, recorded.status, recorded.energy_wh, recorded.stop_reason) == (
        "E03-CARD", SessionStatus.COMPLETED, 4500, "EVDisconnected")
    assert recorded.transaction_id == recorded.id


def test_a_replayed_event_is_answered_and_counted_once(server, station, db):
    _card(db, "REPLAY-CARD")
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        _boot(charger)
        _event(charger, "Started", transaction_id, 0, "Authorized", energy_wh=0,
               context="Transaction.Begin", id_token="REPLAY-CARD")
        first = _event(charger, "Updated", transaction_id, 1, "MeterValuePeriodic",
                       energy_wh=2000, state="Charging")
        again = _event(charger, "Updated", transaction_id, 1, "MeterValuePeriodic",
                       energy_wh=2000, state="Charging")
    assert first[0] == again[0] == 3
    recorded = _by_charger_id(db, transaction_id)
    with db.session() as session:
        samples = session.scalars(select(MeterSample).where(
            MeterSample.session_id == recorded.id,
            MeterSample.context == "Sample.Periodic")).all()
    assert len(samples) == 1
    assert recorded.energy_wh == 2000


def test_charging_state_drives_the_plug_status_drivers_see(server, station, db):
    _card(db, "STATE-CARD")
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        _boot(charger)
        charger.result("StatusNotification", {"timestamp": now_iso(), "connectorStatus":
                                              "Occupied", "evseId": 1, "connectorId": 1})
        assert _plug(db, station) == ConnectorStatus.PREPARING
        _event(charger, "Started", transaction_id, 0, "Authorized", energy_wh=0,
               context="Transaction.Begin", id_token="STATE-CARD", state="Charging")
        assert _plug(db, station) == ConnectorStatus.CHARGING
        # A later "Occupied" says less than the transaction does: the plug stays charging.
        charger.result("StatusNotification", {"timestamp": now_iso(), "connectorStatus":
                                              "Occupied", "evseId": 1, "connectorId": 1})
        assert _plug(db, station) == ConnectorStatus.CHARGING
        _event(charger, "Updated", transaction_id, 1, "ChargingStateChanged",
               state="SuspendedEV")
        assert _plug(db, station) == ConnectorStatus.SUSPENDED_EV
        assert _by_charger_id(db, transaction_id).status == SessionStatus.SUSPENDED


def _plug(db, station) -> ConnectorStatus:
    with db.session() as session:
        return session.scalar(select(Connector.status).join(Station).where(
            Station.charge_point_id == station.charge_point_id, Connector.connector_id == 1))


def test_a_charger_offering_both_gets_the_version_its_station_is_configured_for(
        server, station, db):
    with db.session() as session:
        session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id)).ocpp_version_preferred = "1.6"
    with RawCharger(server.ws_url, station.charge_point_id, station.password,
                    ("ocpp2.0.1", "ocpp1.6")) as charger:
        assert charger.ws.subprotocol == "ocpp1.6"
        assert charger.boot()["status"] == "Accepted"


def test_a_transaction_id_the_charger_reuses_after_a_reset_starts_a_new_session(
        server, station, db):
    _card(db, "REUSE-CARD")
    with _charger(server, station) as charger:
        _boot(charger)
        _event(charger, "Started", "1", 0, "Authorized", energy_wh=0,
               context="Transaction.Begin", id_token="REUSE-CARD")
        _event(charger, "Ended", "1", 1, "StopAuthorized", energy_wh=3000,
               context="Transaction.End", stopped_reason="Local")
        first = _by_charger_id(db, "1", station)
        charger.boot("RemoteReset")
        _event(charger, "Started", "1", 0, "Authorized", energy_wh=3000,
               context="Transaction.Begin", id_token="REUSE-CARD")
        _event(charger, "Updated", "1", 1, "MeterValuePeriodic", energy_wh=3500,
               state="Charging")
    second = _by_charger_id(db, "1", station)
    assert second.id != first.id
    assert (second.status, second.energy_wh) == (SessionStatus.CHARGING, 500)
    with db.session() as session:
        kept = session.get(ChargingSession, first.id)
        assert (kept.energy_wh, kept.status) == (3000, SessionStatus.COMPLETED)


def test_an_ended_numbered_like_an_earlier_event_still_ends_the_open_session(
        server, station, db):
    # Some chargers number a transaction's events from 0 again after a reboot.
    _card(db, "RENUMBER-CARD")
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        _boot(charger)
        _event(charger, "Started", transaction_id, 0, "Authorized", energy_wh=0,
               context="Transaction.Begin", id_token="RENUMBER-CARD")
        _event(charger, "Updated", transaction_id, 1, "MeterValuePeriodic", energy_wh=1000,
               state="Charging")
        charger.boot("Watchdog")
        ended = _event(charger, "Ended", transaction_id, 1, "StopAuthorized", energy_wh=2500,
                       context="Transaction.End", stopped_reason="Local")
    assert ended[0] == 3
    recorded = _by_charger_id(db, transaction_id)
    assert (recorded.status, recorded.energy_wh) == (SessionStatus.COMPLETED, 2500)


def test_a_rejected_station_is_told_so_and_sent_nothing(server, station, db):
    with db.session() as session:
        session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id)).registration = "Rejected"
    with _charger(server, station) as charger:
        assert _boot(charger)["status"] == "Rejected"
        time.sleep(0.5)  # the configuration after boot would have been sent by now
        assert charger.call("Heartbeat", {})[2] == "SecurityError"  # B03.FR.07
        assert charger.csms_calls == []


def test_an_event_renumbered_on_the_same_connection_is_still_checked_and_answered(
        server, station, db):
    _card(db, "SAMECONN-CARD")
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        _boot(charger)
        _event(charger, "Started", transaction_id, 0, "Authorized", energy_wh=0,
               context="Transaction.Begin", id_token="SAMECONN-CARD")
        _event(charger, "Updated", transaction_id, 1, "MeterValuePeriodic", energy_wh=1000,
               state="Charging")
        again = _event(charger, "Updated", transaction_id, 1, "MeterValuePeriodic",
                       energy_wh=1000, state="Charging")
        ended = _event(charger, "Ended", transaction_id, 1, "StopAuthorized", energy_wh=2000,
                       context="Transaction.End", stopped_reason="Local")
    assert again[0] == ended[0] == 3
    recorded = _by_charger_id(db, transaction_id)
    assert (recorded.status, recorded.energy_wh) == (SessionStatus.COMPLETED, 2000)
    with db.session() as session:
        periodic = session.scalars(select(MeterSample).where(
            MeterSample.session_id == recorded.id,
            MeterSample.context == "Sample.Periodic")).all()
    assert len(periodic) == 1
