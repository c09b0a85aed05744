"""What drivers' accounts cost (issue 15, "remembered if they want"): the whole Flask request
in-process for a driver without an account and for a signed-in one (whose pages look up the
account, its favourites and its sessions), and how many receipt emails the receipts job
hands to a real SMTP server (aiosmtpd on 127.0.0.1) per second (one due for each kept
session). Prints figures; it is not a
test.

    .venv/bin/python bench/driver_accounts.py [--sessions 50] [--favourites 10] [--calls 200]
        [--database-url postgresql://…]

The last line is machine-readable: ``find_anon_ms=… find_signed_in_ms=… my_sessions_anon_ms=…
my_sessions_signed_in_ms=… receipts_per_s=…`` (medians, in ms).
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import select  # noqa: E402

from voltspot.app import create_app  # noqa: E402
from voltspot.db import Database  # noqa: E402
from voltspot.domain.pricing import TariffTerms  # noqa: E402
from voltspot.domain.statuses import PaymentState, SessionStatus  # noqa: E402
from voltspot.migrate import upgrade  # noqa: E402
from voltspot.models import (  # noqa: E402
    ChargingSession,
    DriverAccount,
    DriverAccountSession,
    FavouriteSite,
    ReceiptEmail,
)
from voltspot.runtime import runtime  # noqa: E402
from voltspot.services.accounts import signin  # noqa: E402
from voltspot.services.accounts.mail import SmtpMailer  # noqa: E402
from voltspot.services.accounts.receipts import send_due_receipts  # noqa: E402
from voltspot.services.stations.registry import register_station  # noqa: E402
from voltspot.web.account import COOKIE  # noqa: E402
from voltspot.web.account_mail import receipt_writer  # noqa: E402


class _Sink:
    received = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.received += 1
        return "250 OK"


def _seed(db: Database, sessions: int, favourites: int) -> int:
    """Sites with one station each, ``sessions`` paid sessions kept by a new account and
    ``favourites`` of the sites starred; returns the account id."""
    terms = TariffTerms(currency="EUR", vat_rate_basis_points=2100, energy_price_per_kwh=3900,
                        hold_amount=5000).to_dict()
    with db.session() as session:
        stations = [register_station(session, site_name=f"Bench site {n}",
                                     charge_point_id=f"ACC-{uuid.uuid4().hex[:10]}",
                                     connectors=2)[0] for n in range(max(favourites, 1))]
        account = DriverAccount(email=f"bench-{uuid.uuid4().hex[:8]}@example.org",
                                language="de")
        session.add(account)
        session.flush()
        for station in stations[:favourites]:
            session.add(FavouriteSite(account_id=account.id, site_id=station.site_id))
        started = datetime.now(UTC) - timedelta(days=1)
        for n in range(sessions):
            station = stations[n % len(stations)]
            charging = ChargingSession(
                token=uuid.uuid4().hex, station_id=station.id,
                connector_pk=station.connectors[0].id, connector_id=1,
                status=SessionStatus.COMPLETED, origin="driver", price=terms, currency="EUR",
                started_at=started + timedelta(minutes=n),
                stopped_at=started + timedelta(minutes=n + 30), energy_wh=12_345, cost=520,
                hold_amount=5000, amount_captured=520, payment_state=PaymentState.CAPTURED)
            session.add(charging)
            session.flush()
            session.add(DriverAccountSession(session_id=charging.id, account_id=account.id))
        return account.id


def _median_ms(client, path: str, calls: int, cookie: str | None) -> float:
    if cookie:
        client.set_cookie(COOKIE, cookie)
    else:
        client.delete_cookie(COOKIE)
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        assert client.get(path).status_code == 200
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--favourites", type=int, default=10)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-accounts-"))
    url = args.database_url or f"sqlite:///{work / 'bench.db'}"
    upgrade(url)
    app = create_app({"database_url": url, "secret_key": "bench", "env": "test"})
    db = runtime(app).db
    account_id = _seed(db, args.sessions, args.favourites)
    browser = signin.sign_in_account(db, account_id, language="de")
    client = app.test_client()
    figures = {}
    for name, path in (("find", "/"), ("my_sessions", "/my-sessions")):
        _median_ms(client, path, 10, None)
        figures[f"{name}_anon_ms"] = _median_ms(client, path, args.calls, None)
        figures[f"{name}_signed_in_ms"] = _median_ms(client, path, args.calls, browser)
    print(f"{args.sessions} kept sessions, {args.favourites} favourites, {args.calls} calls "
          f"each, {db.engine.dialect.name}")
    for name, value in figures.items():
        print(f"  {name:<24} {value:8.2f} ms (median, whole Flask request in-process)")

    # One receipt due for each kept session.
    with db.session() as session:
        for session_id in session.scalars(select(DriverAccountSession.session_id).where(
                DriverAccountSession.account_id == account_id)):
            session.add(ReceiptEmail(session_id=session_id, account_id=account_id))
    sink = _Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailer = SmtpMailer("127.0.0.1", port, "Voltspot <bench@example.org>")
        began = time.perf_counter()
        sent = send_due_receipts(db, mailer, receipt_writer(app), limit=args.sessions)
        elapsed = time.perf_counter() - began
    finally:
        controller.stop()
    figures["receipts_per_s"] = sent / elapsed if elapsed else 0.0
    print(f"  receipts emailed          {sent} in {elapsed:.2f} s = "
          f"{figures['receipts_per_s']:.1f}/s (written in German, one SMTP connection each; "
          f"the SMTP server received {sink.received})")
    print(" ".join(f"{name}={value:.2f}" for name, value in figures.items()))
    db.dispose()


if __name__ == "__main__":
    main()
