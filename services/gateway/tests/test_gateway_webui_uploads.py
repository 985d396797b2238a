"""The web UI's resumable upload in headless Chromium against this gateway (a real uvicorn server
in front of the test platform, the folder blob store): a file sent in 5 MiB parts is stopped after
its first part, the page is reloaded, and the same file resumes with only the missing parts. The
same scenario runs on the whole platform in tests/ui; this one needs no embedded platform start.
Skipped, saying so, without a Chromium binary."""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest
from clipsift_testing.resumable_page import FIRST_TRY, MAKE_FILE, PART, SECOND_TRY, SIZE

from .conftest import Platform


def _chromium() -> str:
    found = (
        os.environ.get("CLIPSIFT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        pytest.skip(
            "no Chromium binary: install Debian's chromium (make system-deps) to run the browser tests"
        )
    return found


@pytest.mark.gateway(upload_part_bytes=PART)
async def test_an_interrupted_upload_resumes_after_a_reload(platform: Platform, live_url: str) -> None:
    from playwright.async_api import Request, async_playwright

    chromium = _chromium()
    part_puts: list[str] = []

    def record(request: Request) -> None:
        if request.method == "PUT" and "/v1/uploads/" in request.url:
            part_puts.append(request.url.rsplit("/", 1)[1])

    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = await browser.new_page(base_url=f"http://{live_url}")
            page.set_default_timeout(30_000)
            page.on("request", record)
            await page.goto("/")
            key_field = page.get_by_label("API key")
            await key_field.fill(platform.keys["acme"])
            await key_field.press("Enter")
            await page.get_by_role("navigation", name="Main").wait_for()
            await page.evaluate(MAKE_FILE)
            assert await page.evaluate(FIRST_TRY) == "AbortError"
            assert part_puts == ["1"]

            await page.reload()
            await page.get_by_role("navigation", name="Main").wait_for()
            await page.evaluate(MAKE_FILE)
            second: dict[str, Any] = await page.evaluate(SECOND_TRY)
        finally:
            await browser.close()
    assert second["events"] == [["resumed", PART], ["part", 2], ["part", 3]], second
    assert part_puts == ["1", "2", "3"]
    assert second["progress"] == [SIZE, SIZE]
    assert second["done"]["size"] == SIZE
    upload = await platform.client.get(f"/v1/uploads/{second['done']['id']}", headers=platform.auth("acme"))
    assert upload.json()["state"] == "complete"
