"""Under gevent a query's round trip to PostgreSQL must let the process's other sockets and
pages run, however the process came to import psycopg: ``voltspot serve`` checks the
database in the gunicorn master before the workers fork and gevent patches them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# The order of ``voltspot serve``: the master connects (psycopg imported, unpatched), then
# the worker patches and builds the app's own Database. While one greenlet's query sleeps
# half a second in the server, another greenlet counts 10 ms ticks.
_WORKER = """
import sys
from sqlalchemy import text
from voltspot.db import Database

url = sys.argv[1]
master = Database(url)
with master.engine.connect() as connection:
    connection.execute(text("SELECT 1"))

from gevent import monkey
monkey.patch_all()
import gevent

worker = Database(url)
ticks = []

def tick():
    while True:
        ticks.append(None)
        gevent.sleep(0.01)

gevent.spawn(tick)
with worker.engine.connect() as connection:
    gevent.sleep(0.05)
    before = len(ticks)
    connection.execute(text("SELECT pg_sleep(0.5)"))
    print(len(ticks) - before)
"""


def test_other_greenlets_run_while_a_query_waits_for_postgresql(database_url: str):
    if not database_url.startswith("postgresql"):
        pytest.skip("psycopg's wait; this suite runs on SQLite (CI's second pass is PostgreSQL)")
    done = subprocess.run([sys.executable, "-c", _WORKER, database_url], capture_output=True,
                          text=True, timeout=60, env=os.environ)
    assert done.returncode == 0, done.stderr[-2000:]
    ticks_during_query = int(done.stdout.split()[-1])
    # 50 ticks fit in the half second; a blocking wait allows none.
    assert ticks_during_query >= 25
