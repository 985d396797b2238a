"""API keys and tenant isolation, over REST and the WebSocket, plus the admin command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gateway_svc.auth import hash_key

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing API key"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "missing API key"),
        ({"Authorization": "Bearer"}, "missing API key"),
        ({"Authorization": "Bearer    "}, "missing API key"),
        ({"Authorization": "cs_deadbeef_notakey"}, "missing API key"),
        ({"Authorization": "Bearer cs_deadbeef_notakey"}, "invalid or revoked API key"),
    ],
    ids=["missing", "basic-scheme", "bearer-without-key", "bearer-blank", "no-scheme", "wrong-key"],
)
async def test_requests_without_a_valid_key_get_401(platform, headers, message):
    for method, path in [
        ("GET", "/v1/jobs"),
        ("GET", f"/v1/jobs/{uuid.uuid4()}"),
        ("POST", "/v1/text/similarity"),
        ("GET", "/v1/analytics/summary"),
    ]:
        response = await platform.client.request(
            method, path, headers=headers, json={"a": "x y z", "b": "x y z"} if method == "POST" else None
        )
        assert response.status_code == 401, (path, response.text)
        assert message in response.json()["detail"]
        assert response.headers["www-authenticate"] == "Bearer"


async def test_a_key_of_another_tenant_is_accepted_and_scoped(platform):
    for tenant in ("acme", "globex"):
        response = await platform.client.get("/v1/jobs", headers=platform.auth(tenant))
        assert response.status_code == 200
        assert response.json() == {"jobs": []}


async def test_revoked_key_gets_401(platform):
    async with platform.app.state.pool.connection() as conn:
        await conn.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE key_hash = %s", (hash_key(platform.keys["acme"]),)
        )
    response = await platform.client.get("/v1/jobs", headers=platform.auth("acme"))
    assert response.status_code == 401
    assert response.json()["detail"] == "invalid or revoked API key"
    assert (await platform.client.get("/v1/jobs", headers=platform.auth("globex"))).status_code == 200


@pytest.fixture
async def acme_job(platform, corpus) -> str:
    """A completed job of tenant acme."""
    body = "\n".join(
        json.dumps({"id": i, "text": t}) for i, t in [("a", corpus.original), ("b", corpus.near_copy)]
    )
    response = await platform.submit("acme", body.encode(), "application/jsonl")
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    assert (await platform.wait_job(job_id, "acme"))["status"] == "completed"
    return job_id


async def test_a_tenant_cannot_see_another_tenants_job(platform, acme_job):
    own = await platform.client.get(f"/v1/jobs/{acme_job}", headers=platform.auth("acme"))
    assert own.status_code == 200
    assert (
        await platform.client.get(f"/v1/jobs/{acme_job}/result", headers=platform.auth("acme"))
    ).status_code == 200

    for path in (f"/v1/jobs/{acme_job}", f"/v1/jobs/{acme_job}/result"):
        response = await platform.client.get(path, headers=platform.auth("globex"))
        assert response.status_code == 404
        assert response.json() == {"detail": f"job {acme_job} not found"}
    listed = await platform.client.get("/v1/jobs", headers=platform.auth("globex"))
    assert listed.json() == {"jobs": []}
    acme_list = await platform.client.get("/v1/jobs", headers=platform.auth("acme"))
    assert [job["id"] for job in acme_list.json()["jobs"]] == [acme_job]


@pytest.mark.parametrize("job_id", [str(uuid.uuid4()), "not-a-uuid", "123", str(uuid.uuid4()).upper() + "x"])
async def test_unknown_or_malformed_job_id_is_404(platform, job_id):
    for path in (f"/v1/jobs/{job_id}", f"/v1/jobs/{job_id}/result"):
        response = await platform.client.get(path, headers=platform.auth("acme"))
        assert response.status_code == 404
        assert response.json() == {"detail": f"job {job_id} not found"}


async def _close_code(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with connect(url, additional_headers=headers, open_timeout=5) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_websocket_refuses_other_tenants_and_bad_keys_with_close_codes(platform, live_url, acme_job):
    base = f"ws://{live_url}/v1/jobs"
    code, reason = await _close_code(f"{base}/{acme_job}/events", platform.auth("globex"))
    assert (code, reason) == (4404, f"job {acme_job} not found")
    unknown = uuid.uuid4()
    assert await _close_code(f"{base}/{unknown}/events", platform.auth("acme")) == (
        4404,
        f"job {unknown} not found",
    )
    assert (await _close_code(f"{base}/nope/events", platform.auth("acme")))[0] == 4404

    code, reason = await _close_code(f"{base}/{acme_job}/events")
    assert code == 4401
    assert reason.startswith("missing credentials")
    bad = {"Authorization": "Bearer cs_00000000_wrong"}
    assert await _close_code(f"{base}/{acme_job}/events", bad) == (4401, "invalid or revoked API key")
    # A key in the URL leaks into traces and access logs: refused even when it is valid.
    code, reason = await _close_code(f"{base}/{acme_job}/events?api_key={platform.keys['acme']}")
    assert code == 4401
    assert "?api_key= is no longer accepted" in reason

    # The owner, with a ticket in the query string as a browser would send it, gets the history.
    ticket = await platform.client.post("/v1/ws-tickets", headers=platform.auth("acme"))
    assert ticket.status_code == 201, ticket.text
    async with connect(f"{base}/{acme_job}/events?ticket={ticket.json()['ticket']}", open_timeout=5) as ws:
        events = [json.loads(message) async for message in ws]
    assert events[0]["type"] == "requested"
    assert events[-1]["type"] == "completed"
    assert ws.close_code == 1000


def _admin(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CLIPSIFT_")}
    return subprocess.run(
        [sys.executable, "-m", "gateway_svc.admin", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_admin_create_key_needs_only_the_database(platform):
    env = {"CLIPSIFT_GATEWAY_DATABASE_URL": platform.database_url}
    result = _admin(env, "create-key", "--tenant", "initech", "--label", "ci")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    assert key.startswith("cs_")

    # The new key works against the running gateway, for the new tenant only.
    response = await platform.client.get("/v1/jobs", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    async with platform.app.state.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT tenant_id, label, is_admin, prefix FROM api_keys WHERE key_hash = %s", (hash_key(key),)
        )
        assert await cur.fetchone() == ("initech", "ci", False, key.split("_")[1])

    admin = _admin(env, "create-key", "--tenant", "initech", "--admin")
    assert admin.returncode == 0, admin.stderr
    summary = await platform.client.get(
        "/v1/analytics/summary",
        params={"tenant": "*"},
        headers={"Authorization": f"Bearer {admin.stdout.strip()}"},
    )
    assert summary.status_code == 200, summary.text


def test_admin_create_key_reports_bad_input_and_missing_settings(database_url):
    bad_tenant = _admin(
        {"CLIPSIFT_GATEWAY_DATABASE_URL": database_url}, "create-key", "--tenant", "Not Valid!"
    )
    assert bad_tenant.returncode != 0
    assert "tenant id 'Not Valid!' must be" in bad_tenant.stderr
    assert "Traceback" not in bad_tenant.stderr

    no_database = _admin({}, "create-key", "--tenant", "acme")
    assert no_database.returncode != 0
    assert "database_url" in no_database.stderr.lower()
    assert "Traceback" not in no_database.stderr
