"""A roaming session is an ordinary session to its owner: it shows in the sessions table,
the CSV export, its own page, the live board and the overview report, each time with the
name of the roaming partner whose driver charged (and who pays)."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import add_session, make_place, utc
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, Connector, OcpiCdr, OcpiPartner, OcpiSession


@pytest.fixture
def place(db, owner):
    return make_place(db, owner_id=owner.id, stations=1)


@pytest.fixture
def partner_name() -> str:
    return f"Plugsurfing {uuid.uuid4().hex[:4]}"


def make_roaming(session, charging: ChargingSession, partner_name: str, *,
                 auth_method: str = "AUTH_REQUEST", cdr_acknowledged: bool | None = None,
                 token_uid: str | None = None) -> None:
    """Make ``charging`` a roaming session of a partner called ``partner_name`` (created
    when missing) for the driver's token ``token_uid`` (by default the session's idTag),
    with a CDR when ``cdr_acknowledged`` is not None."""
    partner = session.scalar(select(OcpiPartner).where(OcpiPartner.name == partner_name))
    if partner is None:
        partner = OcpiPartner(name=partner_name, roles=[], endpoints={})
        session.add(partner)
        session.flush()
    session.add(OcpiSession(
        session_id=charging.id, partner_id=partner.id, ocpi_id=str(charging.id),
        cdr_token={"uid": token_uid or charging.id_tag, "type": "RFID",
                   "contract_id": "DE-TMS-C0001234", "country_code": "DE", "party_id": "TMS"},
        auth_method=auth_method, location_id="1", evse_uid="1", connector_id="1"))
    if cdr_acknowledged is not None:
        session.add(OcpiCdr(session_id=charging.id, partner_id=partner.id,
                            ocpi_id=f"CDR-{charging.id}", data={},
                            acknowledged_at=datetime.now(UTC) if cdr_acknowledged else None))
    session.flush()


def _sessions(db, place, partner_name: str) -> tuple[int, int]:
    """A roaming session and an ordinary card session on the place's station."""
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        roaming = add_session(session, station_id, utc(2024, 5, 3, 8), energy_wh=20_000,
                              cost=800, currency="EUR", id_tag="04A2B3C4D5E6F7")
        make_roaming(session, roaming, partner_name, cdr_acknowledged=True)
        card = add_session(session, station_id, utc(2024, 5, 3, 9), energy_wh=5_000,
                           cost=200, currency="EUR", id_tag="CARD-OURS")
        return roaming.id, card.id


def test_the_sessions_table_names_the_partner_and_who_is_billed(db, signed_in, place,
                                                                partner_name):
    roaming_id, card_id = _sessions(db, place, partner_name)
    page = html.unescape(signed_in.get("/owner/sessions").get_data(as_text=True))
    roaming_row = re.search(rf'<tr data-session="{roaming_id}">(.*?)</tr>', page, re.S).group(1)
    card_row = re.search(rf'<tr data-session="{card_id}">(.*?)</tr>', page, re.S).group(1)
    assert f"{partner_name} driver (roaming)" in roaming_row
    assert "04A2B3C4D5E6F7" in roaming_row and f"Billed to {partner_name}" in roaming_row
    assert partner_name not in card_row and "Card CARD-OURS" in card_row


def test_the_csv_export_has_the_partner_of_each_roaming_session(db, signed_in, place,
                                                                partner_name):
    roaming_id, card_id = _sessions(db, place, partner_name)
    text = signed_in.get("/owner/sessions.csv").get_data(as_text=True)
    rows = {row["session_id"]: row for row in csv.DictReader(io.StringIO(text))}
    assert rows[str(roaming_id)]["roaming_partner"] == partner_name
    assert rows[str(card_id)]["roaming_partner"] == ""


def test_the_session_page_shows_the_partner_the_contract_and_the_cdr(db, signed_in, place,
                                                                     partner_name):
    roaming_id, card_id = _sessions(db, place, partner_name)
    page = html.unescape(signed_in.get(f"/owner/sessions/{roaming_id}").get_data(as_text=True))
    driver = re.search(r'data-testid="driver">(.*?)</dd>', page, re.S).group(1)
    assert f"{partner_name} driver (roaming)" in driver and "card 04A2B3C4D5E6F7" in driver
    roaming = re.search(r'data-testid="roaming">(.*?)</dl>', page, re.S).group(1)
    assert f"{partner_name} (pays for this session)" in roaming
    assert "DE-TMS-C0001234" in roaming and "The partner, asked at the charger" in roaming
    assert "Sent" in roaming
    assert f"Billed to {partner_name}, no card payment" in page
    ordinary = signed_in.get(f"/owner/sessions/{card_id}").get_data(as_text=True)
    assert 'data-testid="roaming"' not in ordinary and partner_name not in ordinary


def test_a_cdr_not_yet_acknowledged_is_said_to_wait(db, signed_in, place, partner_name):
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        charging = add_session(session, station_id, utc(2024, 5, 4, 8), id_tag="04FFEE")
        make_roaming(session, charging, partner_name, auth_method="WHITELIST",
                     cdr_acknowledged=False)
        session_id = charging.id
    page = signed_in.get(f"/owner/sessions/{session_id}").get_data(as_text=True)
    roaming = re.search(r'data-testid="roaming">(.*?)</dl>', page, re.S).group(1)
    assert "Waiting to be sent" in roaming and "The partner&#39;s list of cards" in roaming


