"""Password hashing off the event loop, successes remembered without the password."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from voltspot.services import passwords
from voltspot.services.passwords import hash_password, password_matches


def test_a_password_matches_its_hash_and_no_other():
    stored = hash_password("right horse")
    assert password_matches(stored, "right horse")
    assert not password_matches(stored, "wrong horse")


def test_a_password_checked_once_is_recognised_again_without_hashing():
    stored = hash_password("battery staple")
    assert password_matches(stored, "battery staple")
    started = time.perf_counter()
    assert password_matches(stored, "battery staple")
    assert time.perf_counter() - started < 0.01


def test_remembered_checks_never_hold_the_password():
    stored = hash_password("correct horse")
    password_matches(stored, "correct horse")
    remembered = repr(list(passwords._remembered))
    assert "correct horse" not in remembered
    assert b"correct horse" not in b"".join(digest for _, digest in passwords._remembered)


def test_hashing_under_gevent_leaves_the_event_loop_serving():
    script = textwrap.dedent("""
        from gevent import monkey
        monkey.patch_all()
        import time
        import gevent
        from voltspot.services.passwords import hash_password, password_matches

        stored = hash_password("pw")
        ticks = []
        def tick():
            while True:
                ticks.append(time.monotonic())
                gevent.sleep(0.01)
        ticker = gevent.spawn(tick)
        guesses = [gevent.spawn(password_matches, stored, f"guess {n}") for n in range(4)]
        gevent.joinall(guesses)
        ticker.kill()
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        print(max(gaps), len(ticks), [g.value for g in guesses])
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    longest_gap, ticks, results = run.stdout.split(maxsplit=2)
    assert results.strip() == "[False, False, False, False]"
    assert int(ticks) > 10
    assert float(longest_gap) < 0.15
