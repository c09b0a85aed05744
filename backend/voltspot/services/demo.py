"""The demo site ``make run`` shows: one site, three stations with two plugs, a tariff and
a few RFID cards."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from voltspot.db import Database
from voltspot.domain.statuses import ConnectorType
from voltspot.models import IdToken, Owner, Site, SiteLoadSettings, Station, Tariff
from voltspot.passwords import hash_password
from voltspot.services.owner.accounts import create_owner
from voltspot.services.stations.registry import register_station

DEMO_SITE = "Voltspot Demo Garage"
DEMO_PASSWORD = "demo-station-password"
DEMO_OWNER_EMAIL = "owner@demo.voltspot.test"
DEMO_OWNER_PASSWORD = "demo-owner-password"
# The demo garage's grid connection: 40 A × 3 phases (27.6 kW) for six plugs.
DEMO_LIMIT_AMPS = 40.0
DEMO_CARDS = {"DEMO-CARD-1": "Alex (staff)", "DEMO-CARD-2": "Sam (fleet)",
              "DEMO-CARD-3": "Robin (visitor)"}


def seed_demo(db: Database, chargers: int = 3) -> list[str]:
    """Create the demo site once; later runs leave it as it is. Returns the charge point
    ids, all with the password :data:`DEMO_PASSWORD` (a demo, not a deployment)."""
    with db.session() as session:
        return _seed(session, chargers)


def _seed(session: Session, chargers: int) -> list[str]:
    ids = [f"DEMO-{n}" for n in range(1, chargers + 1)]
    tariff = session.scalar(select(Tariff).where(Tariff.name == "Demo standard"))
    if tariff is None:
        tariff = Tariff(name="Demo standard", currency="EUR", energy_price_per_kwh=3900,
                        time_price_per_minute=0, session_fee=35, idle_fee_per_minute=1000,
                        idle_grace_minutes=30, idle_fee_cap=2000, vat_rate_basis_points=2100,
                        hold_amount=5000)
        session.add(tariff)
    for number, charge_point_id in enumerate(ids, start=1):
        station = session.scalar(select(Station).where(Station.charge_point_id == charge_point_id))
        if station is None:
            station, _ = register_station(session, site_name=DEMO_SITE,
                                          charge_point_id=charge_point_id, connectors=2,
                                          power_kw=50 if number == 3 else 22,
                                          password=DEMO_PASSWORD)
            plug = ConnectorType.CCS2 if number == 3 else ConnectorType.TYPE2
            for connector in station.connectors:
                connector.connector_type = plug
        station.password_hash = hash_password(DEMO_PASSWORD)
        session.flush()
        tariff.site_id = station.site_id
        for connector in station.connectors:
            connector.tariff_id = tariff.id
    owner = session.scalar(select(Owner).where(Owner.email == DEMO_OWNER_EMAIL))
    if owner is None:
        owner = create_owner(session, DEMO_OWNER_EMAIL, DEMO_OWNER_PASSWORD,
                             name="Demo owner", admin=True)
    tariff.owner_id = owner.id
    site = session.scalar(select(Site).where(Site.name == DEMO_SITE))
    site.owner_id = owner.id
    site.address, site.city, site.postal_code = "Stationsplein 1", "Amsterdam", "1012 AB"
    site.latitude, site.longitude = 52.3791, 4.9003
    site.help_phone = "+31 20 123 4567"
    if session.get(SiteLoadSettings, site.id) is None:
        # Smaller than its plugs (six of 22 or 50 kW), so the demo shows them sharing.
        session.add(SiteLoadSettings(site_id=site.id, limit_amps=DEMO_LIMIT_AMPS, phases=3,
                                     margin_amps=0.0, min_amps=6.0, hold_seconds=30,
                                     enabled=True))
    for id_tag, holder in DEMO_CARDS.items():
        if session.scalar(select(IdToken).where(IdToken.id_tag == id_tag)) is None:
            session.add(IdToken(id_tag=id_tag, holder_name=holder, owner_id=owner.id))
    return ids
