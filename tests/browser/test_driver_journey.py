"""The driver journey in a real browser on a phone (390x844), against the live server with a
simulated charger playing the station: find the spot, scan the sticker's QR code through a
fake camera, start, watch the kWh rise, stop, read the receipt — and the ways a start is
refused. Every screen is photographed, checked with axe-core and for thumb-sized targets."""

from __future__ import annotations

import re
import time
from pathlib import Path

import segno
from playwright.sync_api import expect

from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    another_page,
    no_map_tiles,
)
from tests.support.driver_pages import (
    WAIT_MS,
    cents,
    check_screen,
    kwh,
    open_plug,
    sessions_at,
    start_charging,
    tap_start,
)

SITE = "Test site"


def qr_video(text: str, path: Path, width: int = 640, height: int = 480,
             frames: int = 5) -> Path:
    """A YUV4MPEG2 video of ``text`` as a QR code drawn large, dark on white, for Chromium's
    ``--use-file-for-fake-video-capture``: a luma plane from the QR matrix and flat grey
    (128) chroma planes, 4:2:0."""
    rows = list(segno.make(text, error="m").matrix_iter(scale=1, border=4))
    scale = (min(width, height) - 16) // len(rows)
    size = len(rows) * scale
    left, top = (width - size) // 2, (height - size) // 2
    luma = bytearray(b"\xff" * (width * height))
    for r, row in enumerate(rows):
        line = b"".join((b"\x00" if dark else b"\xff") * scale for dark in row)
        for k in range(scale):
            start = (top + r * scale + k) * width + left
            luma[start:start + size] = line
    chroma = b"\x80" * ((width // 2) * (height // 2) * 2)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + luma + chroma)
    return path


# -- 1. find the spot -------------------------------------------------------------------------

def test_a_driver_finds_the_site_by_name_and_opens_one_of_its_plugs(phone, server, simulator,
                                                                    priced):
    console_errors: list[str] = []
    phone.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    no_map_tiles(phone)
    phone.goto(server.base_url + "/")
    expect(phone.get_by_role("heading", name="Find a spot")).to_be_visible()
    check_screen(phone, "find-a-spot")

    phone.get_by_label("Place or charger name").fill(SITE)
    phone.get_by_role("button", name="Search").click()
    expect(phone).to_have_url(re.compile(r"[?&]q=Test(\+|%20)site"))
    card = phone.locator(".vs-spot", has_text=SITE).first
    expect(card).to_be_visible()
    expect(card).to_contain_text(re.compile(r"\d+ of \d+ free"))
    check_screen(phone, "find-a-spot-results")

    # The map is the other tab; without tiles (no internet here) the list is unharmed.
    phone.get_by_role("tab", name="Map").click()
    expect(phone.locator("#map")).to_be_visible()
    check_screen(phone, "find-a-spot-map")
    phone.get_by_role("tab", name="List").click()
    expect(card).to_be_visible()

    card.get_by_role("link").click()
    expect(phone.get_by_role("heading", level=1, name=SITE)).to_be_visible()
    plug = phone.get_by_role("link").filter(has_text=priced[0].replace("-", "*"))
    expect(plug).to_contain_text("Free")
    check_screen(phone, "site")

    plug.click()
    expect(phone).to_have_url(re.compile(re.escape(f"/c/{priced[0]}") + "$"))
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Plug 1")
    expect(phone.get_by_role("button", name="Start charging")).to_be_in_viewport()
    # Only the map's tile loads may fail.
    unexpected = [e for e in console_errors if "Failed to load resource" not in e]
    assert not unexpected, unexpected


# -- 2. scan the sticker ---------------------------------------------------------------------

def test_scanning_the_stickers_qr_code_with_the_camera_opens_the_plug_page(
        browser, server, priced, tmp_path):
    evse = priced[0]
    video = qr_video(f"{server.base_url}/c/{evse}", tmp_path / "sticker.y4m")
    camera = browser.browser_type.launch(
        executable_path=str(CHROMIUM), headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-device-for-media-stream",
              "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={video}"])
    try:
        with another_page(camera, permissions=["camera"]) as page:
            page.goto(server.base_url + "/scan")
            page.wait_for_url(re.compile(re.escape(f"/c/{evse}") + "$"), timeout=WAIT_MS)
            expect(page.get_by_role("heading", level=1)).to_contain_text("Plug 1")
            expect(page.get_by_role("button", name="Start charging")).to_be_visible()
    finally:
        camera.close()


def test_without_a_camera_the_driver_types_the_code_under_the_qr_code(phone, server, priced):
    phone.goto(server.base_url + "/scan")
    expect(phone.get_by_role("heading", name="Scan the QR code")).to_be_visible()
    expect(phone.get_by_role("status")).to_contain_text("type the code")
    check_screen(phone, "scan")
    phone.get_by_label("Or type the code printed under the QR code").fill(
        priced[0].replace("-", "*").lower())
    phone.get_by_role("button", name="Open charger").click()
    expect(phone).to_have_url(re.compile(re.escape(f"/c/{priced[0]}") + "$"))
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Plug 1")


# -- 3. start, charge, stop, receipt ---------------------------------------------------------

def test_a_driver_starts_watches_the_kwh_rise_stops_and_reads_the_receipt(phone, server,
                                                                          simulator, priced):
    start_watch_stop_and_read_the_receipt(phone, server, priced)


def test_the_same_journey_on_an_ocpp_2_0_1_charger(phone, server, simulator_201, priced):
    start_watch_stop_and_read_the_receipt(phone, server, priced, screens="201-")


def start_watch_stop_and_read_the_receipt(phone, server, priced, screens: str = "") -> None:
    """The driver's whole journey from the plug page to the receipt (screenshots named
    ``screens`` + the step)."""
    open_plug(phone, server, priced[0])
    prices = phone.get_by_role("region", name="Price")
    expect(prices.get_by_role("listitem")).to_have_text(
        ["€0.39/kWh", "€0.35 per session", "incl. 21% VAT"])
    expect(prices).to_contain_text("We hold €50.00 on your card and take only what you use; "
                                   "the rest is released when you stop.")
    expect(phone.get_by_text("Demo payment — no card charged")).to_be_visible()
    check_screen(phone, screens + "plug")

    tap_start(phone)
    expect(phone.get_by_role("heading", name="Plug in your car")).to_be_visible()
    expect(phone.get_by_role("img", name=re.compile(r"\d+ minutes \d+ seconds left to plug in"))
           ).to_have_text(re.compile(r"^\s*\d+:\d\d\s*$"))
    check_screen(phone, screens + "plug-in")

    # The simulator plugs the car in; the page follows by itself, never reloading.
    phone.evaluate("window.__sameDocument = true")
    expect(phone.get_by_role("heading", name="Charging")).to_be_visible(timeout=WAIT_MS)
    first = kwh(phone)
    time.sleep(4)  # the page polls every 3 s, the charger reports every second
    second = kwh(phone)
    assert second > first, f"the kWh figure did not rise: {first} then {second}"
    assert phone.evaluate("window.__sameDocument") is True, "the page reloaded"
    expect(phone.get_by_test_id("power")).to_have_text(re.compile(r"^[1-9]\d*\.\d kW$"))
    expect(phone.get_by_test_id("cost")).to_have_text(re.compile(r"^€\d+\.\d\d$"))
    expect(phone.get_by_role("img", name=re.compile(r"^Battery \d+ %$"))).to_be_visible()
    check_screen(phone, screens + "charging")

    dialogs: list[str] = []

    def accept(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    phone.once("dialog", accept)
    phone.get_by_role("button", name="Stop charging").click()
    expect(phone.get_by_role("heading", name="Session ended")).to_be_visible(timeout=WAIT_MS)
    assert dialogs == ["Stop charging now?"]
    check_screen(phone, screens + "session-ended")

    phone.get_by_role("link", name="See receipt").click()
    expect(phone.get_by_role("heading", name="Receipt")).to_be_visible()
    deadline = time.monotonic() + WAIT_MS / 1000
    while not phone.get_by_text("Taken", exact=True).is_visible():
        assert time.monotonic() < deadline, "the payment was not taken in time"
        time.sleep(0.5)
        phone.reload()
    receipt = phone.locator(".vs-receipt")
    total = cents(phone.get_by_test_id("total").inner_text())
    assert total > 35, "more than the session fee: energy was delivered"
    expect(receipt).to_contain_text(re.compile(r"\d+(\.\d+)? kWh × €0\.39"))
    expect(receipt).to_contain_text(re.compile(r"of which VAT \(21 %\)\s*€\d+\.\d\d"))
    money = receipt.locator("dl").last
    figures = dict(zip(money.locator("dt").all_inner_texts(),
                       money.locator("dd").all_inner_texts(), strict=True))
    assert cents(figures["Held on your card"]) == 5000
    assert cents(figures["Taken"]) == total
    assert cents(figures["Released"]) == 5000 - total
    check_screen(phone, screens + "receipt")


def test_after_start_the_session_page_is_a_whole_page_of_the_app(phone, server, simulator,
                                                                  priced):
    start_charging(phone, server, priced[0])
    expect(phone).to_have_title(re.compile(rf"^Your session · {SITE}"), timeout=2000)
    expect(phone.get_by_role("link", name="My sessions")).to_be_visible()
    expect(phone.get_by_text("You can close this page; this link brings you back.")
           ).to_be_visible()


# -- 4. refused starts -----------------------------------------------------------------------

def test_an_offline_charger_cannot_be_started_and_says_why(phone, server, db, station,
                                                            priced):
    open_plug(phone, server, priced[0])
    expect(phone.locator(".vs-pill").first).to_have_text("Offline")
    start = phone.get_by_role("button", name="Start charging")
    expect(start).to_be_disabled()
    expect(phone.locator("#why-not")).to_have_text("This charger is offline right now.")
    expect(phone.get_by_role("region", name="Free plugs at this site")).to_contain_text(
        "No other plug here is free right now.")
    assert sessions_at(db, station.charge_point_id) == 0
    check_screen(phone, "plug-offline")


def test_a_plug_in_use_links_the_free_plugs_of_the_site(phone, browser, server, simulator,
                                                        priced):
    start_charging(phone, server, priced[0])
    with another_page(browser) as second:
        open_plug(second, server, priced[0])
        expect(second.locator(".vs-pill").first).to_have_text("In use")
        expect(second.get_by_role("button", name="Start charging")).to_be_disabled()
        expect(second.locator("#why-not")).to_have_text("Someone is using this plug right now.")
        second.get_by_role("region", name="Free plugs at this site").get_by_role(
            "link", name=re.compile(r"^Plug 2 ")).click()
        expect(second).to_have_url(re.compile(f"/c/{re.escape(priced[1])}$"))
        expect(second.get_by_role("button", name="Start charging")).to_be_enabled()


def test_a_second_phone_is_told_someone_else_is_using_the_plug(phone, browser, server, db,
                                                               station, simulator, priced):
    with another_page(browser) as second:
        open_plug(second, server, priced[0])
        expect(second.locator(".vs-pill")).to_have_text("Free")
        start_charging(phone, server, priced[0])
        tap_start(second)
        expect(second.get_by_role("alert")).to_contain_text(
            "Someone else is using this plug right now, so we did not hold anything")
        expect(second.get_by_role("alert")).to_contain_text("Try plug 2")
        check_screen(second, "plug-taken")
    assert sessions_at(db, station.charge_point_id) == 1


def test_reloading_a_refused_start_shows_the_plug_page_again(phone, browser, server, simulator,
                                                             priced):
    open_plug(phone, server, priced[0])
    with another_page(browser) as first:
        start_charging(first, server, priced[0])
    tap_start(phone)
    expect(phone.get_by_role("alert")).to_be_visible()
    response = phone.reload()
    assert response is not None and response.ok, (phone.url, response and response.status)
    expect(phone.get_by_role("button", name="Start charging")).to_be_visible()


# -- 5. my sessions --------------------------------------------------------------------------

def test_my_sessions_lists_the_session_started_on_this_phone_and_opens_it(phone, server,
                                                                          simulator, priced):
    token = start_charging(phone, server, priced[0])
    phone.goto(server.base_url + "/my-sessions")
    expect(phone.get_by_role("heading", name="My sessions")).to_be_visible()
    entry = phone.locator("#my-sessions a").first
    expect(entry).to_contain_text(f"{SITE} · Plug 1", timeout=2000)
    check_screen(phone, "my-sessions")
    entry.click()
    expect(phone).to_have_url(re.compile(f"/sessions/{re.escape(token)}$"))
    expect(phone.get_by_role("heading", name="Plug in your car")).to_be_visible()


def test_my_sessions_on_a_new_phone_explains_there_are_none(phone, server):
    phone.goto(server.base_url + "/my-sessions")
    expect(phone.get_by_text("No sessions on this device yet.")).to_be_visible()
    check_screen(phone, "my-sessions-empty")


# -- 6. desktop ------------------------------------------------------------------------------

def test_find_a_spot_and_the_plug_page_work_on_a_desktop(desktop, server, simulator, priced):
    no_map_tiles(desktop)
    desktop.goto(f"{server.base_url}/?q=Test+site")
    card = desktop.locator(".vs-spot", has_text=SITE).first
    expect(card).to_contain_text(re.compile(r"\d+ of \d+ free"))
    expect(desktop.locator("#map")).to_be_visible()
    list_box, map_box = card.bounding_box(), desktop.locator("#map").bounding_box()
    assert list_box and map_box and map_box["x"] >= list_box["x"] + list_box["width"], (
        "list and map side by side")
    check_screen(desktop, "find-a-spot")
    open_plug(desktop, server, priced[0])
    expect(desktop.get_by_role("button", name="Start charging")).to_be_in_viewport()
    check_screen(desktop, "plug")
