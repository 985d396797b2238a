"""Roles in Chromium: a viewer's key sees no upload form (nor the duplicate and compare forms), with
a note naming the permission it lacks, and the gateway refuses its mutating calls; the owner's key
sees them all."""

from __future__ import annotations

import uuid
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


def test_a_viewer_sees_no_upload_form_and_cannot_mutate(
    page: Page, ui_platform: Platform, artifacts: Path
) -> None:
    owner = ui_platform.runtime["api_key"]
    created = _call(ui_platform, "POST", "/v1/keys", owner, json={"role": "viewer", "label": "ui-roles"})
    assert created.status_code == 201, created.text
    viewer = created.json()["key"]

    sign_in(page, viewer)
    expect(page.get_by_role("heading", level=1, name="Clips")).to_be_visible()
    expect(page.get_by_role("button", name="Upload and make clips")).to_be_hidden()
    expect(page.get_by_label("Video file")).to_be_hidden()
    expect(page.get_by_text("lacks the permission jobs:write")).to_be_visible()
    shoot(page, artifacts, "viewer-clips")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Duplicates").click()
    expect(page.get_by_role("button", name="Find duplicates")).to_be_hidden()
    # The gateway refuses what the page no longer offers.
    upload = _call(ui_platform, "POST", "/v1/uploads", viewer, json={"filename": "a.mp4", "size": 10})
    assert upload.status_code == 403
    assert "jobs:write" in upload.json()["detail"]
    assert _call(ui_platform, "DELETE", f"/v1/jobs/{uuid.uuid4()}", viewer).status_code == 403
    assert _call(ui_platform, "GET", "/v1/jobs", viewer).status_code == 200

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, owner)
    expect(page.get_by_role("button", name="Upload and make clips")).to_be_visible()
    expect(page.get_by_text("lacks the permission")).to_have_count(0)
