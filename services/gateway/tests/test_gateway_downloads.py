"""Job files out of the blob store: streamed with Range on the folder backend, a 307 to a signed URL
on S3 (a real SeaweedFS server), and never another tenant's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import uvicorn

from clipsift_cli.client import ApiError, Client
from clipsift_common.blobkeys import job_prefix

pytestmark = pytest.mark.integration

# The clip's bytes: 256 distinct values 40 times over, then "end".
CLIP_BYTES = 256 * 40 + 3


def _clip_url(job_id: str, name: str = "clip.mp4") -> str:
    return f"/v1/jobs/{job_id}/clips/0/{name}"


async def test_a_clip_file_streams_whole_with_its_length_and_range_support(blob_gateway, tmp_path):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        job_id = await gateway.add_clip_job("acme")
        listed = await gateway.client.get(f"/v1/jobs/{job_id}/clips", headers=gateway.auth("acme"))
        assert listed.status_code == 200, listed.text
        assert listed.json()["clips"][0]["urls"]["clip.mp4"] == _clip_url(job_id)

        reply = await gateway.client.get(_clip_url(job_id), headers=gateway.auth("acme"))
        assert reply.status_code == 200, reply.text
        assert reply.content == gateway.clip
        assert reply.headers["content-type"] == "video/mp4"
        assert reply.headers["content-length"] == str(len(gateway.clip))
        assert reply.headers["accept-ranges"] == "bytes"
        assert reply.headers["content-disposition"].startswith(f'attachment; filename="{job_id[:8]}-clip0-')


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=10-19", 10, 20),
        ("bytes=10000-", 10000, CLIP_BYTES),
        ("bytes=-7", CLIP_BYTES - 7, CLIP_BYTES),
        ("bytes=100-999999", 100, CLIP_BYTES),  # an end past the file is cut to it
    ],
)
async def test_a_range_is_answered_206_with_exactly_those_bytes(blob_gateway, tmp_path, header, start, end):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        job_id = await gateway.add_clip_job("acme")
        reply = await gateway.client.get(_clip_url(job_id), headers={**gateway.auth("acme"), "Range": header})
        assert reply.status_code == 206, reply.text
        assert reply.content == gateway.clip[start:end]
        assert reply.headers["content-range"] == f"bytes {start}-{end - 1}/{len(gateway.clip)}"
        assert reply.headers["content-length"] == str(end - start)


async def test_a_range_past_the_end_is_416_and_an_odd_one_gets_the_whole_file(blob_gateway, tmp_path):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        job_id = await gateway.add_clip_job("acme")
        auth = gateway.auth("acme")
        past = await gateway.client.get(
            _clip_url(job_id), headers={**auth, "Range": f"bytes={len(gateway.clip)}-"}
        )
        assert past.status_code == 416
        assert past.headers["content-range"] == f"bytes */{len(gateway.clip)}"
        # Several ranges, or a unit other than bytes: RFC 9110 lets the whole file answer.
        for header in ("bytes=0-1,5-6", "items=0-1"):
            whole = await gateway.client.get(_clip_url(job_id), headers={**auth, "Range": header})
            assert whole.status_code == 200
            assert whole.content == gateway.clip


async def test_a_keyframe_streams_from_the_folder_backend(blob_gateway, tmp_path):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        job_id = await gateway.add_analysis_job("acme")
        reply = await gateway.client.get(f"/v1/jobs/{job_id}/keyframes/0", headers=gateway.auth("acme"))
        assert reply.status_code == 200, reply.text
        assert reply.content == gateway.keyframe
        assert reply.headers["content-type"] == "image/jpeg"
        missing = await gateway.client.get(f"/v1/jobs/{job_id}/keyframes/1", headers=gateway.auth("acme"))
        assert missing.status_code == 404


async def test_another_tenants_job_files_are_404(blob_gateway, tmp_path):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        clip_job = await gateway.add_clip_job("acme")
        analysis_job = await gateway.add_analysis_job("acme")
        for url in (
            _clip_url(clip_job),
            f"/v1/jobs/{clip_job}/clips",
            f"/v1/jobs/{analysis_job}/keyframes/0",
        ):
            reply = await gateway.client.get(url, headers=gateway.auth("globex"))
            assert reply.status_code == 404, (url, reply.text)
            assert "not found" in reply.json()["detail"]


async def test_a_manifest_cannot_lead_out_of_its_jobs_prefix(blob_gateway, tmp_path):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        victim = await gateway.add_clip_job("globex")
        # A manifest (written by a worker) naming a path that climbs into globex's job.
        escape = f"../../../globex/jobs/{victim}/clips/0/clip.mp4"
        job_id = await gateway.add_clip_job("acme", clip_file=escape)
        reply = await gateway.client.get(_clip_url(job_id), headers=gateway.auth("acme"))
        assert reply.status_code == 404
        assert gateway.clip not in reply.content


async def test_on_s3_a_download_is_a_redirect_to_a_signed_url_of_that_file(blob_gateway, s3_target):
    blob = {"blob_url": s3_target.url, "blob_options": s3_target.options, "blob_allow_http": True}
    async with blob_gateway(blob, download_url_seconds=120) as gateway:
        job_id = await gateway.add_clip_job("acme")
        reply = await gateway.client.get(_clip_url(job_id), headers=gateway.auth("acme"))
        assert reply.status_code == 307, reply.text
        assert reply.headers["cache-control"] == "private, no-store"
        location = reply.headers["location"]
        assert "X-Amz-Expires=120" in location
        async with httpx.AsyncClient() as outside:  # no key: the URL alone grants the file
            signed = await outside.get(location)
            assert signed.status_code == 200
            assert signed.content == gateway.clip
            ranged = await outside.get(location, headers={"Range": "bytes=10-19"})
            assert ranged.status_code == 206
            assert ranged.content == gateway.clip[10:20]
        captions = await gateway.client.get(_clip_url(job_id, "clip.srt"), headers=gateway.auth("acme"))
        assert captions.status_code == 307
        assert captions.headers["location"] != location
        keyframe_job = await gateway.add_analysis_job("acme")
        keyframe = await gateway.client.get(
            f"/v1/jobs/{keyframe_job}/keyframes/0", headers=gateway.auth("acme")
        )
        assert keyframe.status_code == 307
        async with httpx.AsyncClient() as outside:
            assert (await outside.get(keyframe.headers["location"])).content == gateway.keyframe


async def test_on_s3_a_client_confined_to_the_gateway_gets_the_bytes_with_ranges(blob_gateway, s3_target):
    # The web UI may fetch from its own origin only: ?redirect=false streams through the gateway.
    blob = {"blob_url": s3_target.url, "blob_options": s3_target.options, "blob_allow_http": True}
    async with blob_gateway(blob) as gateway:
        job_id = await gateway.add_clip_job("acme")
        whole = await gateway.client.get(_clip_url(job_id) + "?redirect=false", headers=gateway.auth("acme"))
        assert whole.status_code == 200, whole.text
        assert whole.content == gateway.clip
        ranged = await gateway.client.get(
            _clip_url(job_id) + "?redirect=false", headers={**gateway.auth("acme"), "Range": "bytes=5-9"}
        )
        assert ranged.status_code == 206
        assert ranged.content == gateway.clip[5:10]
        other = await gateway.client.get(
            _clip_url(job_id) + "?redirect=false", headers=gateway.auth("globex")
        )
        assert other.status_code == 404


async def test_on_s3_no_url_is_handed_for_another_tenants_job_and_none_can_be_retargeted(
    blob_gateway, s3_target
):
    blob = {"blob_url": s3_target.url, "blob_options": s3_target.options, "blob_allow_http": True}
    async with blob_gateway(blob) as gateway:
        acme_job = await gateway.add_clip_job("acme")
        globex_job = await gateway.add_clip_job("globex")
        refused = await gateway.client.get(_clip_url(globex_job), headers=gateway.auth("acme"))
        assert refused.status_code == 404
        assert "location" not in refused.headers
        location = (await gateway.client.get(_clip_url(acme_job), headers=gateway.auth("acme"))).headers[
            "location"
        ]
        # acme's signed URL pointed at globex's clip: the signature covers the path, the bucket refuses.
        parts = urlsplit(location)
        acme_path = f"{job_prefix('acme', acme_job)}/clips/0/clip.mp4"
        globex_path = f"{job_prefix('globex', globex_job)}/clips/0/clip.mp4"
        assert acme_path in parts.path
        retargeted = urlunsplit(parts._replace(path=parts.path.replace(acme_path, globex_path)))
        async with httpx.AsyncClient() as outside:
            assert (await outside.get(location)).status_code == 200
            stolen = await outside.get(retargeted)
        assert stolen.status_code == 403
        assert gateway.clip not in stolen.content


async def test_on_s3_an_expired_download_url_is_refused(blob_gateway, s3_target):
    blob = {"blob_url": s3_target.url, "blob_options": s3_target.options, "blob_allow_http": True}
    async with blob_gateway(blob, download_url_seconds=1) as gateway:
        job_id = await gateway.add_clip_job("acme")
        reply = await gateway.client.get(_clip_url(job_id), headers=gateway.auth("acme"))
        assert reply.status_code == 307
        await asyncio.sleep(2.5)
        async with httpx.AsyncClient() as outside:
            expired = await outside.get(reply.headers["location"])
        assert expired.status_code == 403
        assert gateway.clip not in expired.content


@contextlib.asynccontextmanager
async def _served(app) -> AsyncIterator[str]:
    """The app behind a real uvicorn server (its lifespan already runs): the CLI's client is sync."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)


@pytest.mark.parametrize("backend", ["folder", "s3"])
async def test_the_cli_downloads_through_the_redirect_and_deletes_the_job(
    blob_gateway, tmp_path, request, backend
):
    if backend == "s3":
        target = request.getfixturevalue("s3_target")
        blob = {"blob_url": target.url, "blob_options": target.options, "blob_allow_http": True}
    else:
        blob = {"blob_dir": tmp_path / "blobs"}
    async with blob_gateway(blob) as gateway, _served(gateway.app) as base_url:
        job_id = await gateway.add_clip_job("acme")
        client = Client(base_url, gateway.keys["acme"])
        clip = (await asyncio.to_thread(client.clips, job_id))["clips"][0]
        target_file = tmp_path / "clip.mp4"
        await asyncio.to_thread(client.download, clip["urls"]["clip.mp4"], target_file)
        assert target_file.read_bytes() == gateway.clip
        await asyncio.to_thread(client.delete_job, job_id)
        assert gateway.objects("acme", job_id) == []
        with pytest.raises(ApiError, match="404"):
            await asyncio.to_thread(client.job, job_id)
