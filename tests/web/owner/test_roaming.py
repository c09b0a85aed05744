"""The owner's Roaming page: partners, the "publish to roaming" switch, roaming sessions."""

from __future__ import annotations

import uuid

from tests.support.owner import csrf_of, sign_in
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, OcpiPartner, OcpiSession, Site, Station
from voltspot.services.stations.registry import register_station


def _site(db, owner_id: int, *, positioned: bool = True) -> tuple[int, int]:
    with db.session() as session:
        station, _ = register_station(session, site_name=f"Roam {uuid.uuid4().hex[:6]}",
                                      charge_point_id=f"R-{uuid.uuid4().hex[:8]}",
                                      connectors=1)
        site: Site = station.site
        site.owner_id = owner_id
        if positioned:
            site.latitude, site.longitude = 51.9, 4.5
        return site.id, station.id


def test_adding_a_partner_shows_token_a_once(app, owner):
    client = sign_in(app.test_client(), owner)
    page = client.post("/owner/roaming/partners", data={
        "name": f"Chargemap {uuid.uuid4().hex[:4]}", "csrf_token": csrf_of(client)})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Token A" in text and "/ocpi/versions" in text
    assert "Waiting for them to register with the token" in text
    again = client.get("/owner/roaming").get_data(as_text=True)
    assert "Token A" not in again


def test_a_site_with_a_position_is_published_with_one_click(app, db, owner):
    site_id, _ = _site(db, owner.id)
    client = sign_in(app.test_client(), owner)
    response = client.post(f"/owner/roaming/sites/{site_id}", data={
        "publish": "1", "csrf_token": csrf_of(client)}, headers={"HX-Request": "true"})
    assert "Take off roaming" in response.get_data(as_text=True)
    with db.session() as session:
        assert session.get(Site, site_id).publish_to_roaming is True


def test_a_site_without_a_position_says_why_it_cannot_be_published(app, db, owner):
    site_id, _ = _site(db, owner.id, positioned=False)
    client = sign_in(app.test_client(), owner)
    response = client.post(f"/owner/roaming/sites/{site_id}", data={
        "publish": "1", "csrf_token": csrf_of(client)}, headers={"HX-Request": "true"})
    assert "Add the site&#39;s position first" in response.get_data(as_text=True)
    with db.session() as session:
        assert session.get(Site, site_id).publish_to_roaming is False


def test_another_owners_site_cannot_be_published(app, db, owner, other_owner):
    site_id, _ = _site(db, other_owner.id)
    client = sign_in(app.test_client(), owner)
    response = client.post(f"/owner/roaming/sites/{site_id}", data={
        "publish": "1", "csrf_token": csrf_of(client)})
    assert response.status_code == 404


def test_roaming_sessions_show_the_partners_name(app, db, owner):
    site_id, station_id = _site(db, owner.id)
    name = f"Plugsurfing {uuid.uuid4().hex[:4]}"
    with db.session() as session:
        partner = OcpiPartner(name=name, owner_id=owner.id, roles=[], endpoints={})
        charging = ChargingSession(token=uuid.uuid4().hex, station_id=station_id,
                                   status=SessionStatus.COMPLETED, energy_wh=12345,
                                   origin="ocpi")
        session.add_all([partner, charging])
        session.flush()
        session.add(OcpiSession(session_id=charging.id, partner_id=partner.id,
                                ocpi_id=str(charging.id), cdr_token={}, auth_method="COMMAND",
                                location_id=str(site_id), evse_uid="1", connector_id="1"))
        assert session.get(Station, station_id).site_id == site_id
    client = sign_in(app.test_client(), owner)
    text = client.get("/owner/roaming").get_data(as_text=True)
    assert name in text and "12.35 kWh" in text


def test_an_owner_disconnects_a_partner(app, db, owner):
    with db.session() as session:
        partner = OcpiPartner(name=f"Old {uuid.uuid4().hex[:4]}", owner_id=owner.id, roles=[],
                              endpoints={})
        session.add(partner)
        session.flush()
        partner_id = partner.id
    client = sign_in(app.test_client(), owner)
    response = client.post(f"/owner/roaming/partners/{partner_id}/disconnect",
                           data={"csrf_token": csrf_of(client)})
    assert response.status_code == 302
    with db.session() as session:
        assert session.get(OcpiPartner, partner_id).state == "unregistered"


def test_another_owners_partner_cannot_be_disconnected(app, db, owner, other_owner):
    with db.session() as session:
        partner = OcpiPartner(name=f"Theirs {uuid.uuid4().hex[:4]}", owner_id=other_owner.id,
                              roles=[], endpoints={})
        session.add(partner)
        session.flush()
        partner_id = partner.id
    client = sign_in(app.test_client(), owner)
    response = client.post(f"/owner/roaming/partners/{partner_id}/disconnect",
                           data={"csrf_token": csrf_of(client)})
    assert response.status_code == 404
