"""Abuse controls against real servers: rate limits in the machine's Redis (a fresh key prefix per
test), quotas and fair dispatch in a fresh PostgreSQL database, job requests on real JetStream.

The gateway here calls no gRPC service: the routes used (job listing, corpus job submission)
need only PostgreSQL, NATS and the blob store, and no worker runs, so submitted jobs stay put
until a test finishes them by publishing their terminal event, as a worker would.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from prometheus_client import REGISTRY

from clipsift.events.v1 import events_pb2
from clipsift_common.events import make_event
from gateway_svc.admin import create_key
from gateway_svc.app import create_app
from gateway_svc.quotas import QuotaExceeded, set_tenant_quotas
from gateway_svc.settings import GatewaySettings
from gateway_svc.submission import queue_job

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class Gateway:
    app: FastAPI
    client: httpx.AsyncClient
    keys: dict[str, str]
    database_url: str

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    async def submit_corpus(self, who: str, documents: int = 2) -> httpx.Response:
        lines = [
            json.dumps({"id": f"d{i}", "text": f"document number {i} of {who}"}) for i in range(documents)
        ]
        return await self.client.post(
            "/v1/jobs",
            content=("\n".join(lines) + "\n").encode(),
            headers={**self.auth(who), "Content-Type": "application/jsonl"},
        )

    async def jobs(self) -> list[dict[str, Any]]:
        async with await psycopg.AsyncConnection.connect(self.database_url) as conn:
            cur = await conn.execute(
                "SELECT id::text, tenant_id, status, dispatched_at FROM jobs ORDER BY created_at, id"
            )
            columns = ("id", "tenant", "status", "dispatched_at")
            return [dict(zip(columns, row, strict=True)) for row in await cur.fetchall()]


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix no other test uses; its keys are deleted afterwards."""
    prefix = f"clipsift-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = aioredis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


GatewayFactory = Callable[..., AbstractAsyncContextManager[Gateway]]


@pytest.fixture
def gateway(database_url: str, clean_nats_url: str, tmp_path: Path, redis_prefix: str) -> GatewayFactory:
    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Gateway]:
        values: dict[str, Any] = {
            "nats_url": clean_nats_url,
            "database_url": database_url,
            "blob_dir": str(tmp_path / "blobs"),
            "text_target": "127.0.0.1:1",
            "analytics_target": "127.0.0.1:1",
            "video_target": "127.0.0.1:1",
            "vision_target": "127.0.0.1:1",
            "training_target": "127.0.0.1:1",
            "redis_url": REDIS_URL,
            "redis_key_prefix": redis_prefix,
            "db_pool_max": 4,
            "dispatch_poll_seconds": 0.1,
        }
        settings = GatewaySettings(**{**values, **overrides})
        app = create_app(settings)
        keys = {
            "acme": await create_key(database_url, "acme", "first", False),
            "acme-2": await create_key(database_url, "acme", "second", False),
            "globex": await create_key(database_url, "globex", "test", False),
        }
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        ):
            yield Gateway(app, client, keys, database_url)

    return start


# --- rate limits ---


async def test_a_key_over_its_limit_gets_429_with_the_headers_and_another_key_is_unaffected(
    gateway: GatewayFactory,
) -> None:
    async with gateway(rate_limit_per_key="3/minute", rate_limit_per_tenant="100/minute") as gw:
        for remaining in (2, 1, 0):
            ok = await gw.client.get("/v1/jobs", headers=gw.auth("acme"))
            assert ok.status_code == 200
            assert ok.headers["RateLimit-Limit"] == "3"
            assert ok.headers["RateLimit-Remaining"] == str(remaining)
            assert 0 < int(ok.headers["RateLimit-Reset"]) <= 60
        refused = await gw.client.get("/v1/jobs", headers=gw.auth("acme"))
        assert refused.status_code == 429
        assert refused.headers["RateLimit-Limit"] == "3"
        assert refused.headers["RateLimit-Remaining"] == "0"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert refused.headers["RateLimit-Reset"] == refused.headers["Retry-After"]
        assert "rate limit of this API key reached (3 per 1 minute)" in refused.json()["detail"]

        # The tenant's other key, and another tenant, have windows of their own.
        for who in ("acme-2", "globex"):
            other = await gw.client.get("/v1/jobs", headers=gw.auth(who))
            assert other.status_code == 200, who
            assert other.headers["RateLimit-Remaining"] == "2"


