"""Browser tests: Playwright drives Debian's Chromium (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import broker, fast_operations, worker  # noqa: F401  (fixtures)

CHROMIUM = os.environ.get("NESTOPS_CHROMIUM", "/usr/bin/chromium")
# Flags for a headless Chromium on a machine with no network beyond loopback.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.fail(
            f"Chromium is not at {CHROMIUM}. `make test` installs Debian's chromium package; "
            "or set NESTOPS_CHROMIUM."
        )
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
    # under a loop unless told that this test code is synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    # One browser for the whole run (Playwright's sync API allows one per thread); the rule
    # pins the gateway's si-xxxx.localhost origins to IPv4 loopback.
    args = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP *.localhost 127.0.0.1"]
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def log_in(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"{username}-pw-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
