"""How long the roaming job's change scan takes: N published sites (2 stations of 2 plugs
each) and one registered partner, on a fresh SQLite database. Prints the first round
(everything new: a PUT per location and tariff), quiet rounds (nothing changed; full, and
the every-round status scan) and a status round after 1 % of the plugs changed (PATCHes).

Run: ``PYTHONPATH=backend python bench/ocpi_scan.py --sites 500``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from voltspot.db import Database
from voltspot.domain.statuses import ConnectorStatus
from voltspot.migrate import upgrade
from voltspot.models import Connector, OcpiPartner, Site, Tariff
from voltspot.models.roaming import PartnerState
from voltspot.services.roaming.identity import Identity
from voltspot.services.roaming.outbox import queue_changes
from voltspot.services.stations.registry import register_station


def seed(db: Database, sites: int) -> None:
    with db.session() as session:
        tariff = Tariff(name="Bench", currency="EUR", energy_price_per_kwh=3900)
        session.add(tariff)
        session.add(OcpiPartner(name="Bench eMSP", state=PartnerState.REGISTERED,
                                roles=[], endpoints={}, country_code="DE", party_id="BEN"))
        session.flush()
        for number in range(sites):
            for station in range(2):
                registered, _ = register_station(session, site_name=f"Site {number}",
                                                 charge_point_id=f"B-{number}-{station}",
                                                 connectors=2)
                registered.connected = True
                for connector in registered.connectors:
                    connector.tariff_id = tariff.id
                    connector.status = ConnectorStatus.AVAILABLE
            site = session.scalar(select(Site).where(Site.name == f"Site {number}"))
            site.latitude, site.longitude, site.publish_to_roaming = 52.0, 4.0, True


def timed(db: Database, identity: Identity, full: bool) -> tuple[float, object]:
    started = time.perf_counter()
    queued = queue_changes(db, identity, full=full)
    return time.perf_counter() - started, queued


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        db = Database(url)
        seed(db, args.sites)
        identity = Identity("NL", "VSP", "Bench", "http://127.0.0.1/ocpi", "bench")
        for name, full in (("first full round", True), ("quiet full round", True),
                           ("quiet status round", False)):
            seconds, queued = timed(db, identity, full)
            print(f"{name:<28} {seconds * 1000:8.1f} ms  {queued}")
        with db.session() as session:
            connectors = session.scalars(select(Connector).order_by(Connector.id)).all()
            for connector in connectors[::100]:
                connector.status = ConnectorStatus.CHARGING
        seconds, queued = timed(db, identity, False)
        print(f"{'status round, 1 % changed':<28} {seconds * 1000:8.1f} ms  {queued}")
        db.dispose()


if __name__ == "__main__":
    main()
