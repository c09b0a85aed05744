"""OCPI test helpers: our identity as the test server has it, an eMSP registered with the
CPO, and sites published to roaming."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tests.support.emsp import Emsp
from tests.support.server import LiveServer
from voltspot.db import Database
from voltspot.models import Site, Tariff
from voltspot.services.roaming import partners
from voltspot.services.roaming.identity import Identity
from voltspot.services.stations.registry import register_station

SECRET_KEY = "ocpi-test-secret-key"


def identity_of(server: LiveServer) -> Identity:
    """Our identity as the server has it (the same secret: partner tokens sealed by the
    test process are read by the server)."""
    return Identity("NL", "VSP", "Voltspot", server.base_url + "/ocpi", SECRET_KEY)


def register(emsp: Emsp, cpo: LiveServer, odb: Database) -> int:
    """Let ``emsp`` register with the CPO (it starts, with our token A); the partner id."""
    created = partners.add_partner(odb, identity_of(cpo), f"eMSP {uuid.uuid4().hex[:6]}")
    emsp.register_with_cpo(created.versions_url, created.token_a)
    return created.partner_id


@dataclass
class PublishedSite:
    site_id: int
    charge_point_id: str
    password: str
    connector_pks: list[int]
    tariff_id: int


def publish_site(odb: Database, *, connectors: int = 2, publish: bool = True,
                 energy_price: int = 3900) -> PublishedSite:
    """A site with one station, a tariff on its plugs and coordinates, published."""
    charge_point_id = f"OCPI-{uuid.uuid4().hex[:8]}"
    with odb.session() as session:
        station, password = register_station(session, site_name=f"Site {charge_point_id}",
                                              charge_point_id=charge_point_id,
                                              connectors=connectors)
        site: Site = station.site
        site.latitude, site.longitude = 52.370216, 4.895168
        site.address, site.city, site.postal_code = "Dam 1", "Amsterdam", "1012 JS"
        site.help_phone = "+31 20 123 4567"
        site.publish_to_roaming = publish
        tariff = Tariff(name="Roaming", currency="EUR", energy_price_per_kwh=energy_price,
                        session_fee=50, vat_rate_basis_points=2100, site_id=site.id)
        session.add(tariff)
        session.flush()
        for connector in station.connectors:
            connector.tariff_id = tariff.id
        return PublishedSite(site.id, charge_point_id, password,
                             [c.id for c in station.connectors], tariff.id)
