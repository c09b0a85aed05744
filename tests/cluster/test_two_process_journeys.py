"""The issue's journeys across two ``voltspot serve`` processes sharing one database and
the real Redis, with the charger's socket on process A: an owner's remote actions from the
owner page served by B, ``voltspot payments reconcile`` run from the command line starting
a charger held by A, and A killed mid-session while its chargers go on charging on B.

The database is a fresh one beside the suite's (a SQLite file, or a sibling database on
the suite's PostgreSQL).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from sqlalchemy import select, update

from tests.factories import make_card, make_owner, priced_plugs
from tests.support.http import page
from tests.support.owner_browser import OwnerBrowser
from tests.support.payloads import now_iso, sampled_value, transaction_event
from tests.support.raw_charger import RawCharger, RawCharger201
from tests.support.redis import REDIS_URL
from tests.support.server import LiveServer, own_database, start_server, stop_server
from tests.support.stripe_server import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    confirm_with_card,
    localstripe,
    stripe_client,
)
from tests.support.waiting import eventually, in_background
from voltspot.db import Database
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import ChargingSession, Site, Station, utcnow
from voltspot.services.stations.registry import register_station

PRESENCE_TTL = 2
STRIPE_ENV = {"STRIPE_SECRET_KEY": SECRET_KEY, "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
              "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET}


@pytest.fixture(scope="module")
def stripe_base() -> Iterator[str]:
    with localstripe() as base:
        yield base


database_url, db = own_database("journeys")


@pytest.fixture(scope="module")
def prefix() -> Iterator[str]:
    value = f"test-journeys-{uuid.uuid4().hex}:"
    yield value
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=value + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def _start(database_url: str, prefix: str, stripe_base: str, log_path) -> LiveServer:
    # The servers' own payment upkeep does not run during a test (hourly), so whatever
    # happens to a payment is the command line's doing.
    return start_server(database_url, log_path, redis_url=REDIS_URL, redis_prefix=prefix,
                        presence_ttl=str(PRESENCE_TTL), housekeeping_interval="3600",
                        stripe_api_base=stripe_base, extra_env=STRIPE_ENV)


@pytest.fixture(scope="module")
def processes(database_url, prefix, stripe_base, tmp_path_factory
              ) -> Iterator[dict[str, LiveServer]]:
    log_dir = tmp_path_factory.mktemp("journeys-logs")
    started = {name: _start(database_url, prefix, stripe_base, log_dir / f"{name}.log")
               for name in ("a", "b")}
    yield started
    for process in started.values():
        if process.process.poll() is None:
            stop_server(process)


@pytest.fixture
def process_a(processes, database_url, prefix, stripe_base, tmp_path) -> LiveServer:
    """Process A, started again when a test before killed it."""
    if processes["a"].process.poll() is not None:
        processes["a"] = _start(database_url, prefix, stripe_base, tmp_path / "a-again.log")
    return processes["a"]


@pytest.fixture(scope="module")
def owner(db):
    return make_owner(db)


@pytest.fixture
def station(db, owner) -> tuple[str, str]:
    """A station of ``owner``'s site: (charge point id, password)."""
    charge_point_id = f"JN-{uuid.uuid4().hex[:8]}"
    with db.session() as session:
        stored, password = register_station(session, site_name=f"Site {charge_point_id}",
                                            charge_point_id=charge_point_id, connectors=2)
        session.get(Site, stored.site_id).owner_id = owner.id
    return charge_point_id, password


def _csms_call(charger: RawCharger, action: str, timeout: float = 15) -> list:
    """The next CALL of ``action`` from the CSMS; anything else it asks first is answered
    as a plain charger would."""
    while True:
        frame = charger.receive(timeout=timeout)
        assert frame[0] == 2, frame
        if frame[2] == action:
            return frame
        charger.send_raw(json.dumps([3, frame[1], {"status": "Accepted"}]))


def _answer(charger: RawCharger, frame: list, payload: dict) -> None:
    charger.send_raw(json.dumps([3, frame[1], payload]))


