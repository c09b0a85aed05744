"""Browser fixtures and checks: Playwright (sync API) driving Debian's Chromium.

``playwright install`` is never used; the browser is ``/usr/bin/chromium``
(``scripts/ensure-chromium.sh`` installs it). Without it the browser tests are skipped, except
when the environment variable ``CI`` is set: there a missing browser fails the run.

Every page fixture fails its test when the page threw an uncaught JavaScript error or broke
the Content-Security-Policy (Chromium's console reports each violation). The checks a test
runs on a page (axe, touch targets, screenshots) are in ``tests.support.browser``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, csp_violations


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; run scripts/ensure-chromium.sh (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _page(browser: Browser, options: dict[str, Any]) -> Iterator[Page]:
    context = browser.new_context(**options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    violations = csp_violations(page)
    yield page
    context.close()
    assert not errors, "JavaScript errors on the page:\n" + "\n".join(errors)
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A page in a fresh phone context: 390x844 at 2x, touch, mobile, en-GB."""
    yield from _page(browser, PHONE)


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    """A page in a fresh desktop context: 1280x800, en-GB."""
    yield from _page(browser, DESKTOP)
