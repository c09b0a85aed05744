"""Group commit: batched writes, and a bad write never costs another its data."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from voltspot.group_commit import GroupCommitter
from voltspot.models import OcppFrame


def _frames(db, charge_point_id):
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(OcppFrame).where(
            OcppFrame.charge_point_id == charge_point_id))


def test_submitted_writes_are_committed_before_submit_returns(db):
    committer = GroupCommitter(db)
    committer.submit(lambda s: s.add(OcppFrame(charge_point_id="GC-1", direction="in",
                                               frame="[]")))
    assert _frames(db, "GC-1") == 1


def test_a_failing_write_raises_to_its_caller_and_the_others_in_its_batch_commit(db):
    committer = GroupCommitter(db)
    results: dict[int, object] = {}

    def good(n):
        def write(session):
            session.add(OcppFrame(charge_point_id="GC-2", direction="in", frame=str(n)))
            return n
        return write

    def bad(session):
        session.add(OcppFrame(charge_point_id="GC-2", direction="in", frame=None))
        session.flush()

    def run(n, write):
        try:
            results[n] = committer.submit(write)
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[n] = error

    threads = [threading.Thread(target=run, args=(n, bad if n == 5 else good(n)))
               for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert isinstance(results.pop(5), Exception)
    assert results == {n: n for n in range(10) if n != 5}
    assert _frames(db, "GC-2") == 9


def test_a_write_error_reaches_the_caller_unchanged(db):
    committer = GroupCommitter(db)

    def broken(session):
        raise ValueError("broken write")
    with pytest.raises(ValueError, match="broken write"):
        committer.submit(broken)


def test_appended_rows_are_inserted_even_when_a_write_in_their_batch_fails(db):
    committer = GroupCommitter(db)
    committer.append(OcppFrame, {"charge_point_id": "GC-3", "direction": "in", "frame": "a"})

    def bad(session):
        session.add(OcppFrame(charge_point_id="GC-3", direction="in", frame=None))
        session.flush()
    with pytest.raises(Exception):  # noqa: B017 - whichever integrity error the database raises
        committer.submit(bad)
    committer.submit(lambda session: None)
    assert _frames(db, "GC-3") == 1
