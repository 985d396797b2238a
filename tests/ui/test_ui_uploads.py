"""Resumable uploads in the browser: the page's own module (js/resumable.js) sends a file in parts
(5 MiB, the gateway's smallest part size, set by the UI platform), is stopped after the first part,
the page is reloaded, and the same file is sent again: only the missing parts go up, and the gateway
ends up holding the whole file."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, Request

from ..e2e.conftest import Platform
from .conftest import api_json, sign_in

PART = 5 * 1024 * 1024
SIZE = 2 * PART + 12345  # three parts, the last a short one

# The same File both times (name, size, lastModified are what the page remembers an upload by).
MAKE_FILE = f"""
  const bytes = new Uint8Array({SIZE});
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) % 251;
  window.bigFile = new File([bytes], "big-talk.mp4", {{ type: "video/mp4", lastModified: 1700000000000 }});
"""

FIRST_TRY = """
async () => {
  const { uploadResumable } = await import("/ui/js/resumable.js");
  const stop = new AbortController();
  try {
    await uploadResumable(window.bigFile, { signal: stop.signal, onPart: () => stop.abort() });
    return "finished";
  } catch (failure) {
    return failure.name;
  }
}
"""

SECOND_TRY = """
async () => {
  const { uploadResumable } = await import("/ui/js/resumable.js");
  const events = [];
  const done = await uploadResumable(window.bigFile, {
    onResume: (received) => events.push(["resumed", received]),
    onPart: (number) => events.push(["part", number]),
    onProgress: (sent, total) => { window.lastProgress = [sent, total]; },
  });
  return { done, events, progress: window.lastProgress };
}
"""


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
