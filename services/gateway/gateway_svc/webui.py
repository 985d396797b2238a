"""The browser UI: static files from ``gateway_svc/web`` at ``/ui``, same origin as the API.

Everything the page loads comes from this folder (no CDN, no build step); the Content-Security-Policy
says so to the browser as well, so a stray external reference fails loudly instead of leaking.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

WEB_DIR = Path(__file__).with_name("web")
UI_PATH = "/ui"
# blob: for clips fetched with the API key and played or saved from memory; ws(s): for job events.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    # The files change with the server; revalidate rather than run a stale module against a new API.
    (b"cache-control", b"no-cache"),
]


class _UiFiles(StaticFiles):
    """StaticFiles with the UI's security headers on every response."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await super().__call__(scope, receive, send_with_headers)


def mount_web_ui(app: FastAPI) -> None:
    """Serve the UI at ``/ui/`` and send ``/`` there."""
    app.mount(UI_PATH, _UiFiles(directory=WEB_DIR, html=True), name="ui")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(f"{UI_PATH}/")
