"""What a real 2.0.1 firmware (MicroOcpp) does that the CSMS must get right: the start
reading only in Ended, Ended with chargingState Idle and no StatusNotification, events
after Ended."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from tests.factories import make_card
from tests.support.payloads import sampled_value, transaction_event
from tests.support.raw_charger import RawCharger201
from voltspot.domain.meter import ENERGY_REGISTER as ENERGY
from voltspot.domain.statuses import ConnectorStatus, SessionStatus
from voltspot.models import ChargingSession, Connector, Station


def _session(db, transaction_id) -> ChargingSession:
    with db.session() as session:
        return session.scalar(select(ChargingSession).where(
            ChargingSession.charger_transaction_id == transaction_id))


def _plug(db, station) -> ConnectorStatus:
    with db.session() as session:
        return session.scalar(select(Connector.status).join(Station).where(
            Station.charge_point_id == station.charge_point_id, Connector.connector_id == 1))


class _Firmware:
    """A booted raw 2.0.1 charger running one transaction."""

    def __init__(self, charger: RawCharger201) -> None:
        self.charger = charger
        self.transaction_id = str(uuid.uuid4())
        self.seq_no = 0

    def event(self, event_type, trigger, *readings, **fields) -> list:
        samples = [sampled_value(ENERGY, wh, "Wh", context=context) for wh, context in readings]
        answer = self.charger.call("TransactionEvent", transaction_event(
            event_type, self.transaction_id, self.seq_no, trigger, samples=samples, **fields))
        self.seq_no += 1
        return answer


def _charging(server, station, db, *, authorised=True):
    charger = RawCharger201(server.ws_url, station.charge_point_id, station.password)
    charger.boot()
    charger.settle()
    firmware = _Firmware(charger)
    if authorised:
        firmware.event("Started", "Authorized", id_token=make_card(db), state="Charging")
    else:
        firmware.event("Started", "CablePluggedIn", (0, "Transaction.Begin"),
                       state="EVConnected")
    return charger, firmware


def test_the_start_reading_sent_only_with_ended_is_the_start(server, station, db):
    charger, firmware = _charging(server, station, db)
    with charger:
        firmware.event("Updated", "MeterValuePeriodic", (1045, "Sample.Periodic"),
                       state="Charging")
        firmware.event("Updated", "MeterValuePeriodic", (1120, "Sample.Periodic"),
                       state="Charging")
        firmware.event("Ended", "StopAuthorized", (1000, "Transaction.Begin"),
                       (1166, "Transaction.End"), stopped_reason="Local", state="EVConnected")
    done = _session(db, firmware.transaction_id)
    assert (done.meter_start_wh, done.energy_wh, done.meter_anomaly) == (1000, 166, None)


def test_a_plug_whose_transaction_ended_idle_without_a_status_is_not_charging(
        server, station, db):
    charger, firmware = _charging(server, station, db)
    with charger:
        assert _plug(db, station) == ConnectorStatus.CHARGING
        firmware.event("Ended", "RemoteStop", (1500, "Transaction.End"),
                       stopped_reason="Remote", state="Idle")
    assert _plug(db, station) == ConnectorStatus.FINISHING
    assert _session(db, firmware.transaction_id).status == SessionStatus.COMPLETED


def test_an_updated_event_after_ended_leaves_the_closed_session_as_it_was(server, station, db):
    charger, firmware = _charging(server, station, db, authorised=False)
    with charger:
        firmware.event("Ended", "StopAuthorized", (2000, "Transaction.End"),
                       stopped_reason="Local", state="EVConnected")
        closed = _session(db, firmware.transaction_id)
        late = firmware.event("Updated", "Authorized", (0, "Sample.Periodic"),
                              id_token=make_card(db), state="Charging")
        assert late[0] == 3
    after = _session(db, firmware.transaction_id)
    assert (after.energy_wh, after.started_at, after.stopped_at, after.status, after.id_tag) == (
        closed.energy_wh, closed.started_at, closed.stopped_at, closed.status, closed.id_tag)
    assert after.energy_wh == 2000
