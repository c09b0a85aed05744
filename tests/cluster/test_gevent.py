"""Under gevent's monkey-patching (as ``voltspot serve`` runs), waiting on Redis parks
only the waiting greenlet."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_a_routed_command_waiting_on_redis_does_not_stall_other_greenlets(prefix, redis_url):
    script = textwrap.dedent(f"""
        from gevent import monkey
        monkey.patch_all()
        import time
        import gevent
        from voltspot.cluster.wiring import redis_cluster
        from voltspot.ocpp.control import OcppChargerControl
        from voltspot.ocpp.registry import ConnectionRegistry
        from voltspot.services.charger_control import NoAnswer

        local = OcppChargerControl(ConnectionRegistry(), 1.0)
        holder = redis_cluster({redis_url!r}, local, 1.0, prefix={prefix!r}, node_id="a")
        caller = redis_cluster({redis_url!r}, local, 1.0, prefix={prefix!r}, node_id="b")
        holder.start()
        caller.start()
        # The holder claims the station but its inbox is never answered in time: the
        # caller waits the whole timeout plus the grace on Redis.
        holder.router.stop()
        holder.router._mark_alive()
        holder.claim("CP1", "conn")
        ticks = []
        def tick():
            while True:
                ticks.append(time.monotonic())
                gevent.sleep(0.05)
        ticker = gevent.spawn(tick)
        started = time.monotonic()
        try:
            caller.control.send("CP1", "Reset", {{"type": "Soft"}})
        except NoAnswer:
            pass
        waited = time.monotonic() - started
        ticker.kill()
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        print(round(waited, 1), len(ticks), round(max(gaps), 3))
        caller.stop()
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    waited, ticks, longest_gap = run.stdout.split()
    assert float(waited) >= 5.5
    assert int(ticks) > 60
    assert float(longest_gap) < 0.5
