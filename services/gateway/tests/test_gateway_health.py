"""Liveness and readiness against the real dependencies."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


async def test_healthz_needs_nothing(platform):
    response = await platform.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_ready_when_every_dependency_is_up(platform):
    response = await platform.client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "nats": "ok", "text": "ok", "analytics": "ok", "video": "ok"},
    }


async def test_readyz_names_the_failing_check_when_text_is_down(platform, eventually):
    await platform.stop_text()
    response = await platform.client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["text"].startswith("failing")
    assert {k: v for k, v in body["checks"].items() if k != "text"} == {
        "database": "ok",
        "nats": "ok",
        "analytics": "ok",
        "video": "ok",
    }

    await platform.restart_text()

    async def ready() -> bool:
        return (await platform.client.get("/readyz")).status_code == 200

    # The channel reconnects after its backoff; readiness follows without a gateway restart.
    await eventually(ready, within=20, what="readiness after the text service came back")


async def test_readyz_reports_not_serving_text_service(platform):
    await platform.text_server.set_not_serving()
    response = await platform.client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["text"] == "failing: ConnectionError NOT_SERVING"
