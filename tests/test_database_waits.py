"""Under gevent a query's wait for PostgreSQL holds the loop only briefly: a quick answer
keeps the loop (and the pooled connection is free again at once), a slow one lets the
process's other sockets and pages run, however the process came to import psycopg
(``voltspot serve`` checks the database in the gunicorn master before the workers fork
and gevent patches them). The group-commit writer's waits hold the loop throughout: every
charger's answer waits on its commits."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# The order of ``voltspot serve``: the master connects (psycopg imported, unpatched), then
# the worker patches and builds the app's own Database. While one greenlet's query sleeps
# in the server, another greenlet counts 10 ms ticks.
_WORKER = """
import sys
from sqlalchemy import text
from voltspot import db

url, sleep_seconds, hold_seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
master = db.Database(url)
with master.engine.connect() as connection:
    connection.execute(text("SELECT 1"))

from gevent import monkey
monkey.patch_all()
import gevent

db.HOLD_SECONDS = hold_seconds
worker = db.Database(url)
ticks = []

def tick():
    while True:
        ticks.append(None)
        gevent.sleep(0.01)

gevent.spawn(tick)
unit_of_work = worker.batch_session if sys.argv[4] == "batch" else worker.session
with unit_of_work() as session:
    gevent.sleep(0.05)
    before = len(ticks)
    session.execute(text("SELECT pg_sleep(:seconds)"), {"seconds": sleep_seconds})
    print(len(ticks) - before)
"""


def _ticks_while_a_query_sleeps(database_url: str, seconds: float, hold: float,
                                unit_of_work: str = "session") -> int:
    if not database_url.startswith("postgresql"):
        pytest.skip("psycopg's wait; this suite runs on SQLite (CI's second pass is PostgreSQL)")
    done = subprocess.run([sys.executable, "-c", _WORKER, database_url, str(seconds),
                           str(hold), unit_of_work], capture_output=True, text=True, timeout=60,
                          env=os.environ)
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split()[-1])


def test_other_greenlets_run_while_a_slow_query_waits_for_postgresql(database_url: str):
    # 50 ticks fit in the half second; a wait that held the loop would allow none.
    assert _ticks_while_a_query_sleeps(database_url, 0.5, hold=0.01) >= 25


def test_a_query_answered_within_the_hold_lets_no_other_greenlet_run(database_url: str):
    assert _ticks_while_a_query_sleeps(database_url, 0.3, hold=2.0) == 0


def test_the_group_commit_writer_holds_the_loop_however_slow_postgresql_is(
        database_url: str):
    assert _ticks_while_a_query_sleeps(database_url, 0.3, hold=0.01, unit_of_work="batch") == 0
