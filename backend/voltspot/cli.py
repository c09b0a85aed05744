"""The ``voltspot`` command: serve, demo, database, stations, simulated chargers."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys

import click

from voltspot.config import ConfigError, load_settings
from voltspot.domain.protocol import OcppVersion

OCPP_VERSIONS = [str(version) for version in OcppVersion]


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
    load_settings()
    from voltspot.serve import serve as run_server

    run_server(host, port, workers)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema (SQLite or PostgreSQL)."""
    from voltspot.migrate import upgrade

    settings = load_settings()
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
    from voltspot.db import Database
    from voltspot.services.errors import ServiceError
    from voltspot.services.stations.registry import add_station

    settings = load_settings()
    database = Database(settings.database_url)
    try:
        registered = add_station(
            database, site_name=site_name, charge_point_id=charge_point_id,
            connectors=connectors, power_kw=power_kw, password=password,
            ocpp_version=ocpp_version)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()
    click.echo(f"OCPP URL:        {settings.ocpp_url}/{registered.charge_point_id}")
    click.echo(f"Charge point id: {registered.charge_point_id}")
    click.echo(f"Password:        {registered.password}")
    click.echo("Set the URL and the password (HTTP Basic auth, OCPP Security Profile 1) in the "
               "charger's configuration; the password is not shown again.")


@cli.group()
def payments() -> None:
    """Card payments."""


@payments.command("reconcile")
def payments_reconcile() -> None:
    """Settle recorded captures and releases, and ask the provider about holds nobody
    confirmed (safe to run at any time, any number of times)."""
    from voltspot.runtime import Runtime
    from voltspot.services.payments.reconcile import reconcile

    settings = load_settings()
    runtime = Runtime(settings)
    # No charger control: this process holds no charger connections (the server starts
    # and stops chargers).
    outcome = reconcile(runtime.db, runtime.payments, None, settings.hold_margin_percent)
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

    from voltspot.db import Database
    from voltspot.services.errors import ServiceError
    from voltspot.services.owner.signin import add_owner

    settings = load_settings()
    plain = password or secrets.token_urlsafe(12)
    database = Database(settings.database_url)
    try:
        created = add_owner(database, email, plain, name=name, admin=admin)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()
    click.echo(f"Owner {created} created{' (admin)' if admin else ''}.")
    if password is None:
        click.echo(f"Password: {plain}")
    click.echo(f"Sign in at {settings.public_url.rstrip('/')}/owner/login")


@cli.group()
def reports() -> None:
    """Owners' reports."""


@reports.command("recount")
def reports_recount() -> None:
    """Count every closed session into the reports' hourly totals again: after sessions
    were imported or changed outside Voltspot (the totals are otherwise kept as sessions
    close, and migration 0009 counted those closed before it)."""
    from voltspot.db import Database
    from voltspot.services.reports.totals import recount

    database = Database(load_settings().database_url)
    try:
        recount(database)
    finally:
        database.dispose()
    click.echo("The report totals are counted again from every closed session.")


@cli.command()
@click.option("--url", required=True, help="the CSMS OCPP URL, e.g. ws://127.0.0.1:5000/ocpp")
@click.option("--id", "charge_point_id", required=True,
              help="charge point id; with --count N the ids are ID-1 … ID-N")
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
def simulate(url: str, charge_point_id: str, password: str | None, count: int,
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
    from voltspot.db import Database
    from voltspot.migrate import upgrade
    from voltspot.services.demo import (
        DEMO_CARDS,
        DEMO_OWNER_EMAIL,
        DEMO_OWNER_PASSWORD,
        DEMO_PASSWORD,
        seed_demo,
    )

    settings = load_settings({"public_url": f"http://127.0.0.1:{port}"})
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
        simulator.send_signal(signal.SIGINT)
        try:
            simulator.wait(timeout=10)
        except subprocess.TimeoutExpired:
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
    from voltspot.db import Database
    from voltspot.services.errors import ServiceError
    from voltspot.services.load.settings import set_site_limit_by_name

    database = Database(load_settings().database_url)
    try:
        limit = set_site_limit_by_name(database, site_name, amps=amps, kw=kw,
                                       phases=int(phases), margin_amps=margin,
                                       min_amps=min_amps)
    except ServiceError as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()
    click.echo(f"{limit.site_name}: {limit.describe()}, shared among its charging cars")


def main() -> None:
    """Entry point: a bad setting is one line naming it, never a traceback."""
    try:
        cli.main(standalone_mode=True)
    except ConfigError as error:
        click.echo(f"voltspot: {error}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
