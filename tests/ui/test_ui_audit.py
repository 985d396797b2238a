"""The Audit view in Chromium: an owner's key sees the organisation's audit log (filter, export); a
viewer's key has no Audit entry in the menu, and #audit shows it the clips view instead."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from ..e2e.conftest import Platform
from .conftest import shoot, sign_in


def _call(platform: Platform, method: str, path: str, key: str, **options: object) -> httpx.Response:
    return httpx.request(
        method,
        platform.runtime["gateway_url"] + path,
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
        **options,  # type: ignore[arg-type]
    )


def test_an_owner_reads_and_exports_the_audit_log_and_a_viewer_never_sees_it(
    page: Page, ui_platform: Platform, artifacts: Path
) -> None:
    owner = ui_platform.runtime["api_key"]
    created = _call(ui_platform, "POST", "/v1/keys", owner, json={"role": "viewer", "label": "ui-audit"})
    assert created.status_code == 201, created.text
    viewer = created.json()["key"]
    refused = _call(ui_platform, "DELETE", "/v1/jobs/not-a-job", viewer)
    assert refused.status_code in (403, 404, 422), refused.text

    sign_in(page, owner)
    menu = page.get_by_role("navigation", name="Main")
    menu.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", level=1, name="Audit")).to_be_visible()
    key_row = page.locator("#audit-body tr", has_text="POST /v1/keys")
    expect(key_row.first).to_be_visible()
    expect(key_row.first.locator(".badge")).to_have_text("201")
    page.get_by_label("Action starts with").fill("DELETE")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#audit-body tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"{refused.status_code}")
    shoot(page, artifacts, "audit")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    table = list(csv.DictReader(io.StringIO(exported)))
    assert [row["action"] for row in table] == ["DELETE /v1/jobs/{job_id}"]

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, viewer)
    expect(page.get_by_role("heading", level=1, name="Clips")).to_be_visible()
    expect(menu.get_by_role("link", name="Jobs and usage")).to_be_visible()
    expect(menu.get_by_role("link", name="Audit")).to_be_hidden()
    page.goto("/ui/#audit")
    expect(page.get_by_role("heading", level=1, name="Clips")).to_be_visible()
    expect(page.get_by_role("heading", level=1, name="Audit")).to_be_hidden()
    assert _call(ui_platform, "GET", "/v1/audit", viewer).status_code == 403
