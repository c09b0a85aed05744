"""The ``voltspot`` command: serve, demo, database, stations, cards, tariffs, owners,
simulated chargers.

Every failure a newcomer can cause (a bad setting, a database that is missing, not migrated
or unreachable, a port in use, Ctrl-C) ends in one line saying what to do, never a
traceback."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import click
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from voltspot.cli_ocpi import ocpi
from voltspot.config import ConfigError, Settings, load_settings
from voltspot.db import Database
from voltspot.domain.protocol import OcppVersion
from voltspot.services.errors import ServiceError

OCPP_VERSIONS = [str(version) for version in OcppVersion]
UPGRADE_FIRST = "run `voltspot db upgrade` first"


def _where(database_url: str) -> str:
    """The database's address for a message, without its password."""
    return make_url(database_url).render_as_string(hide_password=True)


def _settings() -> Settings:
    """The settings of a command that only needs the database (no secret key is made)."""
    return load_settings(need_secret=False)


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[Database]:
    """The migrated database, disposed after use. A missing SQLite file (the command run
    from another directory, or before ``db upgrade``) or a database without our tables
    is one clear error, and no empty file is left behind."""
    url = make_url(settings.database_url)
    if (url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
            and not Path(url.database).exists()):
        raise click.ClickException(
            f"no database at {url.database}: {UPGRADE_FIRST} (run voltspot from the "
            "project directory, or set VOLTSPOT_DATABASE_URL)")
    database = Database(settings.database_url)
    try:
        with database.engine.connect() as connection:
            migrated = inspect(connection).has_table("alembic_version")
        if not migrated:
            raise click.ClickException(
                f"the database at {_where(settings.database_url)} has no Voltspot tables: "
                f"{UPGRADE_FIRST}")
        yield database
    finally:
        database.dispose()


def _check_port_free(host: str, port: int) -> None:
    """Refuse to start when something already listens on ``host:port``: the server would
    fail after printing its start lines, and the demo chargers would talk to the other
    server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"port {port} on {host} is already in use (another Voltspot or another "
                    "server?): stop it, or choose another port with --port") from None
            raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror}"
                                       ) from None


def ocpp_base_url(url: str, charge_point_id: str | None) -> tuple[str, str]:
    """The CSMS's OCPP base URL (``ws(s)://host/ocpp``) and the charge point id, from either
    form a person has: the base (with ``--id``) or a station's full URL as ``voltspot
    station add`` prints it (``…/ocpp/CP-1``; ``--id`` may then be left out). Raises
    :class:`click.BadParameter` for anything else."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("ws", "wss", "http", "https") or not parts.hostname:
        raise click.BadParameter(f"{url!r} is not a ws:// or wss:// URL, e.g. "
                                 "ws://127.0.0.1:5000/ocpp", param_hint="--url")
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    head, _, last = path.rpartition("/")
    if last != "ocpp" and head.endswith("/ocpp") or (last and last == charge_point_id):
        path, named = head, urllib.parse.unquote(last)
        if charge_point_id not in (None, named):
            raise click.BadParameter(f"the URL names station {named!r} but --id is "
                                     f"{charge_point_id!r}", param_hint="--url")
        charge_point_id = named
    if charge_point_id is None:
        raise click.BadParameter("give --id, or a station's full URL (…/ocpp/<id>)",
                                 param_hint="--id")
    return urllib.parse.urlunsplit((scheme, parts.netloc, path, "", "")), charge_point_id


