"""The ``voltspot`` command line."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from tests.factories import make_place
from voltspot.cli import cli, ocpp_base_url
from voltspot.domain.statuses import SessionStatus
from voltspot.models import (
    ChargingSession,
    IdToken,
    Owner,
    Site,
    SiteHourTotal,
    SiteLoadSettings,
    Station,
    Tariff,
)
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


def run_cli(*args, cwd=None, **env):
    """``voltspot`` with exactly the VOLTSPOT_* settings given (others removed)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VOLTSPOT_")}
    return subprocess.run([sys.executable, "-m", "voltspot", *args], cwd=cwd,
                          env={**clean, **{f"VOLTSPOT_{k.upper()}": v for k, v in env.items()}},
                          capture_output=True, text=True, timeout=60)


def one_line(result) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_station_add_before_any_database_says_to_upgrade_and_creates_nothing(tmp_path):
    result = run_cli("station", "add", "--site", "S", "--id", "CP-1", "--connectors", "1",
                     cwd=tmp_path, instance_dir=str(tmp_path / "instance"))
    assert result.returncode == 1
    assert "voltspot db upgrade" in one_line(result)
    assert list(tmp_path.iterdir()) == []


def test_station_add_on_a_database_without_tables_says_to_upgrade(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    result = run_cli("station", "add", "--site", "S", "--id", "CP-1", "--connectors", "1",
                     database_url=f"sqlite:///{empty}")
    assert result.returncode == 1
    line = one_line(result)
    assert "no Voltspot tables" in line and "voltspot db upgrade" in line


def test_an_unreachable_postgresql_is_one_line_without_its_password():
    result = run_cli("station", "add", "--site", "S", "--id", "CP-1", "--connectors", "1",
                     database_url="postgresql://voltspot:s3cret@127.0.0.1:9/voltspot")
    assert result.returncode == 1
    line = one_line(result)
    assert "cannot use the database at" in line and "s3cret" not in line


def test_serving_on_a_port_in_use_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for command in (["serve"], ["demo"]):
            result = run_cli(*command, "--port", str(port), cwd=tmp_path,
                             instance_dir=str(tmp_path / "instance"))
            assert result.returncode == 1
            assert f"port {port}" in one_line(result) and "in use" in result.stderr
            assert "Demo site seeded" not in result.stdout


def test_ctrl_c_stops_the_server_without_a_traceback(tmp_path, database_url):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VOLTSPOT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "voltspot", "serve", "--port", str(port)],
        env={**clean, "VOLTSPOT_DATABASE_URL": database_url, "VOLTSPOT_SECRET_KEY": "k" * 32},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    while b"ok" not in _health(port):
        assert time.monotonic() < deadline and process.poll() is None, "the server never started"
        time.sleep(0.2)
    # As a terminal's Ctrl-C does: the whole process group, master and worker.
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert "Traceback" not in output and "SystemExit" not in output


def _health(port: int) -> bytes:
    with contextlib.suppress(OSError), urllib.request.urlopen(
            f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
        return response.read()
    return b""


def test_an_invalid_public_url_is_one_line_naming_the_variable(tmp_path):
    result = run_cli("station", "add", "--site", "S", "--id", "CP-1", "--connectors", "1",
                     public_url="cs.example.org", database_url=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 2
    assert "VOLTSPOT_PUBLIC_URL" in one_line(result)


@pytest.mark.parametrize(("url", "given_id", "expected"), [
    ("ws://127.0.0.1:5000/ocpp", "CP-1", ("ws://127.0.0.1:5000/ocpp", "CP-1")),
    ("ws://127.0.0.1:5000/ocpp/", "CP-1", ("ws://127.0.0.1:5000/ocpp", "CP-1")),
    ("ws://127.0.0.1:5000/ocpp/CP-1", "CP-1", ("ws://127.0.0.1:5000/ocpp", "CP-1")),
    ("wss://cs.example.org/ocpp/CP-1", None, ("wss://cs.example.org/ocpp", "CP-1")),
    ("https://cs.example.org/ocpp", "CP-1", ("wss://cs.example.org/ocpp", "CP-1")),
])
def test_simulate_takes_the_base_url_or_the_station_url_station_add_prints(
        url, given_id, expected):
    assert ocpp_base_url(url, given_id) == expected


def test_simulate_refuses_a_url_naming_another_station_than_its_id():
    with pytest.raises(click.BadParameter):
        ocpp_base_url("ws://127.0.0.1:5000/ocpp/CP-2", "CP-1")


def test_a_simulated_charger_connects_with_the_url_station_add_printed(server, station, db,
                                                                       tmp_path):
    log_path = tmp_path / "simulate.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "voltspot", "simulate", "--url",
             f"{server.ws_url}/{station.charge_point_id}", "--password", station.password,
             "--no-auto"], stdout=log, stderr=subprocess.STDOUT)
    try:
        def booted():
            with db.session() as session:
                return session.scalar(select(Station.connected).where(
                    Station.charge_point_id == station.charge_point_id))
        deadline = time.monotonic() + 20
        while not booted():
            assert time.monotonic() < deadline, "the simulated charger never connected"
            time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()  # not left running into other tests
            process.wait()
            pytest.fail("the simulator did not stop on Ctrl-C; its output:\n"
                        + log_path.read_text(errors="replace"))


