"""The site meter: the owner connects one from the load page, the meter posts the
building's other load, and the cars share only what is left."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from tests.support.load import make_load_site, offline_control, plug_loads, start_charging
from tests.support.owner import csrf_of
from voltspot.models import Site, SiteMeterReading, utcnow
from voltspot.services.load.allocation import recompute_site


def _meter_key(client, db, owner) -> tuple[int, list[int], str]:
    site_id, plugs = make_load_site(db, amps=32)
    with db.session() as session:
        session.get(Site, site_id).owner_id = owner.id
    page = client.post(f"/owner/sites/{site_id}/load/meter", data={
        "fallback_amps": "20", "max_age": "60", "csrf_token": csrf_of(client)})
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    key = re.search(r"Authorization: Bearer ([\w-]+)", page.get_data(as_text=True)).group(1)
    return site_id, plugs, key


def test_a_meters_reading_leaves_the_buildings_load_free(signed_in, owner, db):
    site_id, plugs, key = _meter_key(signed_in, db, owner)
    response = signed_in.post(f"/meter/sites/{site_id}/readings",
                              json={"l1": 12, "l2": 10, "l3": 8},
                              headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201
    start_charging(db, plugs[0], 30)
    recompute_site(db, offline_control(), site_id)
    # 32 A less the busiest phase's 12 A.
    assert plug_loads(db, plugs)[plugs[0]].amps == 20


def test_a_silent_meter_falls_back_to_the_owners_assumption(signed_in, owner, db):
    site_id, plugs, key = _meter_key(signed_in, db, owner)
    with db.session() as session:
        session.add(SiteMeterReading(site_id=site_id, taken_at=utcnow() - timedelta(minutes=5),
                                     l1_amps=1, l2_amps=1, l3_amps=1))
    start_charging(db, plugs[0], 30)
    recompute_site(db, offline_control(), site_id)
    assert plug_loads(db, plugs)[plugs[0]].amps == 12


def test_a_reading_with_a_wrong_key_is_refused(signed_in, owner, db):
    site_id, _, _ = _meter_key(signed_in, db, owner)
    response = signed_in.post(f"/meter/sites/{site_id}/readings", json={"kw": 5},
                              headers={"Authorization": "Bearer not-the-key"})
    assert response.status_code == 403
    with db.session() as session:
        assert session.scalar(select(SiteMeterReading.id).where(
            SiteMeterReading.site_id == site_id)) is None
