"""Password hashing off the event loop."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from voltspot.passwords import hash_password, password_matches


def test_a_password_matches_its_hash_and_no_other():
    stored = hash_password("right horse")
    assert password_matches(stored, "right horse")
    assert not password_matches(stored, "wrong horse")


def test_hashing_under_gevent_leaves_the_event_loop_serving():
    script = textwrap.dedent("""
        from gevent import monkey
        monkey.patch_all()
        import time
        import gevent
        from voltspot.passwords import hash_password, password_matches

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