async def test_a_tenant_over_its_limit_is_refused_on_every_key(gateway: GatewayFactory) -> None:
    async with gateway(rate_limit_per_key="100/minute", rate_limit_per_tenant="2/minute") as gw:
        assert (await gw.client.get("/v1/jobs", headers=gw.auth("acme"))).status_code == 200
        assert (await gw.client.get("/v1/jobs", headers=gw.auth("acme-2"))).status_code == 200
        refused = await gw.client.get("/v1/jobs", headers=gw.auth("acme"))
        assert refused.status_code == 429
        assert "rate limit of this tenant reached (2 per 1 minute)" in refused.json()["detail"]
        assert (await gw.client.get("/v1/jobs", headers=gw.auth("globex"))).status_code == 200


async def test_unauthenticated_requests_are_401_and_not_counted(gateway: GatewayFactory) -> None:
    async with gateway(rate_limit_per_key="1/minute") as gw:
        for _ in range(3):
            assert (await gw.client.get("/v1/jobs")).status_code == 401
        assert (await gw.client.get("/healthz")).status_code == 200
        assert (await gw.client.get("/v1/jobs", headers=gw.auth("acme"))).status_code == 200


async def test_without_redis_requests_go_through_and_are_counted(gateway: GatewayFactory) -> None:
    """Fail open: nothing listens on port 1, so no window can be kept; the API still answers."""
    before = REGISTRY.get_sample_value("clipsift_rate_limit_unavailable_total") or 0.0
    async with gateway(redis_url="redis://127.0.0.1:1/0", rate_limit_per_key="1/minute") as gw:
        for _ in range(3):
            response = await gw.client.get("/v1/jobs", headers=gw.auth("acme"))
            assert response.status_code == 200
            assert "RateLimit-Limit" not in response.headers
    after = REGISTRY.get_sample_value("clipsift_rate_limit_unavailable_total")
    assert after == before + 3


# --- quotas ---


async def test_concurrent_jobs_quota_refuses_the_next_job_with_its_value(gateway: GatewayFactory) -> None:
    async with gateway(quota_concurrent_jobs=2) as gw:
        for _ in range(2):
            assert (await gw.submit_corpus("acme")).status_code == 202
        refused = await gw.submit_corpus("acme")
        assert refused.status_code == 429
        assert refused.json()["detail"].startswith(
            "quota concurrent_jobs=2 reached: 2 jobs of this tenant are queued or running"
        )
        assert len(await gw.jobs()) == 2, "the refused job was not recorded"
        assert (await gw.submit_corpus("globex")).status_code == 202, "other tenants have their own"

        # A finished job frees its place.
        finished = (await gw.jobs())[0]
        await _finish(gw, finished["id"], finished["tenant"])
        assert (await gw.submit_corpus("acme")).status_code == 202


async def test_storage_quota_counts_uploaded_bytes_this_month(
    gateway: GatewayFactory, tmp_path: Path
) -> None:
    async with gateway(quota_storage_bytes_per_month=250) as gw:
        first = await gw.submit_corpus("acme", documents=3)
        assert first.status_code == 202
        refused = await gw.submit_corpus("acme", documents=3)
        assert refused.status_code == 429
        detail = refused.json()["detail"]
        assert detail.startswith("quota storage_bytes_per_month=250 would be exceeded: ")
        used = int(detail.split(": ")[1].split(" bytes")[0])
        jobs = tmp_path / "blobs" / "tenants" / "acme" / "jobs"
        stored = jobs / first.json()["id"] / "corpus.jsonl"
        assert used == stored.stat().st_size
        leftovers = [p.name for p in jobs.iterdir()]
        assert leftovers == [first.json()["id"]], "the refused upload is deleted"


