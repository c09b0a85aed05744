"""The ``voltspot`` command line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

from sqlalchemy import select
from werkzeug.security import check_password_hash

from tests.factories import make_place
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, Site, SiteHourTotal, SiteLoadSettings, Station
from voltspot.services.charging.lifecycle import new_session_token


def voltspot(database_url, *args):
    return subprocess.run([sys.executable, "-m", "voltspot", *args],
                          env={**os.environ, "VOLTSPOT_DATABASE_URL": database_url,
                               "VOLTSPOT_PUBLIC_URL": "https://cs.example.org"},
                          capture_output=True, text=True, timeout=60)


def test_station_add_prints_the_url_and_a_generated_password_it_stores_hashed(database_url, db):
    result = voltspot(database_url, "station", "add", "--site", "Hotel Krasnapolsky",
                      "--id", "CLI-STATION-1", "--connectors", "2", "--power-kw", "11")
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines()[:3])
    assert lines["OCPP URL"].strip() == "wss://cs.example.org/ocpp/CLI-STATION-1"
    password = lines["Password"].strip()
    assert 16 <= len(password) <= 40
    with db.session() as session:
        station = session.scalar(select(Station).where(Station.charge_point_id == "CLI-STATION-1"))
        assert station.password_hash != password
        assert check_password_hash(station.password_hash, password)
        assert [c.max_power_w for c in station.connectors] == [11000, 11000]
        assert station.site.name == "Hotel Krasnapolsky"


def test_station_add_keeps_a_given_password(database_url, db):
    result = voltspot(database_url, "station", "add", "--site", "Depot", "--id", "CLI-STATION-2",
                      "--connectors", "1", "--password", "given-password-1234")
    assert result.returncode == 0, result.stderr
    assert "given-password-1234" in result.stdout


def test_station_add_refuses_a_taken_id_in_one_line(database_url):
    voltspot(database_url, "station", "add", "--site", "Depot", "--id", "CLI-STATION-3",
             "--connectors", "1")
    result = voltspot(database_url, "station", "add", "--site", "Depot", "--id", "CLI-STATION-3",
                      "--connectors", "1")
    assert result.returncode == 1
    assert "already exists" in result.stderr
    assert "Traceback" not in result.stderr


def test_station_add_refuses_a_short_password(database_url):
    result = voltspot(database_url, "station", "add", "--site", "Depot", "--id", "CLI-STATION-4",
                      "--connectors", "1", "--password", "short")
    assert result.returncode == 1
    assert "16 to 40" in result.stderr


def test_reports_recount_counts_sessions_written_without_the_services(database_url, db):
    place = make_place(db)
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        session.add(ChargingSession(
            token=new_session_token(), station_id=station_id, status=SessionStatus.COMPLETED,
            started_at=datetime(2024, 5, 3, 8, 15, tzinfo=UTC),
            stopped_at=datetime(2024, 5, 3, 9, tzinfo=UTC), energy_wh=8_000, currency="EUR",
            cost=312))
    result = voltspot(database_url, "reports", "recount")
    assert result.returncode == 0, result.stderr
    assert "counted again" in result.stdout
    with db.session() as session:
        assert session.execute(select(
            SiteHourTotal.hour_start, SiteHourTotal.currency, SiteHourTotal.sessions,
            SiteHourTotal.energy_wh, SiteHourTotal.revenue).where(
                SiteHourTotal.site_id == place.site_id)).all() == [
            (datetime(2024, 5, 3, 8, tzinfo=UTC), "EUR", 1, 8_000, 312)]


def test_site_limit_sets_a_sites_connection_in_amps_or_kilowatts(database_url, db):
    voltspot(database_url, "station", "add", "--site", "Shared car park", "--id",
             "CLI-LOAD-1", "--connectors", "2")
    result = voltspot(database_url, "site", "limit", "--site", "Shared car park",
                      "--amps", "32", "--phases", "3")
    assert result.returncode == 0, result.stderr
    assert "32 A × 3 phases (22.1 kW)" in result.stdout
    result = voltspot(database_url, "site", "limit", "--site", "Shared car park", "--kw", "40")
    assert result.returncode == 0, result.stderr
    with db.session() as session:
        stored = session.scalar(select(SiteLoadSettings).join(
            Site, Site.id == SiteLoadSettings.site_id).where(Site.name == "Shared car park"))
        assert (stored.limit_amps, stored.phases, stored.limit_kw) == (57.9, 3, 40.0)


def test_site_limit_for_an_unknown_site_is_one_line(database_url):
    result = voltspot(database_url, "site", "limit", "--site", "Nowhere", "--amps", "32")
    assert result.returncode == 1
    assert "no site named 'Nowhere'" in result.stderr
    assert "Traceback" not in result.stderr
