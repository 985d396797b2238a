"""Tenant buckets on a real S3 server (SeaweedFS, started once per session with fresh credentials):
registration checks the credentials, stores them encrypted and never returns them; a clip job from
a bucket object carries a signed URL that really fetches the object; other tenants, private
endpoints and options naming local files are refused."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from clipsift_testing.media import ffmpeg
from clipsift_testing.object_stores import ObjectStoreTarget
from cryptography.fernet import Fernet
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

from clipsift_common.objectstore import ObjectBlobStore
from gateway_svc.admin import create_key
from gateway_svc.bucket_access import AccessPolicy, check_endpoint
from gateway_svc.buckets import BucketCipher, rotate_bucket_secrets

from .conftest import Platform

SECRET_KEY = Fernet.generate_key().decode()
OPEN = {"bucket_secret_keys": [SECRET_KEY], "bucket_allow_private_endpoints": True, "bucket_allow_http": True}


async def _admin(platform: Platform, tenant: str) -> dict[str, str]:
    key = await create_key(platform.database_url, tenant, "bucket admin", False, role="admin")
    return {"Authorization": f"Bearer {key}"}


async def _put(bucket: ObjectBlobStore, key: str, data: bytes) -> None:
    """Write an object; a SeaweedFS just started answers 500 until its first volumes exist (it
    grows them on the first write), so the first seconds are retried."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return await asyncio.to_thread(bucket.put_bytes, key, data)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


def _video(folder: Path) -> bytes:
    """8 s of picture and sound: enough for the video service to probe through a signed URL."""
    path = folder / "talk.mp4"
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc2=s=160x90:r=5:d=8"),
        *("-f", "lavfi", "-i", "sine=frequency=300:duration=8"),
        *("-pix_fmt", "yuv420p", "-shortest", str(path)),
    )
    return path.read_bytes()


def _body(target: ObjectStoreTarget, name: str = "media", **changes: str) -> dict[str, Any]:
    return {"name": name, "url": target.url, "options": {**target.options, **changes}}


async def _row(platform: Platform, tenant: str, name: str) -> tuple[Any, ...]:
    pool: AsyncConnectionPool = platform.app.state.pool
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT url, public_options, secret_options FROM tenant_buckets "
            "WHERE tenant_id = %s AND name = %s",
            (tenant, name),
        )
        row = await cur.fetchone()
    assert row is not None
    return tuple(row)


