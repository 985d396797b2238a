"""Resumable uploads in the browser: the page's own module (js/resumable.js) sends a file in parts
(5 MiB, the gateway's smallest part size, set by the UI platform), is stopped after the first part,
the page is reloaded, and the same file is sent again: only the missing parts go up, and the gateway
ends up holding the whole file."""

from __future__ import annotations

from typing import Any

from clipsift_testing.resumable_page import FIRST_TRY, MAKE_FILE, PART, SECOND_TRY, SIZE
from playwright.sync_api import Page, Request

from ..e2e.conftest import Platform
from .conftest import api_json, sign_in


def test_an_interrupted_upload_resumes_after_a_reload_with_only_the_missing_parts(
    page: Page, ui_platform: Platform
) -> None:
    sign_in(page, ui_platform.runtime["api_key"])
    part_puts: list[str] = []

    def record(request: Request) -> None:
        if request.method == "PUT" and "/v1/uploads/" in request.url:
            part_puts.append(request.url.rsplit("/", 1)[1])

    page.on("request", record)
    page.evaluate(MAKE_FILE)
    assert page.evaluate(FIRST_TRY) == "AbortError"
    assert part_puts == ["1"]

    page.reload()  # the key stays in the tab's sessionStorage, the upload id in localStorage
    page.get_by_role("navigation", name="Main").wait_for()
    page.evaluate(MAKE_FILE)
    second: dict[str, Any] = page.evaluate(SECOND_TRY)
    assert second["events"] == [["resumed", PART], ["part", 2], ["part", 3]], second
    assert part_puts == ["1", "2", "3"]
    assert second["progress"] == [SIZE, SIZE]
    assert second["done"]["size"] == SIZE
    upload = api_json(ui_platform, f"/v1/uploads/{second['done']['id']}")
    assert upload["state"] == "complete"
    assert [part["number"] for part in upload.get("parts") or []] in ([], [1, 2, 3])
