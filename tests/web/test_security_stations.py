"""Chargers at the door: failed Basic auth is throttled per station id, an unknown id and a
wrong password look and take the same, pending stations are capped, and a station id
cannot forge log lines."""

from __future__ import annotations

import base64
import http.client
import http.cookiejar
import re
import time
import urllib.parse
import urllib.request
import uuid

import pytest
from sqlalchemy import func, select
from websockets.exceptions import ConnectionClosed

from tests.factories import make_owner
from tests.support.owner import PASSWORD
from tests.support.raw_charger import RawCharger
from voltspot.domain.statuses import Registration
from voltspot.models import Station
from voltspot.services.stations import registry


def handshake(server, charge_point_id: str, password: str | None
              ) -> tuple[int, dict[str, str], str]:
    """The charger's WebSocket upgrade request; returns (status, headers, body)."""
    host = urllib.parse.urlsplit(server.base_url).netloc
    headers = {"Connection": "Upgrade", "Upgrade": "websocket",
               "Sec-WebSocket-Version": "13", "Sec-WebSocket-Protocol": "ocpp1.6",
               "Sec-WebSocket-Key": base64.b64encode(uuid.uuid4().bytes).decode()}
    if password is not None:
        token = base64.b64encode(f"{charge_point_id}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    connection = http.client.HTTPConnection(host, timeout=10)
    try:
        connection.request("GET", "/ocpp/" + urllib.parse.quote(charge_point_id, safe=""),
                           headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read().decode()
    finally:
        connection.close()


def test_an_unknown_station_and_a_wrong_password_get_the_same_answer(server, station):
    unknown = handshake(server, f"NEVER-{uuid.uuid4().hex[:8]}", "some-password-1234567")
    wrong = handshake(server, station.charge_point_id, "not-the-password-at-all")
    assert unknown[0] == wrong[0] == 401
    assert unknown[2] == wrong[2]
    assert unknown[1]["WWW-Authenticate"] == wrong[1]["WWW-Authenticate"]


def test_an_unknown_station_takes_as_long_to_refuse_as_a_wrong_password(db, station):
    def timed(charge_point_id: str) -> float:
        started = time.perf_counter()
        registry.admit(db, charge_point_id, uuid.uuid4().hex, accept_unknown=False)
        return time.perf_counter() - started

    # The fastest of several tries, taken in turns so that both paths meet the same load
    # from other processes on the machine: the work each path does.
    unknown, wrong = [], []
    for _ in range(6):
        unknown.append(timed(f"NONE-{uuid.uuid4().hex[:8]}"))
        wrong.append(timed(station.charge_point_id))
    assert 0.5 < min(unknown) / min(wrong) < 2


def test_repeated_wrong_passwords_for_one_station_get_429_even_with_the_right_one(
        server, station):
    answers = []
    for n in range(12):  # each failure past the free ones doubles the wait: 2 s, 4 s, …
        status, headers, _ = handshake(server, station.charge_point_id,
                                       f"wrong-password-{n:04d}")
        answers.append(status)
        if status == 429:
            break
    assert answers[:6] == [401] * 6 and answers[-1] == 429
    assert int(headers["Retry-After"]) >= 1
    assert handshake(server, station.charge_point_id, station.password)[0] == 429


def test_one_stations_failures_do_not_throttle_another(server, station, db):
    for n in range(6):
        handshake(server, station.charge_point_id, f"wrong-password-{n:04d}")
    other = f"CP-OTHER-{uuid.uuid4().hex[:6]}"
    with db.session() as session:
        _, password = registry.register_station(session, site_name="Test site",
                                                charge_point_id=other, connectors=1)
    assert handshake(server, other, password)[0] == 101


def _pending(db) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Station).where(
            Station.registration == Registration.PENDING, Station.site_id.is_(None)))


def test_pending_stations_stop_being_recorded_at_the_cap(db):
    cap = _pending(db) + 1
    first = registry.admit(db, f"NEW-{uuid.uuid4().hex[:8]}", "a-password-1234567890",
                           accept_unknown=True, max_pending=cap)
    beyond = f"NEW-{uuid.uuid4().hex[:8]}"
    second = registry.admit(db, beyond, "a-password-1234567890", accept_unknown=True,
                            max_pending=cap)
    assert first.access == registry.Access.PENDING
    assert second.access == registry.Access.UNKNOWN
    with db.session() as session:
        assert session.scalar(select(Station).where(Station.charge_point_id == beyond)) is None


def test_a_flood_of_new_station_ids_records_only_a_few_a_minute(db):
    before = _pending(db)
    for _ in range(15):
        registry.admit(db, f"FLOOD-{uuid.uuid4().hex[:8]}", "a-password-1234567890",
                       accept_unknown=True, max_pending=10_000)
    assert _pending(db) - before <= 10


def test_control_characters_in_a_station_id_are_escaped_in_the_log(server):
    forged = "EVIL\n2026-01-01 00:00:00 INFO voltspot: admin signed in"
    handshake(server, forged, "some-password-1234567")
    time.sleep(0.3)
    log = server.log()
    assert "EVIL\\n2026-01-01" in log
    assert "\n2026-01-01 00:00:00 INFO voltspot: admin signed in" not in log


def test_a_plug_given_the_next_stations_evse_id_does_not_stop_stations_being_added(db):
    first = f"CP-SQUAT-{uuid.uuid4().hex[:6]}"
    with db.session() as session:
        station, _ = registry.register_station(session, site_name="Squat site",
                                               charge_point_id=first, connectors=1)
        # An owner sets their plug's EVSE id to the one the next station would get.
        squatted = f"NL*VSP*E{station.id + 1}*1"
        station.connectors[0].evse_id = squatted
    second = f"CP-NEXT-{uuid.uuid4().hex[:6]}"
    registry.add_station(db, site_name="Squat site", charge_point_id=second, connectors=2)
    with db.session() as session:
        added = session.scalar(select(Station).where(Station.charge_point_id == second))
        ids = [c.evse_id for c in added.connectors]
    assert squatted not in ids and len(set(ids)) == 2


class _Owner:
    """An owner's browser against the live server: cookies kept, the CSRF token sent."""

    def __init__(self, server, account) -> None:
        self.base_url = server.base_url
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = ""
        self.post("/owner/login", {"email": account.email, "password": PASSWORD})
        self.csrf = ""  # signing in starts a new session, with a new token

    def post(self, path: str, form: dict[str, str]) -> str:
        if not self.csrf:
            with self._opener.open(self.base_url + "/owner/login", timeout=30) as response:
                self.csrf = re.search(r'name="csrf_token" value="([^"]+)"',
                                      response.read().decode()).group(1)
        data = urllib.parse.urlencode({**form, "csrf_token": self.csrf}).encode()
        with self._opener.open(urllib.request.Request(self.base_url + path, data=data),
                               timeout=30) as response:
            return response.read().decode()


def test_a_new_password_closes_the_connection_made_with_the_old_one(server, station, db):
    admin = make_owner(db, admin=True)
    with RawCharger(server.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        _Owner(server, admin).post(f"/owner/stations/{station.charge_point_id}/password", {})
        with pytest.raises(ConnectionClosed) as closed:
            charger.ws.recv(timeout=10)
        assert closed.value.rcvd.code == 1008
    assert handshake(server, station.charge_point_id, station.password)[0] == 401