@pytest.mark.gateway(**OPEN)
async def test_registration_stores_credentials_encrypted_and_never_returns_them(
    platform: Platform, s3_target: ObjectStoreTarget
) -> None:
    admin = await _admin(platform, "acme")
    secret = s3_target.options["aws_secret_access_key"]
    created = await platform.client.post("/v1/buckets", json=_body(s3_target), headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["url"] == s3_target.url
    assert created.json()["options"]["aws_endpoint"] == s3_target.options["aws_endpoint"]
    listed = await platform.client.get("/v1/buckets", headers=platform.auth("acme"))
    assert [b["name"] for b in listed.json()["buckets"]] == ["media"]
    for answer in (created, listed):
        assert secret not in answer.text
        assert s3_target.options["aws_access_key_id"] not in answer.text

    _url, public, token = await _row(platform, "acme", "media")
    assert secret.encode() not in bytes(token)
    assert "aws_secret_access_key" not in json.dumps(public)
    assert json.loads(Fernet(SECRET_KEY.encode()).decrypt(bytes(token)))["aws_secret_access_key"] == secret

    # Key rotation: a new key first, the rows re-encrypted, then the old key can go.
    new_key = Fernet.generate_key().decode()
    rotating = BucketCipher([SecretStr(new_key), SecretStr(SECRET_KEY)])
    pool: AsyncConnectionPool = platform.app.state.pool
    async with pool.connection() as conn:
        assert await rotate_bucket_secrets(conn, rotating) == 1
    _, _, rotated = await _row(platform, "acme", "media")
    assert BucketCipher([SecretStr(new_key)]).decrypt(bytes(rotated))["aws_secret_access_key"] == secret

    again = await platform.client.post("/v1/buckets", json=_body(s3_target), headers=admin)
    assert again.status_code == 409
    assert (await platform.client.get("/v1/buckets", headers=platform.auth("globex"))).json() == {
        "buckets": []
    }
    # Deleting needs buckets:admin too: an editor of the tenant may not.
    editor = await create_key(platform.database_url, "acme", "editor", False, role="editor")
    refused = await platform.client.delete("/v1/buckets/media", headers={"Authorization": f"Bearer {editor}"})
    assert refused.status_code == 403
    assert (await platform.client.delete("/v1/buckets/media", headers=admin)).status_code == 204
    assert (await platform.client.delete("/v1/buckets/media", headers=admin)).status_code == 404
    assert (await platform.client.get("/v1/buckets", headers=admin)).json() == {"buckets": []}


@pytest.mark.gateway(**OPEN)
async def test_bad_credentials_and_bad_requests_are_refused_and_nothing_is_stored(
    platform: Platform, s3_target: ObjectStoreTarget
) -> None:
    admin = await _admin(platform, "acme")
    post = platform.client.post
    wrong = await post(
        "/v1/buckets", json=_body(s3_target, aws_secret_access_key="not-the-secret"), headers=admin
    )
    assert wrong.status_code == 400, wrong.text
    assert "cannot list" in wrong.json()["detail"]
    missing = _body(s3_target) | {"url": f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}"}
    assert (await post("/v1/buckets", json=missing, headers=admin)).status_code == 400
    local = _body(s3_target) | {"url": "file:///etc"}
    assert "s3://" in (await post("/v1/buckets", json=local, headers=admin)).json()["detail"]
    # Options naming files on the gateway's machine, or none at all (the gateway's own identity).
    token_file = await post(
        "/v1/buckets", json=_body(s3_target, aws_web_identity_token_file="/x"), headers=admin
    )
    assert token_file.status_code == 400
    assert "not accepted" in token_file.json()["detail"]
    bare = {
        "name": "bare",
        "url": s3_target.url,
        "options": {"aws_endpoint": s3_target.options["aws_endpoint"]},
    }
    assert "aws_access_key_id" in (await post("/v1/buckets", json=bare, headers=admin)).json()["detail"]
    # Only a key with buckets:admin (the tenant's admins and owners) registers; an editor may not.
    editor = await create_key(platform.database_url, "acme", "editor", False, role="editor")
    plain = await post("/v1/buckets", json=_body(s3_target), headers={"Authorization": f"Bearer {editor}"})
    assert plain.status_code == 403
    assert "buckets:admin" in plain.json()["detail"]
    assert (await platform.client.get("/v1/buckets", headers=admin)).json() == {"buckets": []}


@pytest.mark.gateway(bucket_secret_keys=[SECRET_KEY], bucket_allow_http=True)
async def test_endpoints_on_private_addresses_are_refused(
    platform: Platform, s3_target: ObjectStoreTarget
) -> None:
    admin = await _admin(platform, "acme")
    answer = await platform.client.post("/v1/buckets", json=_body(s3_target), headers=admin)
    assert answer.status_code == 400, answer.text
    assert "private or local address" in answer.json()["detail"]
    metadata = _body(s3_target, aws_endpoint="http://169.254.169.254")
    assert (
        "private or local" in (await platform.client.post("/v1/buckets", json=metadata, headers=admin)).text
    )


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://127.0.0.1:9000",
        "http://10.1.2.3",
        "http://[::1]:80",
        "http://localhost",
        "http://[::ffff:10.0.0.1]",
    ],
)
async def test_private_endpoints_refused_without_the_setting(endpoint: str) -> None:
    with pytest.raises(Exception, match="private or local"):
        await check_endpoint("s3", {"aws_endpoint": endpoint}, AccessPolicy(allow_http=True))
    await check_endpoint("s3", {"aws_endpoint": endpoint}, AccessPolicy(allow_http=True, allow_private=True))
    with pytest.raises(Exception, match="https"):
        await check_endpoint("s3", {"aws_endpoint": endpoint}, AccessPolicy(allow_private=True))


