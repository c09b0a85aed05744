"""Web Push in Chromium: the live session page offers "Tell me when it's done" only once
charging has started, and the service worker shows what the server pushes. Subscribing
at a real push service needs the internet, so the push message is handed to the service
worker through the DevTools protocol (ServiceWorker.deliverPushMessage), with the payload
the server's push job writes (voltspot.web.push.notice_words)."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.factories import add_session
from tests.support.browser import PHONE, axe_check, screenshot, touch_targets_ok
from tests.support.push_endpoint import PushEndpoint
from voltspot.app import create_app
from voltspot.domain.notifications import NoticeKind
from voltspot.domain.statuses import SessionStatus
from voltspot.models import ChargingSession, Station, utcnow
from voltspot.models.push import PushSubscription
from voltspot.services.driver.notifications import Notice
from voltspot.web.push import notice_words

NOTICES_SHOWN = """() => navigator.serviceWorker.ready
  .then((registration) => registration.getNotifications())
  .then((shown) => shown.map((n) => ({title: n.title, body: n.body, tag: n.tag,
                                      url: n.data && n.data.url})))"""


def _session(db, station, status: SessionStatus) -> str:
    with db.session() as session:
        stored = session.scalar(select(Station).where(
            Station.charge_point_id == station.charge_point_id))
        charging = add_session(session, stored.id, utcnow() - timedelta(minutes=5),
                               minutes=None, status=status, energy_wh=4_200)
        charging.connector_pk = stored.connectors[0].id
        if status == SessionStatus.STARTING:
            charging.started_at, charging.requested_at = None, utcnow()
        return charging.token


def _registration_id(page: Page, cdp, scope: str) -> str:
    found: dict[str, str] = {}

    def updated(event) -> None:
        for registration in event["registrations"]:
            if registration["scopeURL"] == scope and not registration["isDeleted"]:
                found["id"] = registration["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while "id" not in found and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert "id" in found, "the service worker's registration was not reported"
    return found["id"]


def test_the_offer_waits_until_charging_has_started(phone, server, db, station):
    phone.goto(f"{server.base_url}/sessions/{_session(db, station, SessionStatus.STARTING)}")
    expect(phone.get_by_role("heading", name="Plug in your car")).to_be_visible()
    expect(phone.get_by_role("button", name="Tell me when it's done")).to_be_hidden()

    phone.goto(f"{server.base_url}/sessions/{_session(db, station, SessionStatus.CHARGING)}")
    expect(phone.get_by_role("button", name="Tell me when it's done")).to_be_visible()
    axe_check(phone)
    touch_targets_ok(phone)
    screenshot(phone, "session-push-offer")


def test_the_offer_appears_in_place_when_charging_starts(phone, server, db, station):
    # No event stream: the page polls its live part, as behind a proxy that blocks it.
    phone.context.route("**/events", lambda route: route.abort())
    token = _session(db, station, SessionStatus.STARTING)
    phone.goto(f"{server.base_url}/sessions/{token}")
    offer = phone.get_by_role("button", name="Tell me when it's done")
    expect(offer).to_be_hidden()
    with db.session() as session:
        charging = session.scalar(select(ChargingSession).where(ChargingSession.token == token))
        charging.status, charging.started_at = SessionStatus.CHARGING, utcnow()
    expect(phone.get_by_role("heading", name="Plug in your car")).to_be_hidden(timeout=10_000)
    expect(offer).to_be_visible()


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_service_worker_shows_a_pushed_notice(browser, server, db, database_url, station,
                                                  language):
    context = browser.new_context(**{**PHONE, "locale": language})
    context.grant_permissions(["notifications"], origin=server.base_url)
    page = context.new_page()
    try:
        token = _session(db, station, SessionStatus.SUSPENDED)
        page.goto(f"{server.base_url}/sessions/{token}")
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        app = create_app({"database_url": database_url, "secret_key": "browser-push"})
        payload = notice_words(app, Notice(
            kind=NoticeKind.CAR_FULL, language=language, token=token, site="Test site",
            energy_wh=4_200, cost=None, currency="EUR", hold_amount=5000,
            idle_fee_per_minute=0, idle_minutes_left=0))
        cdp = context.new_cdp_session(page)
        registration_id = _registration_id(page, cdp, server.base_url + "/")
        shown = []
        deadline = time.monotonic() + 20
        while not shown and time.monotonic() < deadline:
            # A push the worker got while still starting up can go unheard (a busy machine):
            # the push service would deliver again, so the test does too. The notice's tag
            # makes a second one replace the first.
            cdp.send("ServiceWorker.deliverPushMessage", {
                "origin": server.base_url, "registrationId": registration_id,
                "data": payload})
            retry_at = time.monotonic() + 3
            while not shown and time.monotonic() < retry_at:
                shown = page.evaluate(NOTICES_SHOWN)
                page.wait_for_timeout(100)
        expected = {
            "en": ("Charging finished", "Your car is full at Test site: 4.2 kWh. Unplug when "
                                        "you are ready."),
            "nl": ("Laden klaar", "Je auto is vol bij Test site: 4,2 kWh. Koppel los wanneer je "
                                  "klaar bent."),
        }[language]
        assert [(n["title"], n["body"], n["url"]) for n in shown] == [
            (*expected, f"/sessions/{token}")]
        assert shown[0]["tag"].endswith("-car_full")
    finally:
        context.close()



# The one part a test cannot reach offline is the browser's own push service, which hands
# out the subscription; this stands in for it with a subscription at the test's push
# endpoint, and records the applicationServerKey the page subscribed with.
STAND_IN_PUSH_SERVICE = """
(() => {
  const given = %s;
  let current = null;
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
  PushManager.prototype.subscribe = function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    window.subscribedWithKey = btoa(String.fromCharCode.apply(null, key))
      .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
    current = {endpoint: given.endpoint, options: options, toJSON: () => given,
               unsubscribe: () => { current = null; return Promise.resolve(true); }};
    return Promise.resolve(current);
  };
})();
"""


def _server_key(server) -> str:
    with urllib.request.urlopen(server.base_url + "/push/key", timeout=10) as response:
        return json.loads(response.read())["publicKey"]


def _subscribed_phone(browser, server, device):
    context = browser.new_context(**PHONE)
    context.grant_permissions(["notifications"], origin=server.base_url)
    context.add_init_script(STAND_IN_PUSH_SERVICE % json.dumps(device.as_json()))
    return context, context.new_page()


def test_a_driver_taps_tell_me_and_is_told_when_the_charger_stops(browser, server, db,
                                                                  station):
    key = _server_key(server)
    with PushEndpoint(server_key=key) as push:
        device = push.subscribe()
        context, page = _subscribed_phone(browser, server, device)
        try:
            token = _session(db, station, SessionStatus.CHARGING)
            page.goto(f"{server.base_url}/sessions/{token}")
            page.get_by_role("button", name="Tell me when it's done").click()
            expect(page.get_by_role("status").filter(has_text="We will tell you")).to_have_text(
                "We will tell you on this device when it is done or needs you.")
            expect(page.get_by_role("button", name="Stop telling me")).to_be_visible()
            assert page.evaluate("() => window.subscribedWithKey") == key
            axe_check(page)
            screenshot(page, "session-push-on")
            with db.session() as session:
                charging = session.scalar(select(ChargingSession).where(
                    ChargingSession.token == token))
                charging.status, charging.stopped_at = SessionStatus.COMPLETED, utcnow()
                charging.stop_reason = "EmergencyStop"
            notice = device.next_message(timeout=20).json()
        finally:
            context.close()
    assert notice["title"] == "The charger stopped your session"
    assert push.rejected == []


def test_stop_telling_me_takes_the_subscription_back(browser, server, db, station):
    with PushEndpoint(server_key=_server_key(server)) as push:
        device = push.subscribe()
        context, page = _subscribed_phone(browser, server, device)
        try:
            token = _session(db, station, SessionStatus.CHARGING)
            page.goto(f"{server.base_url}/sessions/{token}")
            page.get_by_role("button", name="Tell me when it's done").click()
            page.get_by_role("button", name="Stop telling me").click()
            expect(page.get_by_role("button", name="Tell me when it's done")).to_be_visible()
            with db.session() as session:
                assert session.scalars(select(PushSubscription.endpoint).join(
                    ChargingSession).where(ChargingSession.token == token)).all() == []
        finally:
            context.close()
