"""A roaming session is an ordinary session: a driver's phone journey on the next plug
of the same station runs as usual beside it."""

from __future__ import annotations

import uuid

from ocpp.v16 import call
from sqlalchemy import select

from tests.support.emsp import Emsp
from tests.support.http import page
from tests.support.library_charger import LibraryCharger
from tests.support.ocpi import publish_site, register
from tests.support.payloads import now_iso
from voltspot.domain.statuses import PaymentState
from voltspot.models import ChargingSession, Connector, OcpiSession


def test_the_driver_journey_runs_on_the_plug_next_to_a_roaming_session(cpo, odb, emsp: Emsp):
    register(emsp, cpo, odb)
    site = publish_site(odb)
    with odb.session() as session:
        neighbour_evse = session.get(Connector, site.connector_pks[1]).evse_id.replace("*", "-")
    uid = f"NB{uuid.uuid4().hex[:8].upper()}"
    with LibraryCharger(cpo.ws_url, site.charge_point_id, site.password) as charger:
        charger.boot()
        for connector in (1, 2):
            charger.send(call.StatusNotification(connector_id=connector, error_code="NoError",
                                                 status="Available"))
        emsp.call_cpo("POST", f"{cpo.base_url}/ocpi/2.2.1/commands/START_SESSION", json={
            "response_url": f"{emsp.base_url}/2.2.1/command_results/nb-{uid}",
            "location_id": str(site.site_id), "evse_uid": str(site.connector_pks[0]),
            "token": {"uid": uid, "type": "APP_USER", "contract_id": "DE-TMS-C1",
                      "country_code": "DE", "party_id": "TMS"}})
        emsp.wait_for(lambda: emsp.pushes(f"command_results/nb-{uid}"))
        roaming = charger.send(call.StartTransaction(connector_id=1, id_tag=uid,
                                                     meter_start=0, timestamp=now_iso()))
        charger.send(call.StatusNotification(connector_id=1, error_code="NoError",
                                             status="Charging"))

        status, headers, _ = page(cpo, "POST", f"/c/{neighbour_evse}/start",
                                  form={"start_key": uuid.uuid4().hex})
        assert status == 303
        token = headers["Location"].rsplit("/", 1)[-1]
        action, fields = charger.cp.received[-1]
        assert action == "RemoteStartTransaction" and fields["connector_id"] == 2
        driver = charger.send(call.StartTransaction(connector_id=2, id_tag=fields["id_tag"],
                                                    meter_start=0, timestamp=now_iso()))
        assert driver.id_tag_info["status"] == "Accepted"
        charger.send(call.StopTransaction(meter_stop=5000, timestamp=now_iso(),
                                          transaction_id=driver.transaction_id))
        charger.send(call.StopTransaction(meter_stop=4000, timestamp=now_iso(),
                                          transaction_id=roaming.transaction_id))
        cdr = emsp.wait_for(lambda: [r for r in emsp.pushes("cdrs", "POST")
                                     if r.body["cdr_token"]["uid"] == uid])
    assert cdr[0].body["total_energy"] == 4.0
    with odb.session() as session:
        mine = session.scalar(select(ChargingSession).where(ChargingSession.token == token))
        assert session.get(OcpiSession, mine.id) is None and mine.energy_wh == 5000
        assert mine.payment_state in (PaymentState.TO_SETTLE, PaymentState.CAPTURED)
    assert emsp.violations == []
