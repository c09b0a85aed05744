"""The browser tests' Chromium and page sizes, and the checks a browser test runs on a
Playwright page: screenshots into artifacts/, axe-core accessibility and touch-target size;
one more phone page (``another_page``) and map tiles cut off (``no_map_tiles``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]

PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
                         "is_mobile": True, "has_touch": True, "locale": "en-GB"}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}, "locale": "en-GB"}

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
AXE_JS = ROOT / "tests" / "browser" / "vendor" / "axe.min.js"
MIN_TOUCH_PX = 44


def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Save what the page shows as ``artifacts/screenshots/<name>@<width>x<height>.png``
    (the viewport size in the name, so one screen at two sizes keeps both) and return the
    path. ``name`` may use letters, digits, ``-`` and ``_``."""
    if not re.fullmatch(r"[\w-]+", name):
        raise ValueError(f"screenshot name {name!r} must be letters, digits, - or _")
    size = page.viewport_size or {"width": 0, "height": 0}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}@{size['width']}x{size['height']}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                  nodes: v.nodes.map((n) => ({target: n.target.join(" "),
                                              summary: n.failureSummary}))}));
}"""


_FINISH_TRANSITIONS = """() => document.getAnimations().forEach((animation) => {
  try { animation.finish(); } catch (endless) { /* an infinite animation has no end */ }
})"""


def axe_check(page: Page) -> None:
    """Run axe-core on the page as it is now; fail the test listing every serious or critical
    violation (rule, what to fix, and each offending element). Minor and moderate findings
    do not fail. axe is evaluated through the DevTools protocol, so a Content-Security-Policy
    on the page does not block it."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text())
    # Colours are judged at rest: a button still fading into its hover colours (the pointer
    # left over it by the last click) is between two compliant states.
    page.evaluate(_FINISH_TRANSITIONS)
    violations = page.evaluate(_AXE_RUN)
    if violations:
        lines = [f"axe: {len(violations)} serious or critical violation(s) on {page.url}"]
        for v in violations:
            lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
            for node in v["nodes"]:
                lines.append(f"    at {node['target']}")
                lines.extend(f"      {line}" for line in node["summary"].splitlines())
        report = "\n".join(lines)
        print(report)
        pytest.fail(report, pytrace=False)


_SMALL_TARGETS = """(minimum) => {
  const selector = "a[href], button, summary, [role=button], "
    + "input[type=button], input[type=submit], input[type=reset]";
  // WCAG 2.5.8 exempts a link inside a sentence: its size is the line's.
  const inSentence = (el) => {
    if (el.tagName !== "A" || getComputedStyle(el).display !== "inline") return false;
    let block = el.parentElement;
    while (block && getComputedStyle(block).display === "inline") block = block.parentElement;
    return block !== null && block.textContent.trim().length > el.textContent.trim().length;
  };
  return Array.from(document.querySelectorAll(selector))
    .filter((el) => {
      const box = el.getBoundingClientRect();
      return box.width > 1 && box.height > 1
        && el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
    })
    .filter((el) => !inSentence(el))
    .filter((el) => el.getBoundingClientRect().height < minimum)
    .map((el) => `<${el.tagName.toLowerCase()}> "${el.textContent.trim().slice(0, 40)}" `
      + `is ${el.getBoundingClientRect().height.toFixed(1)} px high`);
}"""


def touch_targets_ok(page: Page, minimum: int = MIN_TOUCH_PX) -> None:
    """Fail the test when a visible button or link is less than ``minimum`` CSS px high.
    Visually hidden elements (such as a skip link before it is focused) and links inside a
    sentence (WCAG 2.5.8's inline exception) are not counted."""
    small = page.evaluate(_SMALL_TARGETS, minimum)
    if small:
        report = f"touch targets under {minimum} px on {page.url}:\n" + "\n".join(
            f"- {item}" for item in small)
        print(report)
        pytest.fail(report, pytrace=False)


@contextmanager
def another_page(browser: Browser, **options) -> Iterator[Page]:
    """A page in one more fresh phone context, failing like the fixtures on a JS error."""
    context = browser.new_context(**{**PHONE, **options})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, "JavaScript errors on the page:\n" + "\n".join(errors)


def no_map_tiles(page: Page) -> None:
    """Map tiles come from the internet, which tests do not have: fail their loads at once
    (as they fail here anyway), whether or not the network would answer."""
    page.context.route("https://tile.openstreetmap.org/**", lambda route: route.abort())


def csp_violations(page: Page) -> list[str]:
    """A list that fills with every Content-Security-Policy violation Chromium reports on
    ``page``'s console (a blocked inline script, handler, style or outside source)."""
    violations: list[str] = []
    page.on("console", lambda message: violations.append(f"{page.url}: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text
            else None)
    return violations