@click.group()
def cli() -> None:
    """Voltspot: an open EV charging platform (OCPP CSMS, driver app, owner page)."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int,
              help="gunicorn processes; several need Redis (VOLTSPOT_REDIS_URL)")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the application with gunicorn's gevent worker."""
    from voltspot.serve import check_workers
    from voltspot.serve import serve as run_server

    settings = load_settings()
    check_workers(settings, workers)
    _check_port_free(host, port)
    with _database(settings):
        pass  # reachable and migrated, or one line saying what to do

    run_server(host, port, workers)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema (SQLite or PostgreSQL)."""
    from voltspot.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    click.echo("database is up to date")


@cli.group()
def station() -> None:
    """Charging stations."""


@station.command("add")
@click.option("--site", "site_name", required=True, help="site name (created if new)")
@click.option("--id", "charge_point_id", required=True, help="charge point id")
@click.option("--connectors", required=True, type=click.IntRange(1, 32))
@click.option("--power-kw", default=22.0, show_default=True, type=float)
@click.option("--password", default=None, help="16-40 characters; generated if omitted")
@click.option("--ocpp", "ocpp_version", type=click.Choice(OCPP_VERSIONS), default=None,
              help="the version to use when the charger offers both (default: the newest)")
def station_add(site_name: str, charge_point_id: str, connectors: int, power_kw: float,
                password: str | None, ocpp_version: str | None) -> None:
    """Register a station and print the URL and password to configure it with."""
    from voltspot.services.stations.registry import add_station

    settings = _settings()
    with _database(settings) as database:
        try:
            registered = add_station(
                database, site_name=site_name, charge_point_id=charge_point_id,
                connectors=connectors, power_kw=power_kw, password=password,
                ocpp_version=ocpp_version)
        except ServiceError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"OCPP URL:        {settings.ocpp_url}/{registered.charge_point_id}")
    click.echo(f"Charge point id: {registered.charge_point_id}")
    click.echo(f"Password:        {registered.password}")
    click.echo("Set the URL and the password (HTTP Basic auth, OCPP Security Profile 1) in the "
               "charger's configuration; the password is not shown again.")
    click.echo(f"Next: give its plugs a price (voltspot tariff assign --tariff NAME --site "
               f"{site_name!r}, or the owner page's Tariffs) and register the RFID cards that "
               "may charge there (voltspot card add --id-tag TAG).")


@cli.group()
def card() -> None:
    """RFID cards that may charge."""


@card.command("add")
@click.option("--id-tag", required=True, help="the card's number (its OCPP idTag)")
@click.option("--holder", default="", help="who carries the card")
@click.option("--free", is_flag=True,
              help="its sessions cost nothing (fleet, staff); otherwise they are listed for "
                   "an invoice you send")
@click.option("--owner", "owner_email", default=None,
              help="the owner account the card belongs to (default: none; admins see it)")
def card_add(id_tag: str, holder: str, free: bool, owner_email: str | None) -> None:
    """Register an RFID card, as the owner page's Cards → Add does."""
    from voltspot.services.scripting import add_card

    with _database(_settings()) as database:
        try:
            added = add_card(database, id_tag, holder_name=holder, free=free,
                             owner_email=owner_email)
        except ServiceError as error:
            raise click.ClickException(str(error)) from None
    whose = f" for {added.owner_email}" if added.owner_email else ""
    click.echo(f"Card {added.id_tag} registered{whose} ({added.billing}).")


@cli.group()
def tariff() -> None:
    """Prices."""


@tariff.command("assign")
@click.option("--tariff", "tariff_name", required=True, help="the tariff's name")
@click.option("--site", "site_name", required=True, help="the site's name")
def tariff_assign(tariff_name: str, site_name: str) -> None:
    """Put a tariff (made on the owner page) on every plug of a site."""
    from voltspot.services.scripting import assign_tariff_to_site

    with _database(_settings()) as database:
        try:
            priced = assign_tariff_to_site(database, tariff_name, site_name)
        except ServiceError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"{priced.site} now uses {priced.tariff} ({priced.plugs_changed} plugs "
               "changed).")


@cli.group()
def payments() -> None:
    """Card payments."""


@payments.command("reconcile")
def payments_reconcile() -> None:
    """Settle recorded captures and releases, and ask the provider about holds nobody
    confirmed (safe to run at any time, any number of times)."""
    from voltspot.runtime import Runtime
    from voltspot.services.payments.reconcile import reconcile

    settings = _settings()
    with _database(settings):
        pass
    runtime = Runtime(settings)
    # This process holds no charger connections. With Redis its commands reach the
    # servers holding the chargers' sockets, so a confirmed hold starts its charger now;
    # without it the command line records what it learns and the server starts it.
    control = runtime.control if runtime.cluster.shared else None
    try:
        outcome = reconcile(runtime.db, runtime.payments, control,
                            settings.hold_margin_percent)
    finally:
        runtime.cluster.stop()
        runtime.db.dispose()
    click.echo(f"settled {outcome.settled}, holds checked {outcome.confirmed}, "
               f"abandoned {outcome.abandoned}, stopped at hold {outcome.stopped}, "
               f"captured before expiry {outcome.expiring}")


@cli.group()
def owner() -> None:
    """Site owners' accounts."""


@owner.command("add")
@click.option("--email", required=True)
@click.option("--password", default=None, help="at least 12 characters; generated if omitted")
@click.option("--name", default="")
@click.option("--admin", is_flag=True, help="sees every site")
def owner_add(email: str, password: str | None, name: str, admin: bool) -> None:
    """Create a local owner account (for sign-in without an OpenID Connect provider)."""
    import secrets

    from voltspot.services.owner.signin import add_owner

    settings = _settings()
    plain = password or secrets.token_urlsafe(12)
    with _database(settings) as database:
        try:
            created = add_owner(database, email, plain, name=name, admin=admin)
        except ServiceError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"Owner {created} created{' (admin)' if admin else ''}.")
    if password is None:
        click.echo(f"Password: {plain}")
    click.echo(f"Sign in at {settings.public_url.rstrip('/')}/owner/login")


