"""Resumable uploads through the gateway (``gateway`` transport) on the folder backend and on a
real S3 server (SeaweedFS): parts in any order, resume from what the store holds, completion
visible only when whole, bytes identical; every refusal (other tenant, wrong part, incomplete,
over the limits) with its status and a message that says what is wrong."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from clipsift_testing.object_stores import ObjectStoreTarget
from clipsift_testing.resumable import Gateway, MiB, blob_fields, parts_of, random_bytes, running_gateway

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway(nats_url: str, database_url: str, tmp_path: Path) -> AsyncIterator[Gateway]:
    async with running_gateway(nats_url, database_url, blob_fields(tmp_path, None)) as running:
        yield running


async def _round_trip(gateway: Gateway, data: bytes, transport: str = "gateway") -> dict[str, object]:
    upload = await gateway.create(len(data), transport=transport)
    assert upload["transport"] == "gateway"
    assert upload["part_size"] == 5 * MiB
    parts = parts_of(data, upload["part_size"])
    assert upload["part_count"] == len(parts)
    # Out of order, the last (short) part first: order is the part numbers', not arrival's.
    for number in sorted(range(1, len(parts) + 1), key=lambda n: -n):
        reply = await gateway.put_part(upload["id"], number, parts[number - 1])
        assert reply.status_code == 200, reply.text
        assert reply.json() == {"number": number, "size": len(parts[number - 1])}
    done = await gateway.complete(upload["id"])
    assert done.status_code == 200, done.text
    assert done.json()["size"] == len(data)
    key = done.json()["object_key"]
    assert key == f"tenants/acme/uploads/{upload['id']}/object"
    assert gateway.blobs.read_bytes(key) == data
    # The parts are gone once joined: only the object is left under the upload.
    assert [b.key for b in gateway.blobs.list(f"tenants/acme/uploads/{upload['id']}")] == [key]
    return dict(done.json())


async def test_folder_round_trip_is_byte_identical(gateway: Gateway) -> None:
    await _round_trip(gateway, random_bytes(12 * MiB + 12345))


async def test_resume_sends_only_the_missing_parts(gateway: Gateway) -> None:
    data = random_bytes(16 * MiB + 1)
    upload = await gateway.create(len(data))
    parts = parts_of(data, upload["part_size"])
    for number in (1, 3):
        assert (await gateway.put_part(upload["id"], number, parts[number - 1])).status_code == 200
    # "Interrupted": a new client asks what the store holds.
    listed = (await gateway.status(upload["id"])).json()
    assert listed["state"] == "open"
    assert [(p["number"], p["size"]) for p in listed["parts"]] == [(1, 5 * MiB), (3, 5 * MiB)]
    early = await gateway.complete(upload["id"])
    assert early.status_code == 400
    assert "2 parts missing: 2, 4" in early.json()["detail"]
    for number in (2, 4):
        assert (await gateway.put_part(upload["id"], number, parts[number - 1])).status_code == 200
    done = await gateway.complete(upload["id"])
    assert done.status_code == 200, done.text
    assert gateway.blobs.read_bytes(done.json()["object_key"]) == data
    # Completing again (a client that lost the first reply) answers the same.
    again = await gateway.complete(upload["id"])
    assert again.json() == done.json()
    finished = (await gateway.status(upload["id"])).json()
    assert finished["state"] == "complete"
    assert finished["object_key"] == done.json()["object_key"]


async def test_wrong_parts_are_refused_and_not_kept(gateway: Gateway) -> None:
    data = random_bytes(11 * MiB)
    upload = await gateway.create(len(data))
    upload_id = upload["id"]
    short = await gateway.put_part(upload_id, 1, data[: 5 * MiB - 1])
    assert short.status_code == 400
    assert "part 1 must be 5242880 bytes" in short.json()["detail"]
    last_too_long = await gateway.put_part(upload_id, 3, data[: 2 * MiB])
    assert last_too_long.status_code == 400
    assert f"part 3 must be {1 * MiB} bytes" in last_too_long.json()["detail"]
    beyond = await gateway.put_part(upload_id, 4, data[: 1 * MiB])
    assert beyond.status_code == 400
    assert "part number 4 is outside 1..3" in beyond.json()["detail"]
    assert (await gateway.put_part(upload_id, 0, b"x")).status_code == 422
    # Over the largest part any upload may have: 413 at the edge, before the route reads it.
    huge = await gateway.put_part(upload_id, 1, b"\0" * (5 * MiB + 1))
    assert huge.status_code in {400, 413}
    assert (await gateway.status(upload_id)).json()["parts"] == []
    assert gateway.blobs.list(f"tenants/acme/uploads/{upload_id}") == []


async def test_declared_sizes_and_transports_are_checked(gateway: Gateway) -> None:
    too_big = await gateway.client.post(
        "/v1/uploads", json={"filename": "x.mp4", "size": 64 * MiB + 1}, headers=gateway.auth()
    )
    assert too_big.status_code == 413
    assert "exceeds the limit of 67108864" in too_big.json()["detail"]
    empty = await gateway.client.post(
        "/v1/uploads", json={"filename": "x", "size": 0}, headers=gateway.auth()
    )
    assert empty.status_code == 422
    presigned = await gateway.client.post(
        "/v1/uploads", json={"filename": "x", "size": 10, "transport": "presigned"}, headers=gateway.auth()
    )
    assert presigned.status_code == 400
    assert "presigned needs an S3 blob store" in presigned.json()["detail"]
    no_key = await gateway.client.post("/v1/uploads", json={"filename": "x", "size": 10})
    assert no_key.status_code == 401


async def test_another_tenants_upload_does_not_exist_for_it(gateway: Gateway) -> None:
    data = random_bytes(6 * MiB)
    upload = await gateway.create(len(data))
    upload_id = upload["id"]
    assert (await gateway.status(upload_id, who="globex")).status_code == 404
    assert (await gateway.put_part(upload_id, 1, data[: 5 * MiB], who="globex")).status_code == 404
    assert (await gateway.complete(upload_id, who="globex")).status_code == 404
    delete = await gateway.client.delete(f"/v1/uploads/{upload_id}", headers=gateway.auth("globex"))
    assert delete.status_code == 404
    assert (await gateway.status("not-a-uuid")).status_code == 422
    for number, part in enumerate(parts_of(data, 5 * MiB), 1):
        assert (await gateway.put_part(upload_id, number, part)).status_code == 200
    done = await gateway.complete(upload_id)
    # A job from it: the other tenant is told there is no such upload.
    job = await gateway.client.post(
        "/v1/clips", json={"upload_id": upload_id}, headers=gateway.auth("globex")
    )
    assert job.status_code == 404
    assert gateway.blobs.read_bytes(done.json()["object_key"]) == data


async def test_a_job_needs_a_complete_upload(gateway: Gateway) -> None:
    upload = await gateway.create(10)
    job = await gateway.client.post("/v1/clips", json={"upload_id": upload["id"]}, headers=gateway.auth())
    assert job.status_code == 409
    assert "complete it first" in job.json()["detail"]


async def test_abort_removes_the_parts(gateway: Gateway) -> None:
    data = random_bytes(7 * MiB)
    upload = await gateway.create(len(data))
    assert (await gateway.put_part(upload["id"], 1, data[: 5 * MiB])).status_code == 200
    reply = await gateway.client.delete(f"/v1/uploads/{upload['id']}", headers=gateway.auth())
    assert reply.status_code == 204
    assert gateway.blobs.list(f"tenants/acme/uploads/{upload['id']}") == []
    assert (await gateway.status(upload["id"])).json()["state"] == "aborted"
    late = await gateway.put_part(upload["id"], 2, data[5 * MiB :])
    assert late.status_code == 409


async def test_gateway_transport_on_s3(
    nats_url: str, database_url: str, tmp_path: Path, s3_target: ObjectStoreTarget
) -> None:
    async with running_gateway(nats_url, database_url, blob_fields(tmp_path, s3_target)) as gateway:
        await _round_trip(gateway, random_bytes(11 * MiB + 3), transport="gateway")


async def test_presigned_parts_go_straight_to_s3(
    nats_url: str, database_url: str, tmp_path: Path, s3_target: ObjectStoreTarget
) -> None:
    data = random_bytes(13 * MiB + 77)
    # Clients reach the server by another name than the gateway does: the URLs say that one.
    public = s3_target.options["aws_endpoint"].replace("127.0.0.1", "localhost")
    blobs = blob_fields(tmp_path, s3_target)
    async with running_gateway(nats_url, database_url, blobs, upload_presign_endpoint=public) as gateway:
        upload = await gateway.create(len(data))
        assert upload["transport"] == "presigned"
        upload_id = upload["id"]
        parts = parts_of(data, upload["part_size"])
        reply = await gateway.client.post(
            f"/v1/uploads/{upload_id}/parts", json={"numbers": [3, 1]}, headers=gateway.auth()
        )
        assert reply.status_code == 200, reply.text
        urls = {u["number"]: u["url"] for u in reply.json()["urls"]}
        assert sorted(urls) == [1, 3]
        assert all(url.startswith(f"{public}/") for url in urls.values())
        etags = {}
        # Straight to SeaweedFS, no gateway key: the signature is the credential.
        async with httpx.AsyncClient(timeout=60) as s3:
            for number in (1, 3):
                put = await s3.put(urls[number], content=parts[number - 1])
                assert put.status_code == 200, put.text
                etags[number] = put.headers["etag"]
            tampered = await s3.put(urls[1].replace("partNumber=1", "partNumber=2"), content=parts[1])
            assert tampered.status_code == 403
            # Interrupted: the gateway asks S3 (ListParts) which parts it holds.
            listed = (await gateway.status(upload_id)).json()
            assert [(p["number"], p["size"], p["etag"]) for p in listed["parts"]] == [
                (1, 5 * MiB, etags[1]),
                (3, len(parts[2]), etags[3]),
            ]
            missing = await gateway.complete(upload_id)
            assert missing.status_code == 400
            assert "parts missing: 2" in missing.json()["detail"]
            assert not gateway.blobs.exists(f"tenants/acme/uploads/{upload_id}/object")
            reply = await gateway.client.post(
                f"/v1/uploads/{upload_id}/parts", json={"numbers": [2]}, headers=gateway.auth()
            )
            put = await s3.put(reply.json()["urls"][0]["url"], content=parts[1])
            etags[2] = put.headers["etag"]
        wrong = await gateway.complete(upload_id, parts=[{"number": 1, "etag": '"0000"'}])
        assert wrong.status_code == 400
        claimed = [{"number": n, "etag": etags[n]} for n in (1, 2, 3)]
        done = await gateway.complete(upload_id, parts=claimed)
        assert done.status_code == 200, done.text
        assert done.json()["size"] == len(data)
        assert gateway.blobs.read_bytes(done.json()["object_key"]) == data
        other = await gateway.client.post(
            f"/v1/uploads/{upload_id}/parts", json={"numbers": [1]}, headers=gateway.auth("globex")
        )
        assert other.status_code == 404


async def test_abort_on_s3_drops_the_multipart_upload(
    nats_url: str, database_url: str, tmp_path: Path, s3_target: ObjectStoreTarget
) -> None:
    async with running_gateway(nats_url, database_url, blob_fields(tmp_path, s3_target)) as gateway:
        upload = await gateway.create(6 * MiB)
        reply = await gateway.client.post(
            f"/v1/uploads/{upload['id']}/parts", json={"numbers": [1]}, headers=gateway.auth()
        )
        async with httpx.AsyncClient(timeout=60) as s3:
            assert (await s3.put(reply.json()["urls"][0]["url"], content=b"\1" * 5 * MiB)).status_code == 200
        deleted = await gateway.client.delete(f"/v1/uploads/{upload['id']}", headers=gateway.auth())
        assert deleted.status_code == 204
        multipart = gateway.app.state.s3_multipart
        uploads = multipart.client.list_multipart_uploads(Bucket=multipart.bucket, Prefix=multipart.prefix)
        assert uploads.get("Uploads", []) == []


async def test_clip_and_analysis_jobs_from_uploads(nats_url: str, database_url: str, tmp_path: Path) -> None:
    from clipsift_testing.media import still_video

    from video_svc.settings import VideoSettings
    from video_svc.wiring import build as build_video

    blobs = blob_fields(tmp_path, None)
    video = await build_video(
        VideoSettings(
            grpc_port=0,
            grpc_host="127.0.0.1",
            grpc_grace_seconds=0,
            nats_url=nats_url,
            database_url=database_url,
            audio_target="127.0.0.1:1",
            vision_target="127.0.0.1:1",
            job_workers=False,
            **blobs,
        )
    )
    await video.start()
    data = still_video(tmp_path / "talk.mp4", 20).read_bytes()
    try:
        async with running_gateway(nats_url, database_url, blobs, f"127.0.0.1:{video.port}") as gateway:
            junk = await gateway.create(1000)
            assert (await gateway.put_part(junk["id"], 1, b"\7" * 1000)).status_code == 200
            await gateway.complete(junk["id"])
            refused = await gateway.client.post(
                "/v1/clips", json={"upload_id": junk["id"]}, headers=gateway.auth()
            )
            assert refused.status_code == 400, refused.text
            # Not a video: refused, and the upload is still there to be used or removed.
            assert (await gateway.status(junk["id"])).json()["state"] == "complete"

            upload = await gateway.create(len(data))
            assert (await gateway.put_part(upload["id"], 1, data)).status_code == 200
            done = (await gateway.complete(upload["id"])).json()
            reply = await gateway.client.post(
                "/v1/clips", json={"upload_id": upload["id"]}, params={"count": 1}, headers=gateway.auth()
            )
            assert reply.status_code == 202, reply.text
            job_id = reply.json()["id"]
            source = f"tenants/acme/jobs/{job_id}/source.video"
            assert gateway.blobs.read_bytes(source) == data
            assert not gateway.blobs.exists(done["object_key"])
            async with gateway.app.state.pool.connection() as conn:
                row = await (
                    await conn.execute("SELECT options FROM jobs WHERE id = %s", (job_id,))
                ).fetchone()
            assert row is not None
            assert row[0]["source_key"] == source
            view = (await gateway.status(upload["id"])).json()
            assert (view["state"], view["job_id"]) == ("used", job_id)
            again = await gateway.client.post(
                "/v1/clips", json={"upload_id": upload["id"]}, headers=gateway.auth()
            )
            assert again.status_code == 409
            assert "already became job" in again.json()["detail"]

            second = await gateway.create(len(data))
            assert (await gateway.put_part(second["id"], 1, data)).status_code == 200
            await gateway.complete(second["id"])
            analysis = await gateway.client.post(
                "/v1/videos/analyze", json={"upload_id": second["id"]}, headers=gateway.auth()
            )
            assert analysis.status_code == 202, analysis.text
            assert gateway.blobs.exists(f"tenants/acme/jobs/{analysis.json()['id']}/source.video")
    finally:
        await video.stop(drain=False)


async def test_expired_uploads_are_aborted(
    nats_url: str, database_url: str, tmp_path: Path, s3_target: ObjectStoreTarget
) -> None:
    from gateway_svc.resumable_transfer import Transfers, abort_expired

    async with running_gateway(nats_url, database_url, blob_fields(tmp_path, s3_target)) as gateway:
        stale = await gateway.create(6 * MiB)
        fresh = await gateway.create(6 * MiB)
        reply = await gateway.client.post(
            f"/v1/uploads/{stale['id']}/parts", json={"numbers": [1]}, headers=gateway.auth()
        )
        async with httpx.AsyncClient(timeout=60) as s3:
            assert (await s3.put(reply.json()["urls"][0]["url"], content=b"\1" * 5 * MiB)).status_code == 200
        pool = gateway.app.state.pool
        async with pool.connection() as conn:
            await conn.execute(
                "UPDATE resumable_uploads SET expires_at = now() - interval '1 second' WHERE id = %s",
                (stale["id"],),
            )
        assert (await gateway.put_part(stale["id"], 2, b"\2" * MiB)).status_code == 409
        assert await abort_expired(pool, Transfers.of(gateway.app.state)) == 1
        assert (await gateway.status(stale["id"])).json()["state"] == "aborted"
        assert (await gateway.status(fresh["id"])).json()["state"] == "open"
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT backend_upload_id FROM resumable_uploads WHERE id = %s", (fresh["id"],)
            )
            row = await cur.fetchone()
        assert row is not None
        multipart = gateway.app.state.s3_multipart
        listed = multipart.client.list_multipart_uploads(Bucket=multipart.bucket, Prefix=multipart.prefix)
        assert [u["UploadId"] for u in listed.get("Uploads", [])] == [row[0]]
