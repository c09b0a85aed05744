"""``voltspot serve --workers N``: several workers need Redis, and with it they share the
chargers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from tests.support.http import API_TOKEN, command
from tests.support.raw_charger import RawCharger
from tests.support.redis import REDIS_URL
from tests.support.server import LiveServer, free_port, stop_server
from tests.support.waiting import in_background


def test_several_workers_without_redis_refuse_to_start_with_one_line(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "VOLTSPOT_REDIS_URL"}
    run = subprocess.run([sys.executable, "-m", "voltspot", "serve", "--workers", "2",
                          "--port", str(free_port())],
                         env={**env, "VOLTSPOT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"},
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "voltspot: --workers 2 needs Redis: set VOLTSPOT_REDIS_URL "
        "(without it, serve with one worker)"]


@pytest.fixture(scope="module")
def two_workers(database_url, tmp_path_factory) -> Iterator[LiveServer]:
    prefix = f"test-workers-{uuid.uuid4().hex}:"
    port = free_port()
    log_path = tmp_path_factory.mktemp("logs") / "workers.log"
    env = {**os.environ, "VOLTSPOT_DATABASE_URL": database_url, "VOLTSPOT_API_TOKEN": API_TOKEN,
           "VOLTSPOT_ENV": "test", "VOLTSPOT_OCPP_RESPONSE_TIMEOUT": "3",
           "VOLTSPOT_PUBLIC_URL": f"http://127.0.0.1:{port}", "PYTHONUNBUFFERED": "1",
           "VOLTSPOT_REDIS_URL": REDIS_URL, "VOLTSPOT_REDIS_PREFIX": prefix}
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "voltspot", "serve", "--port", str(port), "--workers", "2"],
            env=env, stdout=log_file, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ocpp", process,
                        log_path)
    deadline = time.monotonic() + 30
    while log_path.read_text().count("ready") < 2:
        assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.2)
    yield server
    stop_server(server)
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_with_two_workers_every_command_reaches_the_charger_whichever_worker_takes_it(
        two_workers, station):
    with RawCharger(two_workers.ws_url, station.charge_point_id, station.password) as charger:
        charger.boot()
        # Each request goes to whichever worker accepts it: some are routed to the other.
        for _ in range(6):
            answer = in_background(command, two_workers, station.charge_point_id,
                                   "ClearCache", {})
            while True:
                frame = charger.receive(timeout=10)
                if frame[0] == 2 and frame[2] == "ClearCache":
                    break
                charger.send_raw(json.dumps([3, frame[1], {"status": "Accepted"}]))
            charger.send_raw(json.dumps([3, frame[1], {"status": "Accepted"}]))
            assert answer.result(timeout=15) == (200, {"status": "Accepted"})
