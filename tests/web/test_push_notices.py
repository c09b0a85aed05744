"""Drivers told by Web Push: subscriptions for started sessions only, each notice once per
device in the driver's language, checked and decrypted by a real push endpoint on
127.0.0.1 (tests/support/push_endpoint.py); forgotten subscriptions removed, failures
retried. The job's words come from the app (voltspot.web.push.notice_words)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from tests.factories import add_session
from tests.support.push_endpoint import PushEndpoint, Subscription
from tests.support.server import own_database
from voltspot.app import create_app
from voltspot.db import Database
from voltspot.domain.notifications import NoticeKind
from voltspot.domain.pricing import TariffTerms
from voltspot.domain.statuses import PaymentState, SessionStatus
from voltspot.models import ChargingSession, Station, utcnow
from voltspot.models.push import PushKeys, PushNotice, PushSubscription
from voltspot.services.driver import notifications
from voltspot.services.errors import Conflict, InvalidInput, NotFound
from voltspot.web.push import notice_words

TERMS = TariffTerms(currency="EUR", vat_rate_basis_points=2100, energy_price_per_kwh=3900,
                    idle_fee_per_minute=1000, idle_grace_minutes=30, hold_amount=5000)


# The worker's shared server runs the push job too, and would send these notices a second
# time (it shares no job lock with this module's app).
database_url, db = own_database("push_notices")


@pytest.fixture(scope="module")
def app(database_url: str) -> Flask:
    return create_app({"database_url": database_url, "secret_key": "push-notices"})


@pytest.fixture(scope="module")
def keys(db: Database) -> notifications.VapidKeys:
    return notifications.vapid_keys(db)


@pytest.fixture
def push(keys) -> Iterator[PushEndpoint]:
    with PushEndpoint(server_key=keys.public_key) as endpoint:
        yield endpoint


def _round(db: Database, app: Flask, keys, now=None) -> notifications.Sent:
    """One round of the push job as the server runs it."""
    sender = notifications.WebPushSender(keys, "mailto:operator@localhost")
    notifications.queue_due(db, now)
    return notifications.send_due(db, sender, functools.partial(notice_words, app), now)


def _session(db: Database, station, *, status=SessionStatus.CHARGING, **fields) -> str:
    with db.session() as session:
        station_id = session.scalar(select(Station.id).where(
            Station.charge_point_id == station.charge_point_id))
        charging = add_session(session, station_id, utcnow() - timedelta(minutes=40),
                               minutes=None, status=status, energy_wh=12_345,
                               currency="EUR", payment_state=PaymentState.HELD)
        charging.price, charging.hold_amount = TERMS.to_dict(), 5000
        for name, value in fields.items():
            setattr(charging, name, value)
        return charging.token


def _subscribe(db, token: str, device: Subscription, language: str = "en") -> None:
    notifications.subscribe(db, token, endpoint=device.endpoint, p256dh=device.p256dh,
                            auth=device.auth, language=language, allow_http=True)


def _change(db: Database, token: str, **fields) -> None:
    with db.session() as session:
        charging = session.scalar(select(ChargingSession).where(ChargingSession.token == token))
        for name, value in fields.items():
            setattr(charging, name, value)


def test_the_vapid_key_pair_is_made_once_and_kept(db, keys):
    assert notifications.vapid_keys(db) == keys
    with db.session() as session:
        assert session.scalars(select(PushKeys.public_key)).all() == [keys.public_key]


@pytest.mark.parametrize("status", [SessionStatus.AUTHORISED, SessionStatus.STARTING])
def test_a_device_cannot_ask_to_be_told_before_charging_has_started(db, station, push, status):
    token = _session(db, station, status=status)
    with pytest.raises(Conflict, match="once charging has started"):
        _subscribe(db, token, push.subscribe())


def test_a_device_cannot_ask_about_a_session_that_ended(db, station, push):
    token = _session(db, station, status=SessionStatus.COMPLETED, stopped_at=utcnow())
    with pytest.raises(Conflict, match="has ended"):
        _subscribe(db, token, push.subscribe())


def test_an_unknown_session_cannot_be_subscribed_to(db, push):
    with pytest.raises(NotFound):
        _subscribe(db, "no-such-token", push.subscribe())


def test_a_subscription_without_usable_keys_is_refused(db, station, push):
    token = _session(db, station)
    device = push.subscribe()
    with pytest.raises(InvalidInput, match="push keys"):
        notifications.subscribe(db, token, endpoint=device.endpoint, p256dh="AAAA",
                                auth=device.auth, language="en", allow_http=True)
    with pytest.raises(InvalidInput, match="push address"):
        notifications.subscribe(db, token, endpoint=device.endpoint, p256dh=device.p256dh,
                                auth=device.auth, language="en")


@pytest.mark.parametrize("endpoint", ["https://127.0.0.1:8443/push/1", "https://10.1.2.3/p",
                                      "https://localhost/p", "https://[::1]/p", "ftp://x.org/p"])
def test_a_push_address_that_is_no_push_service_is_refused(db, station, push, endpoint):
    token = _session(db, station)
    device = push.subscribe()
    with pytest.raises(InvalidInput, match="push address"):
        notifications.subscribe(db, token, endpoint=endpoint, p256dh=device.p256dh,
                                auth=device.auth, language="en")


def test_the_devices_of_a_session_over_for_a_day_are_forgotten(db, app, keys, station, push):
    token = _session(db, station)
    _subscribe(db, token, push.subscribe())
    _change(db, token, status=SessionStatus.COMPLETED, stopped_at=utcnow() - timedelta(days=2),
            stop_reason="Local")
    _round(db, app, keys)
    with db.session() as session:
        assert session.scalars(select(PushSubscription).join(ChargingSession).where(
            ChargingSession.token == token)).all() == []


def test_a_full_car_is_told_in_the_drivers_language(db, app, keys, station, push):
    token = _session(db, station, status=SessionStatus.SUSPENDED,
                     charging_ended_at=utcnow() - timedelta(minutes=2))
    device = push.subscribe()
    _subscribe(db, token, device, "de")
    assert _round(db, app, keys).sent == 1
    notice = device.next_message().json()
    assert notice["title"] == "Laden beendet"
    assert notice["body"] == ("Ihr Auto ist bei Test site voll: 12,3 kWh. Stecken Sie ab, "
                              "wenn Sie so weit sind.")
    assert notice["url"] == f"/sessions/{token}"
    assert push.rejected == []


def test_each_notice_reaches_a_device_once(db, app, keys, station, push):
    token = _session(db, station, status=SessionStatus.SUSPENDED,
                     charging_ended_at=utcnow() - timedelta(minutes=2))
    device = push.subscribe()
    _subscribe(db, token, device)
    _round(db, app, keys)
    device.next_message()
    assert _round(db, app, keys).sent == 0
    assert device.nothing_within(0.5)


def test_the_idle_fee_warning_says_when_and_how_much(db, app, keys, station, push):
    token = _session(db, station, status=SessionStatus.SUSPENDED,
                     charging_ended_at=utcnow() - timedelta(minutes=26))
    device = push.subscribe()
    _subscribe(db, token, device, "fr")
    _round(db, app, keys)
    notices = {n["title"]: n["body"] for n in (device.next_message().json(),
                                                device.next_message().json())}
    assert notices["Frais d’occupation dans 4 min"] == (
        "La recharge est terminée à Test site. Débranchez dans les 4 min pour éviter les "
        "frais d’occupation de 0,10\xa0€/min.")
    assert "Recharge terminée" in notices


def test_a_stop_at_the_card_hold_is_told_with_the_amounts(db, app, keys, station, push):
    token = _session(db, station)
    device = push.subscribe()
    _subscribe(db, token, device)
    _change(db, token, status=SessionStatus.COMPLETED, stopped_at=utcnow(),
            stop_reason="Remote", cost=4620)
    with db.session() as session:
        session_id = session.scalar(select(ChargingSession.id).where(
            ChargingSession.token == token))
        notifications.queue_notice(session, session_id, NoticeKind.STOPPED_AT_HOLD)
    assert _round(db, app, keys).sent == 1
    notice = device.next_message().json()
    assert notice["title"] == "Charging stopped at your card hold"
    assert notice["body"].startswith("The cost reached €46.20, close to the €50.00 held on "
                                     "your card.")


def test_a_session_the_charger_ended_is_told(db, app, keys, station, push):
    token = _session(db, station)
    device = push.subscribe()
    _subscribe(db, token, device, "es")
    _change(db, token, status=SessionStatus.COMPLETED, stopped_at=utcnow(),
            stop_reason="PowerLoss")
    _round(db, app, keys)
    notice = device.next_message().json()
    assert notice["title"] == "El cargador ha detenido tu sesión"
    assert "12,3 kWh" in notice["body"]


def test_a_stop_the_driver_made_tells_nothing(db, app, keys, station, push):
    token = _session(db, station)
    device = push.subscribe()
    _subscribe(db, token, device)
    _change(db, token, status=SessionStatus.COMPLETED, stopped_at=utcnow(), stop_reason="Remote")
    assert _round(db, app, keys).sent == 0
    assert device.nothing_within(0.3)


def test_a_device_that_stopped_being_told_hears_nothing(db, app, keys, station, push):
    token = _session(db, station, status=SessionStatus.SUSPENDED,
                     charging_ended_at=utcnow() - timedelta(minutes=2))
    device, other = push.subscribe(), push.subscribe()
    _subscribe(db, token, device)
    _subscribe(db, token, other)
    assert notifications.unsubscribe(db, token, device.endpoint)
    _round(db, app, keys)
    assert other.next_message().json()["title"] == "Charging finished"
    assert device.nothing_within(0.3)


def test_a_subscription_the_push_service_has_forgotten_is_removed(db, app, keys, station, push):
    token = _session(db, station, status=SessionStatus.SUSPENDED,
                     charging_ended_at=utcnow() - timedelta(minutes=2))
    _subscribe(db, token, push.subscribe(answer=410))
    assert _round(db, app, keys).removed == 1
    with db.session() as session:
        assert session.scalars(select(PushSubscription).join(ChargingSession).where(
            ChargingSession.token == token)).all() == []


def test_a_failing_push_service_is_tried_again_later(db, app, keys, station, push):
    token = _session(db, station, status=SessionStatus.SUSPENDED,
                     charging_ended_at=utcnow() - timedelta(minutes=2))
    device = push.subscribe(answer=503)
    _subscribe(db, token, device)
    assert _round(db, app, keys).failed == 1
    with db.session() as session:
        notice = session.scalar(select(PushNotice).join(PushSubscription).where(
            PushSubscription.endpoint == device.endpoint))
        assert (notice.attempts, notice.done_at, notice.last_error) == (
            1, None, "push service answered 503")
    assert _round(db, app, keys).failed == 0  # not due yet
    device.answer = 201
    assert _round(db, app, keys, now=utcnow() + timedelta(seconds=6)).sent == 1
    assert device.next_message().json()["title"] == "Charging finished"


def test_a_notice_that_could_not_be_sent_for_an_hour_is_dropped(db, app, keys, station, push):
    token = _session(db, station, status=SessionStatus.SUSPENDED,
                     charging_ended_at=utcnow() - timedelta(minutes=2))
    device = push.subscribe(answer=503)
    _subscribe(db, token, device)
    _round(db, app, keys)
    device.answer = 201
    assert _round(db, app, keys, now=utcnow() + timedelta(hours=2)).dropped == 1
    assert device.nothing_within(0.3)