@pytest.mark.gateway(**OPEN, max_video_upload_bytes=1_000_000)
async def test_clip_job_from_a_bucket_object_carries_a_working_signed_url(
    platform: Platform, s3_target: ObjectStoreTarget, tmp_path: Path
) -> None:
    video = _video(tmp_path)
    admin = await _admin(platform, "acme")
    assert (
        await platform.client.post("/v1/buckets", json=_body(s3_target), headers=admin)
    ).status_code == 201
    bucket = ObjectBlobStore(s3_target.url, s3_target.options, s3_target.client_options)
    await _put(bucket, "talks/talk.mp4", video)
    await _put(bucket, "talks/notes.mp4", b"not a video at all")
    await _put(bucket, "talks/huge.mp4", bytes(1_000_001))

    async def submit(who: str, source: str) -> httpx.Response:
        return await platform.client.post("/v1/clips", json={"source": source}, headers=platform.auth(who))

    queued = await submit("acme", "s3://media/talks/talk.mp4")
    assert queued.status_code == 202, queued.text
    options = await platform.job_options(queued.json()["id"])
    assert "source_key" not in options
    assert "source_path" not in options
    async with httpx.AsyncClient() as client:
        fetched = await client.get(options["source_url"])
    assert fetched.status_code == 200
    assert fetched.content == video
    assert options["duration"] == pytest.approx(8, abs=0.5)  # probed through the signed URL
    view = await platform.client.get(f"/v1/jobs/{queued.json()['id']}", headers=platform.auth("acme"))
    assert "source_url" not in view.json()["options"]
    assert "source_url" not in queued.json()["options"]
    # The bucket itself named (the key under the registered prefix) reaches the same object.
    bucket_ref = f"{s3_target.url}/talks/talk.mp4"
    assert (await submit("acme", bucket_ref)).status_code == 202

    assert (await submit("acme", "s3://media/talks/absent.mp4")).status_code == 404
    assert (await submit("acme", "s3://media/talks/notes.mp4")).status_code == 400
    assert (await submit("acme", "s3://media/talks/huge.mp4")).status_code == 413
    assert (await submit("acme", "s3://media/../etc/passwd")).status_code == 400
    # Another tenant names neither the registration nor the bucket behind it.
    assert (await submit("globex", "s3://media/talks/talk.mp4")).status_code == 404
    assert (await submit("globex", bucket_ref)).status_code == 404


@pytest.mark.gateway(max_video_upload_bytes=100_000)
async def test_without_secret_keys_buckets_cannot_be_registered(
    platform: Platform, s3_target: ObjectStoreTarget
) -> None:
    admin = await _admin(platform, "acme")
    answer = await platform.client.post("/v1/buckets", json=_body(s3_target), headers=admin)
    assert answer.status_code == 400
    assert "BUCKET_SECRET_KEYS" in answer.json()["detail"]


@pytest.mark.gateway(**OPEN)
async def test_azure_container_registration_and_a_job_from_it(
    platform: Platform, azure_target: ObjectStoreTarget, tmp_path: Path
) -> None:
    admin = await _admin(platform, "acme")
    wrong = _body(azure_target, "clips", azure_storage_account_key="d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=")
    assert (await platform.client.post("/v1/buckets", json=wrong, headers=admin)).status_code == 400
    created = await platform.client.post("/v1/buckets", json=_body(azure_target, "clips"), headers=admin)
    assert created.status_code == 201, created.text
    assert azure_target.options["azure_storage_account_key"] not in created.text
    video = _video(tmp_path)
    container = ObjectBlobStore(azure_target.url, azure_target.options, azure_target.client_options)
    await _put(container, "in/talk.mp4", video)
    queued = await platform.client.post(
        "/v1/clips", json={"source": "az://clips/in/talk.mp4"}, headers=platform.auth("acme")
    )
    assert queued.status_code == 202, queued.text
    options = await platform.job_options(queued.json()["id"])
    async with httpx.AsyncClient() as client:
        fetched = await client.get(options["source_url"])
    assert fetched.content == video
    # The scheme is part of the name: s3://clips is not the Azure container.
    other = await platform.client.post(
        "/v1/clips", json={"source": "s3://clips/in/talk.mp4"}, headers=platform.auth("acme")
    )
    assert other.status_code == 404