def test_card_add_registers_a_card_that_may_charge(database_url, db):
    tag = f"CLI{uuid.uuid4().hex[:8].upper()}"
    result = voltspot(database_url, "card", "add", "--id-tag", tag, "--holder", "Van 7",
                      "--free")
    assert result.returncode == 0, result.stderr
    with db.session() as session:
        card = session.scalar(select(IdToken).where(IdToken.id_tag == tag))
        assert (card.holder_name, card.billing, card.blocked) == ("Van 7", "free", False)
    again = voltspot(database_url, "card", "add", "--id-tag", tag)
    assert again.returncode == 1 and "already registered" in one_line(again)


def test_tariff_assign_prices_every_plug_of_a_site(database_url, db):
    site = f"CLI site {uuid.uuid4().hex[:6]}"
    charge_point_id = f"CLI-{uuid.uuid4().hex[:6]}"
    assert voltspot(database_url, "station", "add", "--site", site, "--id", charge_point_id,
                    "--connectors", "2").returncode == 0
    name = f"CLI tariff {uuid.uuid4().hex[:6]}"
    with db.session() as session:
        tariff = Tariff(name=name, currency="EUR", energy_price_per_kwh=3900)
        session.add(tariff)
        session.flush()
        tariff_id = tariff.id
    result = voltspot(database_url, "tariff", "assign", "--tariff", name, "--site", site)
    assert result.returncode == 0, result.stderr
    with db.session() as session:
        station = session.scalar(select(Station).where(
            Station.charge_point_id == charge_point_id))
        assert [c.tariff_id for c in station.connectors] == [tariff_id, tariff_id]
    unknown = voltspot(database_url, "tariff", "assign", "--tariff", "nope", "--site", site)
    assert unknown.returncode == 1 and "no tariff named 'nope'" in one_line(unknown)


def test_owner_approve_lets_in_an_identity_waiting_for_an_admin(database_url, db):
    email = f"waiting-{uuid.uuid4().hex[:6]}@elsewhere.example"
    with db.session() as session:
        session.add(Owner(email=email, approved=False, oidc_issuer="https://idp.example",
                          oidc_subject=email))
    result = voltspot(database_url, "owner", "approve", "--email", email)
    assert result.returncode == 0, result.stderr
    with db.session() as session:
        assert session.scalar(select(Owner.approved).where(Owner.email == email)) is True


def _commands(command, path):
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, [*path, name])
    else:
        yield path, command


def test_the_readme_documents_every_command_and_option():
    """Each command has its row in the README's command table, naming all its options."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    missing = []
    for path, command in _commands(cli, ["voltspot"]):
        name = " ".join(path)
        rows = [line for line in readme.splitlines() if line.startswith(f"| `{name}")]
        if not rows:
            missing.append(name)
            continue
        for option in command.params:
            if isinstance(option, click.Option):
                missing += [f"{name} {flag}" for flag in option.opts + option.secondary_opts
                            if flag.startswith("--") and flag not in rows[0]]
    assert missing == []


def test_serving_an_unmigrated_database_is_one_line(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    result = run_cli("serve", "--port", "0", database_url=f"sqlite:///{empty}",
                     secret_key="k" * 32)
    assert result.returncode == 1
    assert "voltspot db upgrade" in one_line(result)


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
