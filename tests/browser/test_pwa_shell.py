"""The app shell in a real browser: offline page, service worker, manifest."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import axe_check, screenshot, touch_targets_ok

SW_READY = "() => navigator.serviceWorker.ready.then((r) => r.active.scriptURL)"


def _open_offline_page(page: Page, base_url: str) -> None:
    response = page.goto(base_url + "/offline")
    if response is not None and response.status == 404:
        pytest.skip("the live server has no /offline yet: create_app does not register the "
                    "pwa blueprint")
    assert response is not None and response.ok


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_offline_page_is_accessible_and_thumb_friendly(request, server, device):
    page: Page = request.getfixturevalue(device)
    _open_offline_page(page, server.base_url)
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(page.get_by_role("button", name="Try again")).to_be_in_viewport()
    axe_check(page)
    touch_targets_ok(page)
    screenshot(page, "offline")


def test_the_service_worker_takes_the_whole_site_and_the_manifest_is_linked(phone, server):
    _open_offline_page(phone, server.base_url)
    assert phone.evaluate(SW_READY) == server.base_url + "/sw.js"
    manifest_url = phone.locator('link[rel="manifest"]').evaluate("link => link.href")
    manifest = phone.request.get(manifest_url)
    assert manifest.ok and manifest.json()["name"] == "Voltspot"


def test_without_network_a_page_becomes_the_offline_page(phone, server):
    _open_offline_page(phone, server.base_url)
    phone.evaluate(SW_READY)
    phone.context.set_offline(True)
    phone.goto(server.base_url + "/healthz")
    expect(phone.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(phone.get_by_text("nothing was charged")).to_be_visible()