async def test_media_minutes_quota_with_a_per_tenant_override(gateway: GatewayFactory) -> None:
    async with gateway(quota_media_minutes_per_month=1000) as gw:
        async with await psycopg.AsyncConnection.connect(gw.database_url) as conn:
            await set_tenant_quotas(conn, "acme", media_minutes_per_month=10)
        state = gw.app.state

        async def submit(tenant: str, seconds: float) -> dict[str, Any]:
            options = {"duration": seconds, "source_path": "/media/talk.mp4"}
            return await queue_job(state, uuid.uuid4(), tenant, "clip", options, "/media/talk.mp4", "queued")

        await submit("acme", 400.0)
        with pytest.raises(QuotaExceeded) as refused:
            await submit("acme", 400.0)
        assert refused.value.status_code == 429
        assert refused.value.detail == (
            "quota media_minutes_per_month=10 would be exceeded: 6.7 minutes used this month, "
            "this video adds 6.7"
        )
        # globex keeps the default of 1000 minutes.
        await submit("globex", 400.0)
        await submit("globex", 400.0)


# --- fair scheduling ---


async def test_one_tenants_backlog_does_not_starve_another_tenants_job(gateway: GatewayFactory) -> None:
    async with gateway(dispatch_max_in_flight_per_tenant=2) as gw:
        backlog = [await gw.submit_corpus("acme") for _ in range(12)]
        assert all(r.status_code == 202 for r in backlog)
        late = await gw.submit_corpus("globex")
        assert late.status_code == 202
        late_id = late.json()["id"]

        jobs = await _wait_dispatched(gw, 3)
        dispatched = [j for j in jobs if j["dispatched_at"] is not None]
        assert {j["tenant"] for j in dispatched} == {"acme", "globex"}
        assert late_id in {j["id"] for j in dispatched}, "globex's one job goes out at once"
        acme_waiting = [j for j in jobs if j["tenant"] == "acme" and j["dispatched_at"] is None]
        assert len(acme_waiting) == 10, "acme has 2 in flight, the rest waits"
        # The requests really are on the bus: exactly the dispatched jobs.
        assert sorted(await _requested_job_ids(gw)) == sorted(j["id"] for j in dispatched)

        # When one of acme's jobs ends, its next (oldest) one takes the slot.
        first = next(j for j in dispatched if j["tenant"] == "acme")
        await _finish(gw, first["id"], "acme")
        jobs = await _wait_dispatched(gw, 4)
        newly = [
            j for j in jobs if j["dispatched_at"] is not None and j["id"] not in {d["id"] for d in dispatched}
        ]
        assert [j["id"] for j in newly] == [acme_waiting[0]["id"]]


async def _finish(gw: Gateway, job_id: str, tenant: str) -> None:
    """Publish the job's completed event, as its worker would, and wait for the projector."""
    event = make_event(
        job_id=job_id,
        tenant_id=tenant,
        kind="dedup",
        event_type=events_pb2.EVENT_TYPE_COMPLETED,
        key="completed",
        progress=1.0,
        step="done",
    )
    await gw.app.state.bus.publish(event)
    for _ in range(100):
        if any(j["id"] == job_id and j["status"] == "completed" for j in await gw.jobs()):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"job {job_id} was not recorded completed")


async def _wait_dispatched(gw: Gateway, count: int) -> list[dict[str, Any]]:
    """The job rows once ``count`` are dispatched; then a little longer, so that one too many
    would show."""
    for _ in range(100):
        jobs = await gw.jobs()
        if sum(j["dispatched_at"] is not None for j in jobs) >= count:
            await asyncio.sleep(0.3)
            return await gw.jobs()
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} jobs dispatched: {await gw.jobs()}")


async def _requested_job_ids(gw: Gateway) -> list[str]:
    bus = gw.app.state.bus
    subscription = await bus.js.pull_subscribe("jobs.*.requested.>", stream=bus.stream)
    ids: list[str] = []
    try:
        while True:
            try:
                msgs = await subscription.fetch(50, timeout=0.5)
            except TimeoutError:
                break
            for msg in msgs:
                event = events_pb2.JobEvent()
                event.ParseFromString(msg.data)
                ids.append(event.job_id)
    finally:
        await subscription.unsubscribe()
    return ids
