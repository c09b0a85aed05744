"""The Web Push job's cost: how fast notices go out, and what a round costs when nothing
is due (the job looks every ``housekeeping_interval``, 2 s by default).

Sessions with a subscribed phone each: ``--sessions`` whose car is full (each gets a
"charging finished" notice) and ``--charging`` still charging (nothing due, and not read).
Notices go to a push endpoint on 127.0.0.1 that answers 201 without decrypting (the
bench measures the sender: the payload put into words, encrypted for the phone, signed
with VAPID, posted). Wall time and CPU time of this process; SQLite in a temporary
folder. The last line is JSON.

    PYTHONPATH=backend python bench/push_notices.py [--sessions 300] [--charging 3000]
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import os
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from voltspot.app import create_app
from voltspot.db import Database
from voltspot.domain.statuses import SessionStatus
from voltspot.migrate import upgrade
from voltspot.models import ChargingSession, Station
from voltspot.models.push import PushSubscription
from voltspot.services.charging.lifecycle import new_session_token
from voltspot.services.driver import notifications
from voltspot.services.stations.registry import register_station
from voltspot.web.push import notice_words


class _Accept(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args) -> None:
        pass


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _seed(db: Database, sessions: int, charging_sessions: int, origin: str) -> None:
    now = datetime.now(UTC)
    with db.session() as session:
        register_station(session, site_name="Bench site", charge_point_id="BENCH-PUSH",
                         connectors=1)
    phone_key = _b64url(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
    with db.session() as session:
        station = session.query(Station).filter_by(charge_point_id="BENCH-PUSH").one()
        for number in range(sessions + charging_sessions):
            full = number < sessions
            charging = ChargingSession(
                token=new_session_token(), station_id=station.id, connector_id=1,
                status=SessionStatus.SUSPENDED if full else SessionStatus.CHARGING,
                started_at=now - timedelta(minutes=40), energy_wh=20_000,
                charging_ended_at=now - timedelta(minutes=3) if full else None)
            session.add(charging)
            session.flush()
            session.add(PushSubscription(session_id=charging.id,
                                         endpoint=f"{origin}/push/{number}", p256dh=phone_key,
                                         auth=_b64url(os.urandom(16)), language="de"))


def _timed(work):
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=300)
    parser.add_argument("--charging", type=int, default=3000)
    args = parser.parse_args()
    endpoint = ThreadingHTTPServer(("127.0.0.1", 0), _Accept)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{endpoint.server_address[1]}"
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'push.db'}"
        upgrade(url)
        db = Database(url)
        _seed(db, args.sessions, args.charging, origin)
        app = create_app({"database_url": url, "secret_key": "bench"})
        keys = notifications.vapid_keys(db)
        sender = notifications.WebPushSender(keys, "mailto:bench@localhost")
        words = functools.partial(notice_words, app)
        queued, queue_wall, queue_cpu = _timed(lambda: notifications.queue_due(db))
        sent = notifications.Sent()
        send_wall = send_cpu = 0.0
        while True:
            batch, wall, cpu = _timed(lambda: notifications.send_due(db, sender, words))
            send_wall, send_cpu = send_wall + wall, send_cpu + cpu
            if batch.sent == 0:
                break
            sent = notifications.Sent(sent.sent + batch.sent)
        idle = [_timed(lambda: notifications.push_round(db, sender, words)) for _ in range(5)]
        idle_wall = min(wall for _, wall, _ in idle)
        db.dispose()
    endpoint.shutdown()
    figures = {
        "sessions": args.sessions,
        "charging": args.charging,
        "queued": queued,
        "sent": sent.sent,
        "queue_ms": round(queue_wall * 1000, 1),
        "queue_cpu_ms": round(queue_cpu * 1000, 1),
        "notices_per_s": round(sent.sent / send_wall, 1) if send_wall else None,
        "cpu_ms_per_notice": round(send_cpu * 1000 / sent.sent, 2) if sent.sent else None,
        "idle_round_ms": round(idle_wall * 1000, 1),
    }
    print(f"{args.sessions} full cars and {args.charging} charging, each with a phone: "
          f"queued {queued} notices in {figures['queue_ms']} ms; "
          f"sent {sent.sent} at {figures['notices_per_s']}/s "
          f"({figures['cpu_ms_per_notice']} ms CPU each); a round with nothing due "
          f"{figures['idle_round_ms']} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
