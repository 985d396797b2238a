"""Liveness and readiness against the real dependencies."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


async def test_healthz_needs_nothing(platform):
    response = await platform.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


OWN_CHECKS = {"database": "ok", "nats": "ok", "projector": "ok", "dead_jobs": "ok", "retention": "ok"}


async def test_readyz_ready_when_the_gateway_and_its_dependencies_are_up(platform):
    response = await platform.client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == OWN_CHECKS
    healthy = {"health": "ok", "circuit": "closed"}
    assert {k: body["dependencies"][k] for k in ("text", "analytics", "video")} == {
        "text": healthy,
        "analytics": healthy,
        "video": healthy,
    }
    # No vision or training server in this platform: reported, and still ready.
    assert body["dependencies"]["vision"]["health"].startswith("failing")
    assert body["dependencies"]["training"]["health"].startswith("failing")


async def test_a_downstream_restart_keeps_the_gateway_ready_and_only_its_routes_503(
    platform, corpus, eventually
):
    await platform.stop_text()
    response = await platform.client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == OWN_CHECKS
    assert body["dependencies"]["text"]["health"].startswith("failing")
    assert body["dependencies"]["analytics"]["health"] == "ok"

    # A route that needs text says so; one that does not keeps working.
    similarity = await platform.client.post(
        "/v1/text/similarity",
        json={"a": corpus.original, "b": corpus.near_copy},
        headers=platform.auth("acme"),
    )
    assert similarity.status_code == 503
    assert f"{platform.settings.text_target} is unavailable" in similarity.json()["detail"]
    jobs = await platform.client.get("/v1/jobs", headers=platform.auth("acme"))
    assert jobs.status_code == 200, jobs.text

    await platform.restart_text()

    async def text_back() -> bool:
        reply = (await platform.client.get("/readyz")).json()
        return bool(reply["dependencies"]["text"]["health"] == "ok")

    # The channel reconnects after its backoff; no gateway restart needed.
    await eventually(text_back, within=20, what="the text service reported healthy again")


async def test_readyz_reports_not_serving_text_service(platform):
    await platform.text_server.set_not_serving()
    response = await platform.client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["dependencies"]["text"]["health"] == "failing: ConnectionError NOT_SERVING"


async def test_readyz_fails_when_the_job_projector_is_down(platform):
    projector = platform.app.state.projector
    projector.mark_failing("consumer gateway-jobs was deleted")
    response = await platform.client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["checks"]["projector"] == "failing: ConnectionError consumer gateway-jobs was deleted"
    projector.mark_healthy()
    assert (await platform.client.get("/readyz")).status_code == 200