def test_the_live_board_names_the_partner_of_a_running_roaming_session(db, signed_in, place,
                                                                       partner_name):
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        connector_pk = session.scalar(select(Connector.id).where(
            Connector.station_id == station_id, Connector.connector_id == 1))
        running = add_session(session, station_id, datetime.now(UTC) - timedelta(minutes=5),
                              minutes=None, id_tag="04ABCDEF", status=SessionStatus.CHARGING)
        running.connector_pk = connector_pk
        make_roaming(session, running, partner_name)
    page = html.unescape(signed_in.get("/owner/").get_data(as_text=True))
    plug = page[page.index('data-plug="1"'):page.index('data-plug="2"')]
    assert f"{partner_name} driver (roaming)" in plug


def test_the_overview_report_has_each_partners_sessions_energy_and_revenue(
        db, signed_in, place, partner_name):
    _sessions(db, place, partner_name)
    station_id = next(iter(place.stations.values()))
    other_partner = f"Chargemap {uuid.uuid4().hex[:4]}"
    with db.session() as session:
        for hour in (10, 11):
            charging = add_session(session, station_id, utc(2024, 5, 5, hour),
                                   energy_wh=7_000, cost=300, currency="EUR", id_tag="04AA")
            make_roaming(session, charging, other_partner)
        # Outside the period: not counted.
        late = add_session(session, station_id, utc(2024, 6, 2, 8), cost=999, currency="EUR",
                           id_tag="04BB")
        make_roaming(session, late, partner_name)
    page = signed_in.get("/owner/reports?period=custom&from=2024-05-01&to=2024-05-31")
    text = html.unescape(page.get_data(as_text=True))
    table = re.search(r'data-testid="roaming-partners">(.*?)</table>', text, re.S).group(1)
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td[^>]*>(\d+)</td>\s*<td[^>]*>(.*?)</td>"
                      r"\s*<td[^>]*>(.*?)</td>", table, re.S)
    assert rows == [(other_partner, "2", "14.00 kWh", "€6.00"),
                    (partner_name, "1", "20.00 kWh", "€8.00")]
    # The partners' sessions are in the totals above too (3 roaming + 1 card session).
    assert 'data-testid="sessions-total">4<' in text


def test_the_overview_report_has_no_roaming_table_without_roaming_sessions(db, signed_in,
                                                                           place):
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        add_session(session, station_id, utc(2024, 5, 3, 8), id_tag="CARD-OURS")
    page = signed_in.get("/owner/reports?period=custom&from=2024-05-01&to=2024-05-31")
    assert 'data-testid="roaming-partners"' not in page.get_data(as_text=True)


def test_the_table_and_csv_filter_by_roaming_partner(db, signed_in, place, partner_name):
    roaming_id, card_id = _sessions(db, place, partner_name)
    with db.session() as session:
        partner_id = session.scalar(select(OcpiPartner.id).where(
            OcpiPartner.name == partner_name))
    page = signed_in.get("/owner/sessions").get_data(as_text=True)
    assert re.search(rf'<option value="{partner_id}"\s*>{re.escape(partner_name)}</option>',
                     html.unescape(page))
    page = signed_in.get(f"/owner/sessions?partner={partner_id}").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'data-session="(\d+)"', page)] == [roaming_id]
    text = signed_in.get(f"/owner/sessions.csv?partner={partner_id}").get_data(as_text=True)
    assert [row["session_id"] for row in csv.DictReader(io.StringIO(text))] == [str(roaming_id)]
    page = signed_in.get("/owner/sessions?partner=plugsurfing").get_data(as_text=True)
    assert "is not a roaming partner" in html.unescape(page)
    assert card_id in [int(n) for n in re.findall(r'data-session="(\d+)"', page)]


def test_an_owner_without_roaming_sessions_sees_no_partner_filter(db, signed_in, place):
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        add_session(session, station_id, utc(2024, 5, 3, 8), id_tag="CARD-OURS")
    page = signed_in.get("/owner/sessions").get_data(as_text=True)
    assert 'name="partner"' not in page


def test_a_token_longer_than_an_id_tag_is_shown_beside_its_stand_in(db, signed_in, place,
                                                                    partner_name):
    station_id = next(iter(place.stations.values()))
    long_uid = "EMSP-APP-USER-0123456789ABCDEF"
    with db.session() as session:
        charging = add_session(session, station_id, utc(2024, 5, 4, 8),
                               id_tag="R0123456789ABCDEF012")
        make_roaming(session, charging, partner_name, auth_method="COMMAND",
                     token_uid=long_uid)
        session_id = charging.id
    page = html.unescape(signed_in.get(f"/owner/sessions/{session_id}").get_data(as_text=True))
    roaming = re.search(r'data-testid="roaming">(.*?)</dl>', page, re.S).group(1)
    assert long_uid in roaming and "The partner's app (remote start)" in roaming
    assert "Due when the session ends" not in roaming and "Being made" in roaming
