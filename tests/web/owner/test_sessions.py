"""The owner's sessions: the filtered, paged table, its CSV export and a session's page."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import add_session, make_card, make_place, utc
from tests.support.owner import csrf_of, sign_in
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import ChargingSession, MeterSample, OcppFrame


def shown(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-session="(\d+)"', page)]


@pytest.fixture
def place(db, owner):
    return make_place(db, owner_id=owner.id, stations=2)


@pytest.fixture
def theirs(db, other_owner):
    return make_place(db, owner_id=other_owner.id)


def test_a_stranger_is_sent_to_sign_in(app):
    for path in ("/owner/sessions", "/owner/sessions.csv", "/owner/sessions/1"):
        assert app.test_client().get(path).status_code == 302


def test_the_table_lists_the_owners_sessions_newest_first_and_no_one_elses(
        db, signed_in, place, theirs):
    first, second = place.stations.values()
    with db.session() as session:
        older = add_session(session, first, utc(2024, 5, 1, 9)).id
        newer = add_session(session, second, utc(2024, 5, 2, 9)).id
        foreign = add_session(session, next(iter(theirs.stations.values())),
                              utc(2024, 5, 2, 10)).id
    page = signed_in.get("/owner/sessions").get_data(as_text=True)
    assert shown(page) == [newer, older]
    assert str(foreign) not in shown(page)
    assert 'class="sticky-top"' in page and "Export CSV" in page


def test_the_table_filters_by_date_site_station_card_and_payment_state(
        db, signed_in, owner, place):
    other_site = make_place(db, owner_id=owner.id)
    first, second = place.stations.values()
    (first_cp, _), (second_cp, _) = place.stations.items()
    with db.session() as session:
        may = add_session(session, first, utc(2024, 5, 1, 9), id_tag="CARD-A",
                          payment_state=PaymentState.CAPTURED).id
        june = add_session(session, second, utc(2024, 6, 1, 9), id_tag="CARD-B",
                           payment_state=PaymentState.FAILED).id
        elsewhere = add_session(session, next(iter(other_site.stations.values())),
                                utc(2024, 6, 2, 9)).id

    def ids(query: str) -> set[int]:
        return set(shown(signed_in.get(f"/owner/sessions?{query}").get_data(as_text=True)))

    assert ids("from=2024-05-01&to=2024-05-31") == {may}
    assert ids("from=2024-06-01&to=2024-06-30") == {june, elsewhere}
    assert ids(f"site={place.site_id}") == {may, june}
    assert ids(f"station={second_cp}") == {june}
    assert ids(f"station={first_cp}&card=CARD-A") == {may}
    assert ids("card=CARD-B") == {june}
    assert ids("payment=failed") == {june}
    assert ids("payment=captured&from=2024-06-01") == set()


def test_the_date_filter_uses_local_days(db, signed_in, place):
    station_id = next(iter(place.stations.values()))
    with db.session() as session:
        # 00:30 on 2 May in Amsterdam, still 1 May in UTC.
        late = add_session(session, station_id, utc(2024, 5, 1, 22, 30)).id
    page = signed_in.get("/owner/sessions?from=2024-05-02&to=2024-05-02").get_data(as_text=True)
    assert shown(page) == [late]


def test_an_unreadable_filter_is_said_and_left_out(db, signed_in, place):
    with db.session() as session:
        made = add_session(session, next(iter(place.stations.values())), utc(2024, 5, 1)).id
    page = signed_in.get("/owner/sessions?from=yesterday&payment=maybe").get_data(as_text=True)
    assert "“yesterday” is not a date" in page and "“maybe” is not a payment state" in page
    assert made in shown(page)


def test_the_table_pages_fifty_sessions_at_a_time(db, signed_in, place):
    station_id = next(iter(place.stations.values()))
    start = utc(2024, 1, 1)
    with db.session() as session:
        ids = [add_session(session, station_id, start + timedelta(hours=n)).id
               for n in range(120)]
    newest_first = ids[::-1]
    page = signed_in.get(f"/owner/sessions?site={place.site_id}").get_data(as_text=True)
    assert shown(page) == newest_first[:50]
    older = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    assert f"site={place.site_id}" in older
    page = signed_in.get(older).get_data(as_text=True)
    assert shown(page) == newest_first[50:100]
    page = signed_in.get(re.search(r'href="([^"]+)" rel="next"', page).group(1)
                         .replace("&amp;", "&")).get_data(as_text=True)
    assert shown(page) == newest_first[100:]
    assert 'rel="next"' not in page
    newer = re.search(r'href="([^"]+)" rel="prev"', page).group(1).replace("&amp;", "&")
    assert shown(signed_in.get(newer).get_data(as_text=True)) == newest_first[50:100]


def test_paging_keeps_every_session_when_many_were_created_at_the_same_moment(
        db, signed_in, place):
    station_id = next(iter(place.stations.values()))
    moment = utc(2024, 2, 1, 12)
    with db.session() as session:
        ids = {add_session(session, station_id, moment, created_at=moment).id
               for _ in range(60)}
    first = signed_in.get(f"/owner/sessions?site={place.site_id}").get_data(as_text=True)
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = signed_in.get(older).get_data(as_text=True)
    assert len(shown(first)) == 50 and set(shown(first)) | set(shown(second)) == ids


def test_a_filter_change_from_htmx_gets_only_the_table(db, signed_in, place):
    with db.session() as session:
        made = add_session(session, next(iter(place.stations.values())), utc(2024, 5, 1)).id
    response = signed_in.get("/owner/sessions", headers={
        "HX-Request": "true", "HX-Target": "sessions-table"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="sessions-table">')
    assert "<html" not in body and made in shown(body)


def test_the_csv_export_has_the_filtered_rows_with_local_times_kwh_and_major_units(
        db, signed_in, place, theirs):
    first, second = place.stations.values()
    first_cp = next(iter(place.stations))
    with db.session() as session:
        paid = add_session(session, first, utc(2024, 7, 1, 8), minutes=90, energy_wh=12_345,
                           cost=1234, currency="EUR", id_tag="CARD-1",
                           payment_state=PaymentState.CAPTURED, stop_reason="Local").id
        add_session(session, second, utc(2024, 7, 1, 9), cost=500, currency="EUR")
        add_session(session, next(iter(theirs.stations.values())), utc(2024, 7, 1, 9))
    response = signed_in.get(f"/owner/sessions.csv?station={first_cp}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 1
    assert rows[0] == {
        "session_id": str(paid), "site": rows[0]["site"], "station": first_cp, "connector": "1",
        "card": "CARD-1", "status": "completed", "started_at": "2024-07-01T10:00:00+02:00",
        "stopped_at": "2024-07-01T11:30:00+02:00", "energy_kwh": "12.345", "cost": "12.34",
        "currency": "EUR", "payment_state": "captured", "stop_reason": "Local",
        "roaming_partner": ""}


def test_the_csv_export_lists_all_the_owners_sessions_and_no_one_elses(
        db, signed_in, place, theirs):
    with db.session() as session:
        mine = {add_session(session, station_id, utc(2024, 8, 1)).id
                for station_id in place.stations.values()}
        foreign = add_session(session, next(iter(theirs.stations.values())), utc(2024, 8, 1)).id
    text = signed_in.get("/owner/sessions.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["session_id", "site", "station"]
    exported = {int(row[0]) for row in rows[1:]}
    assert mine <= exported and foreign not in exported


def test_the_csv_export_keeps_spreadsheets_from_running_a_card_id_as_a_formula(
        db, signed_in, place):
    with db.session() as session:
        add_session(session, next(iter(place.stations.values())), utc(2024, 8, 2),
                    id_tag="=HYPERLINK(1)")
    rows = list(csv.DictReader(io.StringIO(
        signed_in.get("/owner/sessions.csv?card==HYPERLINK(1)").get_data(as_text=True))))
    assert [row["card"] for row in rows] == ["'=HYPERLINK(1)"]


def test_a_session_page_shows_meter_readings_price_lines_payment_and_the_ocpp_log(
        db, signed_in, place):
    charge_point_id, station_id = next(iter(place.stations.items()))
    start = utc(2024, 9, 1, 10)
    with db.session() as session:
        charging = add_session(session, station_id, start, minutes=30, energy_wh=7_500,
                               cost=390, currency="EUR", payment_state=PaymentState.CAPTURED)
        charging.meter_start_wh = 1_000
        charging.hold_amount, charging.amount_captured = 5000, 390
        charging.payment_reference = "pi_test_123"
        charging.bill = {"currency": "EUR", "total": 390, "vat": 68,
                         "vat_rate_basis_points": 2100,
                         "lines": [{"kind": "energy", "description": "Energy",
                                    "quantity": "7.5", "unit": "kWh", "unit_price": 5200,
                                    "amount": 390, "window": None}]}
        for minute, power, register, soc in ((0, 11_000, 1_000, 20), (15, 22_000, 4_000, 35),
                                             (30, 0, 8_500, 50)):
            at = start + timedelta(minutes=minute)
            for measurand, value, unit in (("Power.Active.Import", power, "W"),
                                           ("Energy.Active.Import.Register", register, "Wh"),
                                           ("SoC", soc, "Percent")):
                session.add(MeterSample(station_id=station_id, session_id=charging.id,
                                        connector_id=1, taken_at=at, measurand=measurand,
                                        value=value, unit=unit))
        charging.charger_transaction_id = "77"
        for at, direction, frame in (
                (start - timedelta(minutes=1), "in",
                 '[2,"a","StatusNotification",{"connectorId":1,"x":"BEFORE-START"}]'),
                (start, "in", '[2,"b","StartTransaction",{"connectorId":1,"x":"PLUG-START"}]'),
                (start, "out", '[3,"b",{"transactionId":77,"x":"PLUG-START-ANSWER"}]'),
                (start + timedelta(minutes=5), "in",
                 '[2,"c","MeterValues",{"connectorId":2,"x":"OTHER-PLUG"}]'),
                (start + timedelta(minutes=5), "out", '[3,"c",{"x":"OTHER-PLUG-ANSWER"}]'),
                (start + timedelta(minutes=6), "in", '[2,"d","Heartbeat",{"x":"HEARTBEAT"}]'),
                (start + timedelta(minutes=31), "in",
                 '[2,"e","StopTransaction",{"transactionId":77,"x":"PLUG-STOP"}]'),
                (start + timedelta(minutes=40), "in",
                 '[2,"f","StatusNotification",{"connectorId":1,"x":"TOO-LATE"}]')):
            session.add(OcppFrame(charge_point_id=charge_point_id, direction=direction,
                                  at=at, frame=frame))
        session.add(OcppFrame(charge_point_id="SOMEONE-ELSE", direction="in", at=start,
                              frame='[2,"g","StatusNotification",{"connectorId":1,'
                                    '"x":"OTHER-STATION"}]'))
        session_id = charging.id
    page = signed_in.get(f"/owner/sessions/{session_id}").get_data(as_text=True)
    assert "data-chart=" in page and "chart.umd.min.js" in page
    meter = page[page.index('data-testid="meter-table"'):]
    assert "22.00 kW" in meter and "3.000 kWh" in meter and "35 %" in meter
    assert "12:15:00" in meter  # local time (UTC+2)
    bill = page[page.index('data-testid="bill"'):]
    assert "Energy" in bill and "€3.90" in bill and "€0.68" in bill
    payment = page[page.index('data-testid="payment"'):]
    assert "Paid" in payment and "€50.00" in payment and "pi_test_123" in payment
    frames = page[page.index('data-testid="frames"'):]
    for mine in ("PLUG-START", "PLUG-START-ANSWER", "PLUG-STOP"):
        assert mine in frames, mine
    for not_mine in ("BEFORE-START", "OTHER-PLUG", "HEARTBEAT", "TOO-LATE", "OTHER-STATION"):
        assert not_mine not in page, not_mine


def test_a_session_that_never_started_has_a_page_too(db, signed_in, place):
    with db.session() as session:
        failed = add_session(session, next(iter(place.stations.values())), None,
                             status=SessionStatus.FAILED, created_at=datetime.now(UTC))
        failed.failure_reason = "the charger did not answer"
        session_id = failed.id
    page = signed_in.get(f"/owner/sessions/{session_id}").get_data(as_text=True)
    assert "the charger did not answer" in page and "sent no meter readings" in page


def test_another_owners_session_is_not_found(db, signed_in, theirs):
    with db.session() as session:
        foreign = add_session(session, next(iter(theirs.stations.values())), utc(2024, 5, 1)).id
    assert signed_in.get(f"/owner/sessions/{foreign}").status_code == 404
    assert signed_in.get("/owner/sessions/999999999").status_code == 404


def test_an_admin_sees_every_owners_sessions(app, db, theirs):
    from tests.factories import make_owner
    with db.session() as session:
        foreign = add_session(session, next(iter(theirs.stations.values())),
                              utc(2099, 1, 1)).id
    admin = sign_in(app.test_client(), make_owner(db, admin=True))
    assert foreign in shown(admin.get("/owner/sessions").get_data(as_text=True))
    assert admin.get(f"/owner/sessions/{foreign}").status_code == 200


def test_the_sessions_pages_only_read_so_only_sign_out_posts(db, signed_in, place):
    with db.session() as session:
        made = add_session(session, next(iter(place.stations.values())), utc(2024, 5, 1)).id
    for path in ("/owner/sessions", f"/owner/sessions/{made}"):
        page = signed_in.get(path).get_data(as_text=True)
        assert page.count('method="post"') == 1  # the layout's sign-out form
    assert signed_in.post("/owner/sessions",
                          data={"csrf_token": csrf_of(signed_in)}).status_code == 405


def test_an_owner_refunds_part_of_a_paid_session_and_the_driver_sees_it(app, db, signed_in,
                                                                       owner):
    from sqlalchemy import select as _select

    from tests.support.owner import csrf_of
    from voltspot.domain.statuses import PaymentState, SessionStatus
    from voltspot.models import ChargingSession, Connector, Site, Station
    from voltspot.services.charging.lifecycle import new_session_token

    with db.session() as session:
        site = Site(name=f"Refund site {owner.id}", owner_id=owner.id)
        station = Station(charge_point_id=f"REFUND-{owner.id}", site=site)
        plug = Connector(connector_id=1, evse_id=f"NL*VSP*E9{owner.id}*1")
        station.connectors.append(plug)
        session.add_all([site, station])
        session.flush()
        paid = ChargingSession(token=new_session_token(), station_id=station.id,
                               connector_pk=plug.id, connector_id=1,
                               status=SessionStatus.COMPLETED, currency="EUR", cost=1200,
                               hold_amount=5000, amount_captured=1200,
                               payment_reference="demo_paid",
                               payment_state=PaymentState.CAPTURED)
        session.add(paid)
        session.flush()
        session_id, token = paid.id, paid.token
    response = signed_in.post(f"/owner/sessions/{session_id}/refund", data={
        "amount": "2.50", "reason": "plug faulty for 10 min", "csrf_token": csrf_of(signed_in)})
    assert response.status_code == 303
    with db.session() as session:
        refunded = session.scalar(_select(ChargingSession).where(ChargingSession.id == session_id))
        assert (refunded.amount_refunded, refunded.refund_reason) == (250,
                                                                    "plug faulty for 10 min")
    receipt = app.test_client().get(f"/sessions/{token}/receipt").get_data(as_text=True)
    assert "Refunded (plug faulty for 10 min)" in receipt and "€2.50" in receipt


def test_another_owner_cannot_refund_a_session(app, db, signed_in, other_owner):
    from tests.support.owner import csrf_of
    from voltspot.domain.statuses import PaymentState, SessionStatus
    from voltspot.models import ChargingSession, Site, Station
    from voltspot.services.charging.lifecycle import new_session_token

    with db.session() as session:
        site = Site(name=f"Other refund site {other_owner.id}", owner_id=other_owner.id)
        station = Station(charge_point_id=f"OTHER-REFUND-{other_owner.id}", site=site)
        session.add_all([site, station])
        session.flush()
        paid = ChargingSession(token=new_session_token(), station_id=station.id,
                               status=SessionStatus.COMPLETED, currency="EUR",
                               amount_captured=900, payment_state=PaymentState.CAPTURED,
                               payment_reference="demo_x")
        session.add(paid)
        session.flush()
        session_id = paid.id
    response = signed_in.post(f"/owner/sessions/{session_id}/refund", data={
        "amount": "1.00", "reason": "x", "csrf_token": csrf_of(signed_in)})
    assert response.status_code == 404


def test_the_table_speaks_in_words_with_the_card_holder_and_duration(db, signed_in, place):
    station_id = next(iter(place.stations.values()))
    id_tag = make_card(db, holder_name="Depot van")
    with db.session() as session:
        carded = add_session(session, station_id, utc(2024, 5, 1, 9), minutes=65,
                             id_tag=id_tag).id
        app = add_session(session, station_id, utc(2024, 5, 1, 11), minutes=12,
                          id_tag="VS7DC42F7D8BF392902F", stop_reason="Remote").id
    page = html.unescape(signed_in.get("/owner/sessions").get_data(as_text=True))

    def row(session_id: int) -> str:
        start = page.index(f'data-session="{session_id}"')
        return page[start:page.index("</tr>", start)]

    assert "Depot van" in row(carded) and "1 h 05 min" in row(carded)
    assert "Done" in row(carded) and "Car unplugged" in row(carded)
    assert "EVDisconnected" not in page and "completed" not in row(carded)
    assert "App driver" in row(app) and "VS7DC42F7D8BF392902F" not in page
    assert "Stopped remotely" in row(app) and "12 min" in row(app)


def test_the_csv_for_european_spreadsheets_has_a_bom_semicolons_and_decimal_commas(
        db, signed_in, place):
    with db.session() as session:
        add_session(session, next(iter(place.stations.values())), utc(2024, 5, 1, 9),
                    energy_wh=12_345, cost=390, currency="EUR", id_tag="1.5")
    body = signed_in.get("/owner/sessions.csv?sep=semicolon&decimal=comma").get_data(
        as_text=True)
    assert body.startswith("\ufeffsession_id;site;station;")
    (row,) = list(csv.DictReader(io.StringIO(body[1:]), delimiter=";"))
    assert (row["energy_kwh"], row["cost"]) == ("12,345", "3,90")
    assert row["card"] == "1.5"  # a card number is text, not a number


def test_an_owner_cancels_a_session_still_waiting_for_the_car_and_its_hold_is_released(
        db, signed_in, place):
    with db.session() as session:
        waiting = add_session(session, next(iter(place.stations.values())), None,
                              minutes=None, status=SessionStatus.STARTING,
                              payment_state=PaymentState.HELD)
        session_id = waiting.id
    page = signed_in.post(f"/owner/sessions/{session_id}/stop",
                          data={"csrf_token": csrf_of(signed_in)}, follow_redirects=True)
    assert "it is cancelled and its hold released" in html.unescape(page.get_data(as_text=True))
    with db.session() as session:
        cancelled = session.get(ChargingSession, session_id)
        assert cancelled.status == SessionStatus.FAILED
        assert cancelled.failure_reason == "The site owner cancelled before charging started"
        # Queued for release; a payments job of a server on this database may have done it.
        assert cancelled.payment_state in (PaymentState.TO_RELEASE, PaymentState.RELEASED)