def _booted(server: LiveServer, charge_point_id: str, password: str,
            status: str = "Available") -> RawCharger:
    charger = RawCharger(server.ws_url, charge_point_id, password)
    charger.boot()
    charger.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                          "status": status})
    return charger


def _holder(prefix: str, charge_point_id: str) -> str | None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        value = client.get(f"{prefix}station:{charge_point_id}")
    finally:
        client.close()
    return value.decode() if value is not None else None


def _session(db: Database, **where) -> ChargingSession:
    with db.session() as session:
        rows = session.scalars(select(ChargingSession).filter_by(**where)).all()
        assert len(rows) == 1, rows
        session.expunge(rows[0])
        return rows[0]


# --- owner remote actions from B ---------------------------------------------------------


@pytest.mark.parametrize(("action", "form", "sent", "sentence"), [
    ("unlock", {"connector": "2"}, ("UnlockConnector", {"connectorId": 2}),
     "Plug 2 is unlocked"),
    ("reset", {"type": "soft"}, ("Reset", {"type": "Soft"}), "accepted the soft restart"),
    ("availability", {"connector": "1", "availability": "unavailable"},
     ("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}),
     "Plug 1 is now unavailable."),
])
def test_an_owner_action_on_the_page_of_one_process_reaches_a_charger_on_the_other(
        processes, process_a, station, owner, action, form, sent, sentence):
    charge_point_id, password = station
    browser = OwnerBrowser(processes["b"], owner)
    answers = {"UnlockConnector": {"status": "Unlocked"}, "Reset": {"status": "Accepted"},
               "ChangeAvailability": {"status": "Accepted"}}
    with _booted(process_a, charge_point_id, password) as charger:
        reply = in_background(browser.action, charge_point_id, action, form)
        frame = _csms_call(charger, sent[0])
        assert frame[3] == sent[1]
        _answer(charger, frame, answers[sent[0]])
        status, fragment = reply.result(timeout=20)
        assert status == 200, fragment
        assert sentence in fragment and 'data-ok="yes"' in fragment


def test_an_owner_action_from_the_other_process_says_what_the_charger_answered(
        processes, process_a, station, owner):
    charge_point_id, password = station
    browser = OwnerBrowser(processes["b"], owner)
    with _booted(process_a, charge_point_id, password) as charger:
        reply = in_background(browser.action, charge_point_id, "unlock", {"connector": "1"})
        frame = _csms_call(charger, "UnlockConnector")
        charger.send_raw(json.dumps([4, frame[1], "NotSupported", "no lock motor", {}]))
        status, fragment = reply.result(timeout=20)
        assert status == 200, fragment
        assert "NotSupported: no lock motor" in fragment and 'data-ok="no"' in fragment


def test_an_owner_stops_from_the_other_process_a_session_running_on_a_charger_on_a(
        processes, process_a, station, owner, db):
    charge_point_id, password = station
    card = make_card(db)
    browser = OwnerBrowser(processes["b"], owner)
    with _booted(process_a, charge_point_id, password) as charger:
        started = charger.result("StartTransaction", {
            "connectorId": 1, "idTag": card, "meterStart": 100, "timestamp": now_iso()})
        transaction_id = started["transactionId"]
        session_id = _session(db, transaction_id=transaction_id).id
        browser.get(f"/owner/sessions/{session_id}")
        reply = in_background(browser.post, f"/owner/sessions/{session_id}/stop")
        frame = _csms_call(charger, "RemoteStopTransaction")
        assert frame[3] == {"transactionId": transaction_id}
        _answer(charger, frame, {"status": "Accepted"})
        assert reply.result(timeout=20)[0] == 303
        charger.result("StopTransaction", {"transactionId": transaction_id, "meterStop": 600,
                                           "timestamp": now_iso(), "reason": "Remote"})
    row = _session(db, id=session_id)
    assert (row.status, row.energy_wh, row.stop_reason) == (
        SessionStatus.COMPLETED, 500, "Remote")


# --- payments reconcile from the command line ---------------------------------------------


def test_reconcile_from_the_command_line_starts_a_charger_held_by_another_process(
        processes, process_a, station, db, database_url, prefix, stripe_base):
    charge_point_id, password = station
    plug = priced_plugs(db, charge_point_id)[0]
    with _booted(process_a, charge_point_id, password) as charger:
        # The driver's page is served by B.
        status, headers, _ = page(processes["b"], "POST", f"/c/{plug}/start",
                                  form={"start_key": uuid.uuid4().hex})
        assert status == 303
        token = headers["Location"].rsplit("/", 1)[-1]
        with db.session() as session:
            reference = session.scalar(select(ChargingSession.payment_reference).where(
                ChargingSession.token == token))
            # The driver confirmed the card and closed the page a while ago.
            session.execute(update(ChargingSession).where(ChargingSession.token == token)
                            .values(created_at=utcnow() - timedelta(minutes=3)))
        assert confirm_with_card(stripe_base, reference) == "requires_capture"
        finished = in_background(
            subprocess.run, [sys.executable, "-m", "voltspot", "payments", "reconcile"],
            env={**os.environ, "VOLTSPOT_DATABASE_URL": database_url,
                 "VOLTSPOT_PUBLIC_URL": "https://cs.example.org",
                 "VOLTSPOT_STRIPE_API_BASE": stripe_base, "VOLTSPOT_REDIS_URL": REDIS_URL,
                 "VOLTSPOT_REDIS_PREFIX": prefix, "VOLTSPOT_OCPP_RESPONSE_TIMEOUT": "10",
                 **STRIPE_ENV},
            capture_output=True, text=True, timeout=120)
        frame = _csms_call(charger, "RemoteStartTransaction", timeout=60)
        id_tag = frame[3]["idTag"]
        assert frame[3]["connectorId"] == 1
        _answer(charger, frame, {"status": "Accepted"})
        result = finished.result(timeout=120)
        assert result.returncode == 0, result.stderr
        assert "holds checked 1" in result.stdout
        charger.result("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                              "status": "Preparing"})
        started = charger.result("StartTransaction", {
            "connectorId": 1, "idTag": id_tag, "meterStart": 0, "timestamp": now_iso()})
        assert started["idTagInfo"]["status"] == "Accepted"
        row = _session(db, token=token)
        assert row.transaction_id == started["transactionId"]
        assert (row.status, row.payment_state, row.failure_reason) == (
            SessionStatus.CHARGING, PaymentState.HELD, None)
    # Nothing was released: the money is still held on the card.
    intent = stripe_client(stripe_base).v1.payment_intents.retrieve(reference)
    assert intent.status == "requires_capture"


# --- process A killed mid-session ---------------------------------------------------------


def _meter_values(charger: RawCharger, transaction_id: int, wh: int) -> None:
    charger.result("MeterValues", {"connectorId": 1, "transactionId": transaction_id,
                                   "meterValue": [{"timestamp": now_iso(), "sampledValue": [
                                       {"value": str(wh), "measurand":
                                        "Energy.Active.Import.Register", "unit": "Wh"}]}]})


def _energy(wh: int, context: str = "Sample.Periodic") -> dict:
    return sampled_value("Energy.Active.Import.Register", wh, "Wh", context=context)


def test_after_its_process_is_killed_mid_session_the_chargers_finish_on_the_other_once(
        processes, process_a, db, owner, prefix):
    b = processes["b"]
    card = make_card(db)
    stations = []
    for _ in range(2):
        charge_point_id = f"JK-{uuid.uuid4().hex[:8]}"
        with db.session() as session:
            stored, password = register_station(session, site_name="Kill site",
                                                charge_point_id=charge_point_id,
                                                connectors=1)
            session.get(Site, stored.site_id).owner_id = owner.id
        stations.append((charge_point_id, password))
    (id_16, password_16), (id_201, password_201) = stations
    tx_201 = uuid.uuid4().hex

    old_16 = _booted(process_a, id_16, password_16)
    transaction_id = old_16.result("StartTransaction", {
        "connectorId": 1, "idTag": card, "meterStart": 1000, "timestamp": now_iso()})[
        "transactionId"]
    _meter_values(old_16, transaction_id, 2500)
    old_201 = RawCharger201(process_a.ws_url, id_201, password_201)
    old_201.boot()
    old_201.settle()
    old_201.result("TransactionEvent", transaction_event(
        "Started", tx_201, 0, "Authorized", id_token=card, state="Charging",
        samples=[_energy(20_000, "Transaction.Begin")]))
    old_201.result("TransactionEvent", transaction_event(
        "Updated", tx_201, 1, "MeterValuePeriodic", state="Charging",
        samples=[_energy(21_000)]))
    node_a = _holder(prefix, id_16)
    assert node_a is not None and _holder(prefix, id_201) == node_a

    process_a.process.send_signal(signal.SIGKILL)
    process_a.process.wait(timeout=10)
    old_16.close()
    old_201.close()

    # The chargers reconnect to B and go on with the same transactions.
    with _booted(b, id_16, password_16, status="Charging") as charger_16, \
            RawCharger201(b.ws_url, id_201, password_201) as charger_201:
        charger_201.boot()
        charger_201.settle()
        assert _holder(prefix, id_16) not in (None, node_a)
        assert _holder(prefix, id_201) not in (None, node_a)
        _meter_values(charger_16, transaction_id, 4000)
        charger_201.result("TransactionEvent", transaction_event(
            "Updated", tx_201, 2, "MeterValuePeriodic", state="Charging",
            samples=[_energy(23_000)]))
        # The sessions go on, counting what B hears.
        eventually(lambda: (_session(db, transaction_id=transaction_id).energy_wh,
                            _session(db, charger_transaction_id=tx_201).energy_wh)
                   == (3000, 3000), seconds=10, interval=0.2)
        assert _session(db, transaction_id=transaction_id).status == SessionStatus.CHARGING
        stop = {"transactionId": transaction_id, "meterStop": 5000, "timestamp": now_iso(),
                "reason": "EVDisconnected"}
        charger_16.result("StopTransaction", stop)
        ended = transaction_event("Ended", tx_201, 3, "EVCommunicationLost",
                                  stopped_reason="EVDisconnected",
                                  samples=[_energy(25_000, "Transaction.End")])
        charger_201.result("TransactionEvent", ended)
        session_16 = _session(db, transaction_id=transaction_id)
        session_201 = _session(db, charger_transaction_id=tx_201)
        # A charger that did not hear the answer sends its stop again: nothing changes.
        charger_16.result("StopTransaction", stop)
        charger_201.result("TransactionEvent", ended)

    assert (session_16.status, session_16.energy_wh) == (SessionStatus.COMPLETED, 4000)
    assert (session_201.status, session_201.energy_wh) == (SessionStatus.COMPLETED, 5000)
    again_16 = _session(db, transaction_id=transaction_id)
    again_201 = _session(db, charger_transaction_id=tx_201)
    assert (again_16.stopped_at, again_16.energy_wh, again_16.status) == (
        session_16.stopped_at, 4000, SessionStatus.COMPLETED)
    assert (again_201.stopped_at, again_201.energy_wh, again_201.status) == (
        session_201.stopped_at, 5000, SessionStatus.COMPLETED)
    with db.session() as session:
        station_ids = session.scalars(select(Station.id).where(
            Station.charge_point_id.in_([id_16, id_201]))).all()
        assert len(session.scalars(select(ChargingSession).where(
            ChargingSession.station_id.in_(station_ids))).all()) == 2
    # Presence tells the truth: both are on B, and B says they are connected until they go.
    eventually(lambda: _holder(prefix, id_16) is None and _holder(prefix, id_201) is None,
               seconds=PRESENCE_TTL + 5)
