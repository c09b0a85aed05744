"""A live server (``voltspot serve``: gunicorn + gevent) on 127.0.0.1, and fresh databases:
SQLite files by default, PostgreSQL when VOLTSPOT_DATABASE_URL says so."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.support.http import API_TOKEN
from voltspot.db import Database
from voltspot.migrate import upgrade


def fresh_database_url(tmp_root: Path, name: str = "") -> str:
    """An empty database: a file under ``tmp_root``, or on the PostgreSQL server of
    VOLTSPOT_DATABASE_URL that database (``name`` given: a sibling database of that name,
    created when missing) with its schema dropped and made anew."""
    url = os.environ.get("VOLTSPOT_DATABASE_URL", "")
    # Under pytest-xdist each worker has databases of its own.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if url.startswith("postgresql"):
        name = "_".join(part for part in (worker, name) if part)
        if name:
            server_url, _, database_name = url.rpartition("/")
            admin = Database(url)
            with admin.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT") as connection:
                sibling = f"{database_name}_{name}"
                exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                            {"n": sibling}).scalar()
                if not exists:
                    connection.execute(text(f'CREATE DATABASE "{sibling}"'))
            admin.dispose()
            url = f"{server_url}/{sibling}"
        database = Database(url)
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        database.dispose()
        return url
    return f"sqlite:///{tmp_root / f'voltspot-test{name}.db'}"


def fresh_database(tmp_root: Path, name: str, revision: str = "head") -> str:
    """A database of its own migrated to ``revision``, for a module whose server (or
    whose network-wide figures) must not share one."""
    url = fresh_database_url(tmp_root, name)
    upgrade(url, revision)
    return url


def own_database(name: str):
    """The fixtures ``database_url`` and ``db`` of a module's own migrated database, for a
    module that runs background jobs its own way: on the worker's shared database, the
    worker's shared server would run the same jobs too. Use as
    ``database_url, db = own_database("receipts")``."""

    @pytest.fixture(scope="module")
    def database_url(tmp_path_factory) -> str:
        return fresh_database(tmp_path_factory.mktemp(f"{name}-db"), name)

    @pytest.fixture(scope="module")
    def db(database_url) -> Iterator[Database]:
        database = Database(database_url)
        yield database
        database.dispose()

    return database_url, db


def free_port() -> int:
    """A TCP port on 127.0.0.1 free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    base_url: str
    ws_url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(database_url: str, log_path: Path, extra_env: dict[str, str] | None = None,
                 *, public_host: str = "127.0.0.1", **settings: str) -> LiveServer:
    """Start ``voltspot serve`` on a free port and wait until it answers. ``settings`` are
    VOLTSPOT_* settings by name; ``extra_env`` other variables (STRIPE_*). The server is
    addressed (its public URL and ``base_url``) by ``public_host``: "localhost" for
    passkeys, which browsers refuse on an IP address."""
    port = free_port()
    env = {**os.environ, "VOLTSPOT_DATABASE_URL": database_url, "VOLTSPOT_API_TOKEN": API_TOKEN,
           "VOLTSPOT_ENV": "test", "VOLTSPOT_OCPP_RESPONSE_TIMEOUT": "3",
           # Every test's driver starts come from 127.0.0.1; the limit has its own test.
           "VOLTSPOT_DRIVER_STARTS_PER_MINUTE": "100000",
           "VOLTSPOT_PUBLIC_URL": f"http://{public_host}:{port}", "PYTHONUNBUFFERED": "1",
           **{f"VOLTSPOT_{k.upper()}": v for k, v in settings.items()}, **(extra_env or {})}
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "voltspot", "serve", "--port", str(port)],
            env=env, stdout=log_file, stderr=subprocess.STDOUT)
    base_url = f"http://{public_host}:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=1):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                # Reaped here: a Popen left running warns later, inside another test.
                process.kill()
                process.wait(timeout=15)
                raise RuntimeError("server did not start:\n" + log_path.read_text()) from None
            time.sleep(0.1)
    return LiveServer(base_url, f"ws://{public_host}:{port}/ocpp", process, log_path)


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