@owner.command("approve")
@click.option("--email", required=True)
def owner_approve(email: str) -> None:
    """Let in an owner that signed in through the OpenID Connect provider (new identities
    wait for this unless their email domain is in VOLTSPOT_OIDC_ALLOWED_DOMAINS)."""
    from voltspot.services.owner.signin import approve_owner

    with _database(_settings()) as database:
        try:
            approved = approve_owner(database, email)
        except ServiceError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"Owner {approved} may sign in now.")


@cli.group()
def reports() -> None:
    """Owners' reports."""


@reports.command("recount")
def reports_recount() -> None:
    """Count every closed session into the reports' hourly totals again: after sessions
    were imported or changed outside Voltspot (the totals are otherwise kept as sessions
    close, and migration 0009 counted those closed before it)."""
    from voltspot.services.reports.totals import recount

    with _database(_settings()) as database:
        recount(database)
    click.echo("The report totals are counted again from every closed session.")


@cli.command()
@click.option("--url", required=True,
              help="the CSMS OCPP URL: the base (ws://127.0.0.1:5000/ocpp) or a station's "
                   "URL as `voltspot station add` prints it (…/ocpp/CP-1)")
@click.option("--id", "charge_point_id", default=None,
              help="charge point id (default: the one the URL ends with); with --count N "
                   "the ids are ID-1 … ID-N")
@click.option("--password", default=None)
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 100000))
@click.option("--connectors", default=2, show_default=True, type=click.IntRange(1, 32))
@click.option("--power-kw", default=22.0, show_default=True, type=float)
@click.option("--meter-interval", default=10.0, show_default=True, type=float,
              help="seconds between MeterValues")
@click.option("--speed", default=1.0, show_default=True, type=float,
              help="simulated time per real time, e.g. 60 charges a minute's energy a second")
@click.option("--auto/--no-auto", "auto_sessions", default=True, show_default=True,
              help="cars arrive and charge on their own now and then")
@click.option("--id-tag", "id_tags", multiple=True,
              help="RFID tags the simulated cars use (repeatable)")
@click.option("--ocpp", "ocpp_versions", multiple=True, default=["1.6"], show_default=True,
              type=click.Choice(OCPP_VERSIONS),
              help="OCPP version; repeat to mix, the chargers take the versions in turn "
                   "(--ocpp 1.6 --ocpp 2.0.1: every second charger speaks 2.0.1)")
@click.option("--measurands", "tx_updated_measurands", default="", show_default=True,
              help="2.0.1: initial SampledDataCtrlr.TxUpdatedMeasurands, e.g. "
                   "Energy.Active.Import.Register,Power.Active.Import,SoC (empty, as many "
                   "real stations ship: no meter values until the CSMS sets it)")
@click.option("--tx-start-point", default="PowerPathClosed", show_default=True,
              type=click.Choice(["PowerPathClosed", "EVConnected"]),
              help="2.0.1: when a transaction starts (TxCtrlr.TxStartPoint)")
@click.option("--unlock", "unlock_connector", default="Unlocked", show_default=True,
              type=click.Choice(["Unlocked", "NotImplemented"]),
              help="2.0.1: the answer to UnlockConnector (NotImplemented: a CALLERROR)")
@click.option("--profiles", default="obey", show_default=True,
              type=click.Choice(["obey", "reject", "ignore", "level0"]),
              help="how the chargers treat charging profiles (load management)")
def simulate(url: str, charge_point_id: str | None, password: str | None, count: int,
             connectors: int, power_kw: float, meter_interval: float, speed: float,
             auto_sessions: bool, id_tags: tuple[str, ...], ocpp_versions: tuple[str, ...],
             tx_updated_measurands: str, tx_start_point: str, unlock_connector: str,
             profiles: str) -> None:
    """Run simulated OCPP 1.6J or 2.0.1 chargers against a CSMS (2.0.1 chargers have one
    EVSE per --connectors, each with one connector)."""
    from voltspot.simulator.charger_v201 import MEASURANDS
    from voltspot.simulator.device_model import is_member_list
    from voltspot.simulator.runner import charge_point_ids, run

    if not is_member_list(MEASURANDS)(tx_updated_measurands):
        raise click.BadParameter(f"list some of {', '.join(MEASURANDS)}, comma-separated",
                                 param_hint="--measurands")
    url, charge_point_id = ocpp_base_url(url, charge_point_id)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ids = charge_point_ids(charge_point_id, count)
    run(url, ids, password, connectors=connectors, power_kw=power_kw,
        meter_interval=meter_interval, auto_sessions=auto_sessions, speed=speed,
        id_tags=list(id_tags) or None, ocpp_versions=ocpp_versions,
        tx_updated_measurands=tx_updated_measurands, tx_start_point=tx_start_point,
        unlock_connector=unlock_connector, profiles=profiles)


