"""The browser UI as the gateway serves it: same origin, self-contained, locked down by its CSP.

What the page does in a browser is tested end to end in tests/ui; here, what the server sends."""

from __future__ import annotations

import re

import pytest

from gateway_svc.webui import WEB_DIR

pytestmark = pytest.mark.integration

_IMPORT = re.compile(r"""(?:from|import)\s*["'](\.{1,2}/[^"']+)["']""")
_ASSET = re.compile(r"""(?:src|href)="([^"#:]+)\"""")
# Any absolute URL or protocol-relative reference would load something from outside the repository.
_EXTERNAL = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)
_SVG_NAMESPACE = "http://www.w3.org/2000/svg"


async def test_root_sends_the_browser_to_the_ui(platform):
    response = await platform.client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/ui/"


async def test_index_is_served_with_a_same_origin_content_security_policy(platform):
    response = await platform.client.get("/ui/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="js/main.js">' in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "connect-src 'self' ws: wss:" in policy
    assert "media-src 'self' blob:" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_every_module_and_asset_the_page_loads_is_served(platform):
    """Walk index.html's assets and every module's imports: each resolves to a file the server sends,
    with a type a browser accepts for it (modules need a JavaScript MIME type)."""
    index = (await platform.client.get("/ui/")).text
    pending = [f"/ui/{path}" for path in _ASSET.findall(index)]
    assert "/ui/js/main.js" in pending
    assert "/ui/app.css" in pending
    seen: set[str] = set()
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        response = await platform.client.get(url)
        assert response.status_code == 200, url
        if url.endswith(".js"):
            media_type = response.headers["content-type"].split(";")[0]
            assert media_type in {"text/javascript", "application/javascript"}, url
            base = url.rsplit("/", 1)[0]
            for relative in _IMPORT.findall(response.text):
                parts = [*base.split("/"), *relative.split("/")]
                resolved: list[str] = []
                for part in parts:
                    if part == "..":
                        resolved.pop()
                    elif part != ".":
                        resolved.append(part)
                pending.append("/".join(resolved))
    modules = {f"/ui/js/{p.name}" for p in (WEB_DIR / "js").glob("*.js")}
    assert modules <= seen, f"modules nothing imports: {sorted(modules - seen)}"


def test_no_file_of_the_ui_refers_to_another_origin():
    files = [p for p in WEB_DIR.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} <= {".html", ".css", ".js"}
    for path in files:
        text = path.read_text(encoding="utf-8").replace(_SVG_NAMESPACE, "")
        assert not _EXTERNAL.findall(text), f"{path.name} refers to another origin: {_EXTERNAL.findall(text)}"


async def test_unknown_ui_file_is_404_and_the_api_is_untouched(platform):
    assert (await platform.client.get("/ui/js/missing.js")).status_code == 404
    assert (await platform.client.get("/v1/jobs")).status_code == 401
    openapi = (await platform.client.get("/openapi.json")).json()
    assert not [path for path in openapi["paths"] if path == "/" or path.startswith("/ui")]


@pytest.mark.gateway(web_ui=False)
async def test_ui_can_be_switched_off(platform):
    assert (await platform.client.get("/ui/")).status_code == 404
    assert (await platform.client.get("/")).status_code == 404
    assert (await platform.client.get("/healthz")).status_code == 200
