"""Under gevent a query's wait for PostgreSQL holds the loop only briefly: a quick answer
keeps the loop (and the pooled connection is free again at once), a slow one lets the
process's other sockets and pages run, however the process came to import psycopg
(``voltspot serve`` checks the database in the gunicorn master before the workers fork
and gevent patches them). A periodic job's waits let others run at once: nobody waits on
it. The group-commit writer's connections hold the loop throughout, so the writer runs
its batches in a native thread of their own: the loop serves everyone else meanwhile."""

from __future__ import annotations

import os
import subprocess
import sys
import time

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
from voltspot.group_commit import GroupCommitter

db.HOLD_SECONDS = hold_seconds
worker = db.Database(url)
ticks = []

def tick():
    while True:
        ticks.append(None)
        gevent.sleep(0.01)

def sleep_in_the_server(session):
    session.execute(text("SELECT pg_sleep(:seconds)"), {"seconds": sleep_seconds})

def ticks_while(wait):
    before = len(ticks)
    wait()
    print(len(ticks) - before)

gevent.spawn(tick)
gevent.sleep(0.05)
mode = sys.argv[4]
if mode == "committer":
    committer = GroupCommitter(worker, linger=0.0)
    committer.submit(lambda session: None)  # the writer and its thread are up
    ticks_while(lambda: committer.submit(sleep_in_the_server))
elif mode == "background":
    with db.background_waits(), worker.session() as session:
        ticks_while(lambda: sleep_in_the_server(session))
else:
    with (worker.batch_session if mode == "batch" else worker.session)() as session:
        ticks_while(lambda: sleep_in_the_server(session))
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


def test_the_group_commit_writer_s_connections_hold_the_loop_however_slow_postgresql_is(
        database_url: str):
    assert _ticks_while_a_query_sleeps(database_url, 0.3, hold=0.01, unit_of_work="batch") == 0


def test_a_periodic_job_s_wait_lets_other_greenlets_run_at_once(database_url: str):
    # Holding for 2 s would allow no tick in the 0.3 s the query sleeps.
    assert _ticks_while_a_query_sleeps(database_url, 0.3, hold=2.0,
                                       unit_of_work="background") >= 15


def test_other_greenlets_run_while_the_group_commit_writer_waits_for_postgresql(
        database_url: str):
    assert _ticks_while_a_query_sleeps(database_url, 0.3, hold=2.0,
                                       unit_of_work="committer") >= 15


def test_a_postgresql_connection_is_replaced_once_it_has_served_its_time(
        database_url: str, monkeypatch: pytest.MonkeyPatch):
    # Its server process would otherwise keep plans made for tables long since grown.
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's server processes; CI's second pass is PostgreSQL")
    from sqlalchemy import text

    from voltspot import db

    monkeypatch.setattr(db, "PLAN_REFRESH_SECONDS", 0.3)
    database = db.Database(database_url)

    def server_process() -> int:
        with database.engine.connect() as connection:
            return connection.execute(text("SELECT pg_backend_pid()")).scalar_one()

    try:
        first = server_process()
        assert server_process() == first
        time.sleep(0.5)
        assert server_process() != first
    finally:
        database.dispose()
