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
from contextlib import ExitStack
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, csp_violations
from tests.support.owner_pages import KNOWN_PAGE_PROBLEMS
from tests.support.waiting import running
from voltspot.simulator import SimulatedCharger, SimulatedCharger201


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


# -- simulated chargers -------------------------------------------------------------------------

@pytest.fixture
def simulator(server, station, priced) -> Iterator[SimulatedCharger]:
    """A simulated charger online on the station: it accepts a remote start and plugs the
    car in 3 s later (time to see "Plug in your car"), sends meter values every second and
    charges 60 times faster than real time, so the kWh figure visibly rises."""
    charger = SimulatedCharger(server.ws_url, station.charge_point_id, station.password,
                               step_delay=3, meter_interval=1, speed=60, battery_kwh=100,
                               seed=7)
    with running(charger):
        yield charger


@pytest.fixture
def simulator_201(server, station, priced) -> Iterator[SimulatedCharger201]:
    """The same, as an OCPP 2.0.1 charger (its meter values only after Voltspot has set
    its empty SampledDataCtrlr at boot, as many real ones ship)."""
    charger = SimulatedCharger201(server.ws_url, station.charge_point_id, station.password,
                                  step_delay=3, meter_interval=1, speed=60, battery_kwh=100,
                                  seed=7)
    with running(charger):
        yield charger


@pytest.fixture
def known_problems() -> Iterator[set[tuple[str, str]]]:
    """The known problems seen during the test; one listed for a screen the test checked
    but not seen there fails the test: it is fixed, and its entry goes."""
    seen: set[tuple[str, str]] = set()
    checked: set[str] = set()
    yield seen, checked
    gone = [f"{screen}: {pattern} ({why})" for screen in checked
            for pattern, why in KNOWN_PAGE_PROBLEMS.get(screen, {}).items()
            if (screen, pattern) not in seen]
    assert not gone, ("fixed, so remove from KNOWN_PAGE_PROBLEMS:\n" + "\n".join(gone))



@pytest.fixture
def charger_for() -> Iterator:
    """``charger_for(server, charge_point_id, password, plugs=2)`` starts a SimulatedCharger
    with the plugs the station was added with (a station refuses reports of others) in a
    thread (the driver journey's ``running``: it waits, bounded, for the boot) and returns
    it with its loop; every one started is stopped when the test ends, pass or fail."""
    with ExitStack() as stack:
        def start(server, charge_point_id: str, password: str, plugs: int = 2):
            charger = SimulatedCharger(server.ws_url, charge_point_id, password,
                                       connectors=plugs, meter_interval=1, speed=60,
                                       battery_kwh=100, step_delay=0.5, seed=11)
            return charger, stack.enter_context(running(charger))

        yield start
