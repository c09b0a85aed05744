"""A tariff assigned to a whole site is the price of the plugs the site gets later."""

from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_owner, make_site, make_tariff
from voltspot.models import Connector, Station
from voltspot.services.owner.accounts import Viewer
from voltspot.services.owner.tariffs import assign_tariff
from voltspot.services.stations.registry import add_station


def _tariffs_of(db, charge_point_id: str) -> list[int | None]:
    with db.session() as session:
        return list(session.scalars(select(Connector.tariff_id).join(Station).where(
            Station.charge_point_id == charge_point_id).order_by(Connector.connector_id)))


def test_a_station_added_to_a_site_later_gets_the_sites_tariff(db):
    owner = make_owner(db)
    site = make_site(db, owner.id)
    tariff = make_tariff(db, owner.id)
    assign_tariff(db, Viewer(owner.id, False), tariff, site_ids=[site.id])
    later = add_station(db, site_name=site.name, charge_point_id=f"{site.charge_point_ids[0]}-L",
                        connectors=2)
    assert _tariffs_of(db, later.charge_point_id) == [tariff, tariff]


def test_a_tariff_on_single_plugs_is_not_given_to_later_stations(db):
    owner = make_owner(db)
    site = make_site(db, owner.id)
    tariff = make_tariff(db, owner.id)
    assign_tariff(db, Viewer(owner.id, False), tariff, connector_ids=site.connector_ids[:1])
    later = add_station(db, site_name=site.name, charge_point_id=f"{site.charge_point_ids[0]}-M",
                        connectors=1)
    assert _tariffs_of(db, later.charge_point_id) == [None]
