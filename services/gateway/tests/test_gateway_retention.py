"""Deleting a job (DELETE /v1/jobs/{id}), per-tenant retention and orphaned uploads, on the folder
backend and on S3; the sweeper runs on an injected clock."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from clipsift_common.blobkeys import upload_prefix
from clipsift_common.errors import InvalidArgument
from gateway_svc.admin import set_retention
from gateway_svc.quotas import JobCost, QuotaExceeded, admit
from gateway_svc.retention import RetentionSweeper

pytestmark = pytest.mark.integration


async def test_delete_removes_the_row_and_every_object_and_is_audited(blob_gateway, tmp_path, caplog):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        job_id = await gateway.add_clip_job("acme")
        assert len(gateway.objects("acme", job_id)) == 4  # source, clip, captions, manifest
        with caplog.at_level(logging.INFO, logger="gateway_svc.api.jobs"):
            reply = await gateway.client.delete(f"/v1/jobs/{job_id}", headers=gateway.auth("acme"))
        assert reply.status_code == 204, reply.text
        assert gateway.objects("acme", job_id) == []
        assert not await gateway.job_exists(job_id)
        audit = [r for r in caplog.records if r.getMessage() == "job deleted"]
        assert [(r.job, r.tenant, r.objects) for r in audit] == [(job_id, "acme", 4)]  # type: ignore[attr-defined]
        for method, url in (("GET", f"/v1/jobs/{job_id}"), ("DELETE", f"/v1/jobs/{job_id}")):
            again = await gateway.client.request(method, url, headers=gateway.auth("acme"))
            assert again.status_code == 404


async def test_delete_of_another_tenants_job_is_404_and_removes_nothing(blob_gateway, tmp_path):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        job_id = await gateway.add_clip_job("acme")
        reply = await gateway.client.delete(f"/v1/jobs/{job_id}", headers=gateway.auth("globex"))
        assert reply.status_code == 404
        assert await gateway.job_exists(job_id)
        assert len(gateway.objects("acme", job_id)) == 4
        anonymous = await gateway.client.delete(f"/v1/jobs/{job_id}")
        assert anonymous.status_code == 401


@pytest.mark.parametrize("status", ["queued", "running"])
async def test_an_unfinished_job_is_not_deleted(blob_gateway, tmp_path, status):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        job_id = await gateway.add_clip_job("acme", status=status)
        reply = await gateway.client.delete(f"/v1/jobs/{job_id}", headers=gateway.auth("acme"))
        assert reply.status_code == 409
        assert f"is {status}" in reply.json()["detail"]
        assert await gateway.job_exists(job_id)
        assert len(gateway.objects("acme", job_id)) == 4


async def test_delete_on_s3_removes_the_jobs_objects(blob_gateway, s3_target):
    blob = {"blob_url": s3_target.url, "blob_options": s3_target.options, "blob_allow_http": True}
    async with blob_gateway(blob) as gateway:
        job_id = await gateway.add_clip_job("acme")
        kept = await gateway.add_clip_job("acme")
        reply = await gateway.client.delete(f"/v1/jobs/{job_id}", headers=gateway.auth("acme"))
        assert reply.status_code == 204
        assert gateway.objects("acme", job_id) == []
        assert len(gateway.objects("acme", kept)) == 4


def _sweeper(gateway, now: datetime) -> RetentionSweeper:
    return RetentionSweeper(gateway.pool, gateway.blobs, gateway.settings, clock=lambda: now)


async def test_retention_expires_finished_jobs_past_their_tenants_retention(
    blob_gateway, tmp_path, database_url
):
    # Default: 10 days; acme keeps 1 day, globex keeps everything (0).
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}, retention_days=10) as gateway:
        await set_retention(database_url, "acme", 1)
        await set_retention(database_url, "globex", 0)
        acme_done = await gateway.add_clip_job("acme")
        acme_running = await gateway.add_clip_job("acme", status="running")
        globex_done = await gateway.add_clip_job("globex")
        now = datetime.now(UTC)

        assert (await _sweeper(gateway, now + timedelta(hours=12)).sweep()).jobs == 0
        result = await _sweeper(gateway, now + timedelta(days=2)).sweep()
        assert (result.jobs, result.objects) == (1, 4)
        assert not await gateway.job_exists(acme_done)
        assert gateway.objects("acme", acme_done) == []
        # Unfinished jobs are never expired; a retention of 0 keeps the tenant's jobs for good.
        later = await _sweeper(gateway, now + timedelta(days=400)).sweep()
        assert later.jobs == 0
        assert await gateway.job_exists(acme_running)
        assert await gateway.job_exists(globex_done)
        assert len(gateway.objects("globex", globex_done)) == 4

        # Back to the default (10 days): globex's job goes after that.
        await set_retention(database_url, "globex", None)
        assert (await _sweeper(gateway, now + timedelta(days=9)).sweep()).jobs == 0
        assert (await _sweeper(gateway, now + timedelta(days=11)).sweep()).jobs == 1
        assert not await gateway.job_exists(globex_done)


async def test_a_default_retention_of_zero_keeps_everything(blob_gateway, tmp_path):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        assert gateway.settings.retention_days == 0
        job_id = await gateway.add_clip_job("acme")
        assert (await _sweeper(gateway, datetime.now(UTC) + timedelta(days=3650)).sweep()).jobs == 0
        assert await gateway.job_exists(job_id)


async def _orphans_removed(gateway) -> None:
    """An upload none of whose parts changed for orphan_upload_seconds goes; one still written to
    stays, however old its first part. (Real modification times: S3's have whole seconds.)"""
    blobs = gateway.blobs
    settings = gateway.settings.model_copy(update={"orphan_upload_seconds": 60})
    stale, busy = upload_prefix("acme", "stale-upload"), upload_prefix("globex", "busy-upload")
    started = datetime.now(UTC)
    for key in (f"{stale}/part-00001", f"{stale}/part-00002", f"{busy}/part-00001"):
        blobs.put_bytes(key, b"part")
    job_id = await gateway.add_clip_job("acme")

    def sweeper(seconds: float) -> RetentionSweeper:
        return RetentionSweeper(
            gateway.pool, blobs, settings, clock=lambda: started + timedelta(seconds=seconds)
        )

    assert (await sweeper(30).sweep()).uploads == 0  # nothing is a minute old yet
    await asyncio.sleep(2.2)
    blobs.put_bytes(f"{busy}/part-00002", b"part")
    assert (await sweeper(61.2).sweep()).uploads == 1
    assert blobs.list(stale) == []
    assert len(blobs.list(busy)) == 2
    assert len(gateway.objects("acme", job_id)) == 4  # jobs are not uploads


async def test_orphaned_uploads_are_removed_on_the_folder_backend(blob_gateway, tmp_path):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        await _orphans_removed(gateway)


async def test_orphaned_uploads_are_removed_on_s3(blob_gateway, s3_target):
    blob = {"blob_url": s3_target.url, "blob_options": s3_target.options, "blob_allow_http": True}
    async with blob_gateway(blob) as gateway:
        await _orphans_removed(gateway)


async def test_the_sweeper_runs_under_the_gateway_and_expires_jobs(blob_gateway, tmp_path, eventually):
    # A retention of a minute (in days), swept every 50 ms: the gateway's own sweeper removes the job.
    settings = {"retention_days": 1 / 1440, "retention_sweep_seconds": 0.05}
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}, **settings) as gateway:
        job_id = await gateway.add_clip_job("acme")
        async with gateway.pool.connection() as conn:
            await conn.execute("UPDATE jobs SET updated_at = now() - interval '2 minutes'")

        async def swept() -> bool:
            return not await gateway.job_exists(job_id)

        await eventually(swept, what="the retention sweeper to expire the job")
        ready = await gateway.client.get("/readyz")
        assert ready.json()["checks"]["retention"] == "ok"
        assert gateway.objects("acme", job_id) == []
        assert gateway.app.state.retention.swept.jobs == 1


