"""Headless Chromium for the dashboard tests: Debian's /usr/bin/chromium, which CI installs.

Without it the tests are skipped on a laptop; with MLSTACK_REQUIRE_BROWSER set (CI) a missing
browser is a failure, so a dashboard test can never pass by not running.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")

needs_browser = pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("MLSTACK_REQUIRE_BROWSER"),
                                   reason="headless Chromium not installed (CI installs it)")


def browser_available() -> bool:
    if CHROMIUM.exists():
        return True
    if os.environ.get("MLSTACK_REQUIRE_BROWSER"):
        pytest.fail("MLSTACK_REQUIRE_BROWSER is set but /usr/bin/chromium is missing (apt-get install chromium)")
    return False


def launch_chromium(playwright):
    """A browser that makes no calls of its own (no updates, sync or background networking)."""
    assert browser_available()
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"])


@contextmanager
def opened_page(page_file: Path) -> Iterator[tuple[Any, list[str]]]:
    """`page_file` open in headless Chromium, with what went wrong on it: script errors and any
    request that is not for a local file (a self-contained page makes none)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page()
            problems: list[str] = []
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("request", lambda request: problems.append("request " + request.url)
                    if not request.url.startswith("file:") else None)
            page.goto(page_file.as_uri())
            yield page, problems
        finally:
            browser.close()
