"""OCPP 2.0.1 authorisation (C): idTokens of every type looked up as cards, idTokenInfo
statuses for registered and unknown tokens, cards that work only at their owner's
stations, and the idTokenInfo of transaction events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v201 import call
from sqlalchemy import select

from tests.factories import make_card
from tests.support.library_charger import LibraryCharger201
from tests.support.payloads import sampled_value, transaction_event
from tests.support.raw_charger import RawCharger201
from voltspot.domain.statuses import AuthorizationStatus, SessionStatus
from voltspot.models import ChargingSession, Owner, Station
from voltspot.services.stations.registry import register_station


def _card(db, **fields) -> str:
    """A registered card (stored in capitals, as the owner page stores it); its tag."""
    return make_card(db, fields.pop("id_tag", None), **fields)


def _authorize(charger, id_token, token_type="ISO14443") -> dict:
    return charger.result("Authorize", {"idToken": {"idToken": id_token,
                                                    "type": token_type}})["idTokenInfo"]


def _charger(server, station) -> RawCharger201:
    return RawCharger201(server.ws_url, station.charge_point_id, station.password)


@pytest.mark.parametrize(("fields", "expected"), [
    ({}, "Accepted"),
    ({"blocked": True}, "Blocked"),
    ({"expires_at": datetime.now(UTC) - timedelta(days=1)}, "Expired"),
    ({"blocked": True, "expires_at": datetime.now(UTC) - timedelta(days=1)}, "Blocked"),
], ids=["valid", "blocked", "expired", "blocked-and-expired"])
def test_authorize_answers_a_registered_cards_status(server, station, db, fields, expected):
    id_tag = _card(db, **fields)
    with _charger(server, station) as charger:
        assert _authorize(charger, id_tag)["status"] == expected


def test_authorize_answers_invalid_for_a_token_nobody_registered(server, station):
    with _charger(server, station) as charger:
        assert _authorize(charger, "NOBODY-KNOWS-ME")["status"] == "Invalid"


def test_an_accepted_card_is_answered_with_its_expiry_and_group(server, station, db):
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    id_tag = _card(db, expires_at=expires, parent_id_tag="FLEET-7")
    with _charger(server, station) as charger:
        info = _authorize(charger, id_tag)
    assert info["status"] == "Accepted"
    assert datetime.fromisoformat(info["cacheExpiryDateTime"]) == expires
    assert info["groupIdToken"] == {"idToken": "FLEET-7", "type": "Central"}


@pytest.mark.parametrize("token_type", ["ISO14443", "ISO15693", "eMAID", "KeyCode", "Local",
                                        "MacAddress"])
def test_a_registered_token_is_accepted_whatever_its_type(server, station, db, token_type):
    id_tag = _card(db)
    with _charger(server, station) as charger:
        assert _authorize(charger, id_tag, token_type)["status"] == "Accepted"


def test_a_card_uid_in_lowercase_matches_the_card_stored_in_capitals(server, station, db):
    id_tag = _card(db, id_tag=f"04A1{uuid.uuid4().hex[:10]}".upper())
    with _charger(server, station) as charger:
        assert _authorize(charger, id_tag.lower())["status"] == "Accepted"


def test_the_token_of_a_remote_start_waiting_at_the_station_is_accepted(server, station, db):
    app_token = f"APP-{uuid.uuid4().hex[:10]}"
    with db.session() as session:
        station_id = session.scalar(select(Station.id).where(
            Station.charge_point_id == station.charge_point_id))
        session.add(ChargingSession(token=uuid.uuid4().hex, station_id=station_id,
                                    id_tag=app_token, status=SessionStatus.STARTING,
                                    origin="remote", requested_at=datetime.now(UTC)))
    with _charger(server, station) as charger:
        assert _authorize(charger, app_token, "Central")["status"] == "Accepted"


def _owned_station(db, owner_email: str):
    """A station on a site of its own, owned by a new owner; (station id, password, owner)."""
    with db.session() as session:
        owner = Owner(email=owner_email)
        session.add(owner)
        charge_point_id = f"OWNED-{uuid.uuid4().hex[:8]}"
        registered, password = register_station(session, site_name=f"Site {charge_point_id}",
                                                charge_point_id=charge_point_id, connectors=1)
        session.flush()
        registered.site.owner_id = owner.id
        return charge_point_id, password, owner.id


def _new_owner(db) -> int:
    with db.session() as session:
        owner = Owner(email=f"{uuid.uuid4().hex[:8]}@elsewhere.example")
        session.add(owner)
        session.flush()
        return owner.id


def test_a_card_of_another_owner_is_not_accepted_at_this_owners_station(server, db):
    charge_point_id, password, _ = _owned_station(db, f"{uuid.uuid4().hex[:8]}@a.example")
    stranger = _card(db, owner_id=_new_owner(db))
    with RawCharger201(server.ws_url, charge_point_id, password) as charger:
        assert _authorize(charger, stranger)["status"] != "Accepted"


def test_a_card_of_the_stations_own_owner_is_accepted(server, db):
    charge_point_id, password, owner_id = _owned_station(db,
                                                         f"{uuid.uuid4().hex[:8]}@b.example")
    own = _card(db, owner_id=owner_id)
    with RawCharger201(server.ws_url, charge_point_id, password) as charger:
        assert _authorize(charger, own)["status"] == "Accepted"


def test_the_authorize_answer_fits_the_schema_the_library_client_checks(server, station, db):
    id_tag = _card(db, expires_at=datetime.now(UTC) + timedelta(days=3), parent_id_tag="GROUP")
    with LibraryCharger201(server.ws_url, station.charge_point_id, station.password) as charger:
        answer = charger.send(call.Authorize(id_token={"id_token": id_tag, "type": "ISO14443"}))
    assert answer.id_token_info["status"] == "Accepted"
    assert answer.id_token_info["group_id_token"]["id_token"] == "GROUP"


def _session(db, transaction_id) -> ChargingSession:
    with db.session() as session:
        return session.scalar(select(ChargingSession).where(
            ChargingSession.charger_transaction_id == transaction_id))


def test_a_transaction_started_with_a_blocked_card_is_recorded_and_told_blocked(server,
                                                                                station, db):
    id_tag = _card(db, blocked=True)
    transaction_id = str(uuid.uuid4())
    with _charger(server, station) as charger:
        answer = charger.result("TransactionEvent", transaction_event(
            "Started", transaction_id, 0, "Authorized", id_token=id_tag,
            samples=[sampled_value("Energy.Active.Import.Register", 100, "Wh",
                                   context="Transaction.Begin")]))
    assert answer["idTokenInfo"]["status"] == "Blocked"
    recorded = _session(db, transaction_id)
    assert (recorded.id_tag, recorded.id_tag_status) == (id_tag, AuthorizationStatus.BLOCKED)


def test_an_offline_transaction_with_an_unknown_token_is_recorded_and_told_invalid(
        server, station, db):
    transaction_id = str(uuid.uuid4())
    started_at = datetime.now(UTC) - timedelta(hours=2)
    with _charger(server, station) as charger:
        answer = charger.result("TransactionEvent", transaction_event(
            "Started", transaction_id, 0, "Authorized", id_token="OFFLINE-STRANGER",
            offline=True, timestamp=started_at.isoformat().replace("+00:00", "Z"),
            samples=[sampled_value("Energy.Active.Import.Register", 0, "Wh",
                                   context="Transaction.Begin")]))
    assert answer["idTokenInfo"]["status"] == "Invalid"
    recorded = _session(db, transaction_id)
    assert recorded.id_tag_status == AuthorizationStatus.INVALID
    assert recorded.started_at.replace(tzinfo=UTC) == started_at

