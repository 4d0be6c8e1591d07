"""A real Chromium driven by Playwright, for the browser tests.

Playwright's sync API keeps an asyncio loop running in the test's thread while it is started,
and Django refuses ORM calls when it sees a running loop. The ORM calls here are the tests' own
set-up and checks, not async code, so the check is lifted for this module's browser only, and
the browser is stopped at the end of the module so no other test runs beside that loop.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/test installs it)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=["--no-sandbox", "--disable-background-networking"],
            )
            yield launched
            launched.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def axe_violations(page: Any, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """Run axe-core on the page and describe each violation of the given impacts.

    Frames are left out: an email shown in a sandboxed iframe cannot run scripts, so axe would
    only time out there; emails are checked on their own."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in {ROOT}")
    # Evaluated through the DevTools protocol, not added as a <script>: the pages' Content
    # Security Policy rightly refuses inline scripts, and the test must not weaken it.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """async () => await axe.run(document, {
            iframes: false,
            resultTypes: ['violations'],
        })"""
    )
    found = []
    for violation in result["violations"]:
        if violation["impact"] in impacts:
            targets = [json.dumps(node["target"]) for node in violation["nodes"][:5]]
            found.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']} at "
                + ", ".join(targets)
            )
    return found


def screenshot(page: Any, path: Path) -> None:
    """The whole page, emails included.

    Chromium paints a sandboxed iframe in a process of its own, and a `full_page` capture
    leaves the parts outside the viewport blank (and lazy iframes unloaded); so the viewport is
    stretched to the page's height, each frame is waited for, and the viewport put back."""
    size = page.viewport_size
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    try:
        frames = page.locator("iframe")
        for index in range(frames.count()):
            frames.nth(index).content_frame.locator("body > *").first.wait_for()
        page.wait_for_timeout(200)  # let the frames' own processes paint
        page.screenshot(path=path)
    finally:
        page.set_viewport_size(size)
