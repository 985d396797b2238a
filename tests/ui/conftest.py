"""The web UI in headless Chromium (Debian's ``chromium``, driven by Playwright's bundled driver; no
browser is ever downloaded) against the whole platform started by the local runner.

Screenshots go to ``.artifacts/ui/`` at the repository root (``CLIPSIFT_UI_ARTIFACTS`` moves it).
The browser is ``chromium`` on PATH (``CLIPSIFT_CHROMIUM`` names another binary). Without one every
test here is skipped, saying so, before anything starts; ``make system-deps`` installs Debian's.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright, sync_playwright

from ..e2e.conftest import Platform, start_platform, stop_platform

ARTIFACTS = Path(
    os.environ.get("CLIPSIFT_UI_ARTIFACTS", Path(__file__).resolve().parents[2] / ".artifacts/ui")
)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


def chromium_path() -> str | None:
    found = (
        os.environ.get("CLIPSIFT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    return found if found and os.access(found, os.X_OK) else None


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# Module scope, not session: while sync Playwright runs, its event loop is the thread's running loop,
# and pytest-asyncio tests collected after this module could not start their own.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if chromium_path() is None:
        pytest.skip(
            "no Chromium binary: install Debian's chromium (make system-deps) to run the browser tests"
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def ui_platform(playwright: Playwright, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """One embedded platform for the browser tests, rendering small clips quickly (after the browser
    check, so that a machine without Chromium skips without starting anything)."""
    env = {
        "CLIPSIFT_NATS_URL": "",
        "CLIPSIFT_DATABASE_URL": "",
        "CLIPSIFT_VIDEO_OUTPUT_LONG_SIDE": "640",
        "CLIPSIFT_VIDEO_RENDER_PRESET": "ultrafast",
        "CLIPSIFT_GATEWAY_MAX_VIDEO_SECONDS": "300",
        # Small, so that four documents are over the per-request limit and go as a corpus job.
        "CLIPSIFT_GATEWAY_MAX_REQUEST_DOCUMENTS": "3",
        # The smallest part S3 allows, so the resumable-upload test needs only an 11 MiB file.
        "CLIPSIFT_GATEWAY_UPLOAD_PART_BYTES": str(5 * 1024 * 1024),
    }
    platform = start_platform(tmp_path_factory.mktemp("ui") / "home", env)
    yield platform
    if platform.process.poll() is None:
        stop_platform(platform)


class PageErrors:
    """Uncaught exceptions and policy violations in the page: a broken module fails the test."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.errors.append(f"CSP: {message.text}")


@pytest.fixture
def page(browser: Browser, ui_platform: Platform) -> Iterator[Page]:
    context = browser.new_context(
        base_url=ui_platform.runtime["gateway_url"], viewport=DESKTOP, accept_downloads=True
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    watcher = PageErrors(page)
    yield page
    context.close()
    assert not watcher.errors, watcher.errors


def shoot(page: Page, artifacts: Path, name: str, **options: Any) -> Path:
    """Save a screenshot as a test artefact and return its path."""
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, **options)
    return path


def sign_in(page: Page, key: str) -> None:
    """Sign in as a person would: the key typed into the labelled field, Enter to submit."""
    page.goto("/")
    field = page.get_by_label("API key")
    field.fill(key)
    field.press("Enter")
    page.get_by_role("navigation", name="Main").wait_for()


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def api_json(platform: Platform, path: str) -> Any:
    import httpx

    response = httpx.get(
        platform.runtime["gateway_url"] + path,
        headers={"Authorization": f"Bearer {platform.runtime['api_key']}"},
        timeout=30,
    )
    response.raise_for_status()
    return json.loads(response.text)


__all__ = ["DESKTOP", "PHONE", "Error", "api_json", "no_horizontal_scroll", "shoot", "sign_in"]
