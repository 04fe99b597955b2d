"""Headless Chromium for the dashboard tests: Debian's /usr/bin/chromium, which CI installs.

Without it the tests are skipped on a laptop; with MLSTACK_REQUIRE_BROWSER set (CI) a missing
browser is a failure, so a dashboard test can never pass by not running.
"""

from __future__ import annotations

import os
from pathlib import Path

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