async def test_deleting_a_job_does_not_hand_back_its_months_quota(blob_gateway, tmp_path):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}, quota_storage_bytes_per_month=1000) as gateway:
        job_id = await gateway.add_clip_job("acme")
        async with gateway.pool.connection() as conn:
            await conn.execute("UPDATE jobs SET stored_bytes = 900, media_seconds = 60")
        reply = await gateway.client.delete(f"/v1/jobs/{job_id}", headers=gateway.auth("acme"))
        assert reply.status_code == 204
        async with gateway.pool.connection() as conn, conn.transaction():
            with pytest.raises(QuotaExceeded, match="900 bytes uploaded this month"):
                await admit(conn, "acme", JobCost(stored_bytes=200), gateway.settings)
            await admit(conn, "globex", JobCost(stored_bytes=200), gateway.settings)  # another tenant's month


async def test_set_retention_refuses_an_unknown_tenant_and_negative_days(
    blob_gateway, tmp_path, database_url
):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}):
        with pytest.raises(InvalidArgument, match="no tenant 'initech'"):
            await set_retention(database_url, "initech", 5)
        with pytest.raises(InvalidArgument, match="must be 0"):
            await set_retention(database_url, "acme", -1)


async def test_the_gateways_sweeper_also_gives_up_expired_resumable_uploads(blob_gateway, tmp_path):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        created = await gateway.client.post(
            "/v1/uploads", json={"filename": "talk.mp4", "size": 1000}, headers=gateway.auth("acme")
        )
        assert created.status_code == 201, created.text
        upload_id = created.json()["id"]
        async with gateway.pool.connection() as conn:
            await conn.execute("UPDATE resumable_uploads SET expires_at = now() - interval '1 second'")
        assert (await gateway.app.state.retention.sweep()).aborted == 1
        status = await gateway.client.get(f"/v1/uploads/{upload_id}", headers=gateway.auth("acme"))
        assert status.json()["state"] == "aborted"
