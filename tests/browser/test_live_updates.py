"""Live pages in a real browser: the driver's session and the owner's board update from
server-sent events without polling, and fall back to polling when the stream is blocked."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.factories import make_owner
from tests.support.driver_pages import WAIT_MS, kwh, start_charging
from tests.support.owner_pages import signed_in

POLLING = "Voltspot.polling(document.getElementById('{id}'))"


def _fragment_requests(page: Page, path_part: str) -> list[str]:
    """The htmx fragment requests the page makes to ``path_part`` from now on."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url)
            if request.headers.get("hx-request") and path_part in request.url
            and not request.url.endswith("/events") else None)
    return seen


def _energy_rises(page: Page) -> None:
    expect(page.get_by_test_id("energy")).to_be_visible(timeout=WAIT_MS)
    first = kwh(page)
    expect(page.get_by_test_id("energy")).not_to_have_text(
        page.get_by_test_id("energy").inner_text(), timeout=WAIT_MS)
    assert kwh(page) > first


def test_the_session_page_follows_the_charger_over_server_sent_events(phone, server, simulator,
                                                                       priced):
    start_charging(phone, server, priced[0])
    expect(phone.locator("[sse-connect][data-live='open']")).to_have_count(1, timeout=WAIT_MS)
    # While the stream is open the page does not poll ...
    assert phone.evaluate(POLLING.format(id="live")) is False
    # ... and still follows the charger: plugged in, charging, the kWh rising.
    _energy_rises(phone)
    assert phone.evaluate(POLLING.format(id="live")) is False


def test_with_the_stream_blocked_the_session_page_polls_and_still_follows_the_charger(
        phone, server, simulator, priced):
    phone.context.route("**/events", lambda route: route.abort())
    polls = _fragment_requests(phone, "/sessions/")
    start_charging(phone, server, priced[0])
    assert phone.evaluate(POLLING.format(id="live")) is True
    _energy_rises(phone)
    assert polls


def test_the_board_listens_to_server_sent_events_and_polls_when_they_are_blocked(
        desktop, server, db):
    signed_in(desktop, server, make_owner(db, admin=True))
    expect(desktop.locator("[sse-connect][data-live='open']")).to_have_count(1, timeout=WAIT_MS)
    assert desktop.evaluate(POLLING.format(id="board")) is False

    desktop.context.route("**/events", lambda route: route.abort())
    desktop.reload()
    expect(desktop.locator("#board")).to_be_visible()
    assert desktop.evaluate(POLLING.format(id="board")) is True