@cli.command()
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--chargers", default=3, show_default=True, type=click.IntRange(1, 50))
def demo(port: int, chargers: int) -> None:
    """Migrate, seed a demo site and serve it with simulated chargers charging now and then."""
    from voltspot.migrate import upgrade
    from voltspot.services.demo import (
        DEMO_CARDS,
        DEMO_OWNER_EMAIL,
        DEMO_OWNER_PASSWORD,
        DEMO_PASSWORD,
        seed_demo,
    )

    settings = load_settings({"public_url": f"http://127.0.0.1:{port}"})
    _check_port_free("127.0.0.1", port)
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    try:
        ids = seed_demo(database, chargers)
    finally:
        database.dispose()
    click.echo(f"Demo site seeded with {len(ids)} stations: {', '.join(ids)}")
    click.echo(f"Owner page: http://127.0.0.1:{port}/owner/login  "
               f"({DEMO_OWNER_EMAIL} / {DEMO_OWNER_PASSWORD})")
    click.echo(f"Open http://127.0.0.1:{port}/ ; chargers connect to {settings.ocpp_url}/<id>")
    # Every third demo charger speaks OCPP 2.0.1 (DEMO-3, the 50 kW one, with the default
    # three), the others 1.6J.
    simulator = subprocess.Popen(
        [sys.executable, "-m", "voltspot", "simulate", "--url", f"ws://127.0.0.1:{port}/ocpp",
         "--id", "DEMO" if len(ids) > 1 else ids[0], "--count", str(len(ids)),
         "--password", DEMO_PASSWORD, "--speed", "30", "--meter-interval", "5",
         "--ocpp", "1.6", "--ocpp", "1.6", "--ocpp", "2.0.1",
         *[arg for tag in DEMO_CARDS for arg in ("--id-tag", tag)]],
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        from voltspot.serve import serve as run_server

        run_server("127.0.0.1", port, 1, {"public_url": f"http://127.0.0.1:{port}"})
    finally:
        # Ctrl-C reached the simulator too; a SIGTERM ends it if it is still there.
        simulator.send_signal(signal.SIGTERM)
        try:
            simulator.wait(timeout=5)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            simulator.kill()


@cli.group()
def site() -> None:
    """Sites: the grid connection their chargers share."""


@site.command("limit")
@click.option("--site", "site_name", required=True, help="the site's name")
@click.option("--amps", type=float, default=None, help="the limit in amps per phase")
@click.option("--phases", type=click.Choice(["1", "3"]), default="3", show_default=True)
@click.option("--kw", type=float, default=None, help="the limit in kW (instead of --amps)")
@click.option("--margin", type=float, default=None, help="amps kept free on every phase")
@click.option("--min-amps", type=float, default=None,
              help="the least current per car (default 6); below it, newest cars pause")
def site_limit(site_name: str, amps: float | None, phases: str, kw: float | None,
               margin: float | None, min_amps: float | None) -> None:
    """Set the site's connection limit; its charging cars then share it."""
    from voltspot.services.load.settings import set_site_limit_by_name

    with _database(_settings()) as database:
        try:
            limit = set_site_limit_by_name(database, site_name, amps=amps, kw=kw,
                                           phases=int(phases), margin_amps=margin,
                                           min_amps=min_amps)
        except ServiceError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"{limit.site_name}: {limit.describe()}, shared among its charging cars")


cli.add_command(ocpi)


def _database_problem(error: SQLAlchemyError) -> str:
    cause = str(getattr(error, "orig", None) or error).strip().splitlines()
    first = cause[0] if cause else type(error).__name__
    try:
        where = _where(load_settings(need_secret=False).database_url)
    except ConfigError:
        where = "VOLTSPOT_DATABASE_URL"
    if "no such table" in first or "does not exist" in first and "relation" in first:
        return f"the database at {where} is missing tables: {UPGRADE_FIRST}"
    return (f"cannot use the database at {where}: {first} (is it running and reachable? "
            "check VOLTSPOT_DATABASE_URL)")


def main() -> None:
    """Entry point: a bad setting, an unusable database or Ctrl-C is one line, never a
    traceback."""
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("voltspot: stopped", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("voltspot: stopped", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except ConfigError as error:
        click.echo(f"voltspot: {error}", err=True)
        sys.exit(2)
    except SQLAlchemyError as error:
        click.echo(f"voltspot: {_database_problem(error)}", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
