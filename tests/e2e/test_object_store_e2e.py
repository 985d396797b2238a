"""The platform on a real S3 server: ``clipsift up --object-store s3`` starts SeaweedFS and points
every service at it; a video goes up resumably (parts straight to S3), is clipped, its clips come
back through the gateway and are deleted with the job; a corpus dedup job stores its input and result
in the bucket. Nothing lands in a local blob folder."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from clipsift_testing.talk import build_talk_video

from .conftest import Platform, start_platform, stop_platform
from .test_platform_e2e import check_corpus_job

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def s3_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    env = {
        "CLIPSIFT_NATS_URL": "",
        "CLIPSIFT_DATABASE_URL": "",
        "CLIPSIFT_OBJECT_STORE": "s3",
        "CLIPSIFT_VIDEO_OUTPUT_LONG_SIDE": "640",
        "CLIPSIFT_VIDEO_RENDER_PRESET": "ultrafast",
        "CLIPSIFT_GATEWAY_MAX_VIDEO_SECONDS": "300",
    }
    platform = start_platform(tmp_path_factory.mktemp("s3") / "home", env)
    yield platform
    if platform.process.poll() is None:
        assert stop_platform(platform) == 0


def _auth(platform: Platform) -> dict[str, str]:
    return {"Authorization": f"Bearer {platform.runtime['api_key']}"}


def test_the_platform_keeps_its_blobs_in_the_bucket(s3_platform: Platform) -> None:
    runtime = s3_platform.runtime
    assert runtime["object_store"] == "s3"
    assert runtime["blob_url"].startswith("s3://")
    assert "blob_dir" not in runtime
    assert not (s3_platform.home / "blobs").exists()


def test_a_video_uploaded_in_parts_is_clipped_on_s3_and_deleted_with_its_job(
    s3_platform: Platform, tmp_path: Path
) -> None:
    talk = build_talk_video(tmp_path)
    out = tmp_path / "clips"
    run = s3_platform.cli(
        "clip", str(talk), "--out", str(out), "--count", "2", "--min-seconds", "8", "--max-seconds", "20",
        "--resumable-above", "0", "--quiet", timeout=900,
    )  # fmt: skip
    job_id = re.search(r"job ([0-9a-f-]{36})", run.stderr + run.stdout)
    assert job_id, run.stderr
    job = job_id.group(1)
    keys = s3_platform.job_keys(job)
    assert "source.video" in keys
    assert "clips/manifest.json" in keys
    clips = sorted(out.glob("*.mp4"))
    assert len(clips) == 2, sorted(p.name for p in out.iterdir())
    # The files the CLI fetched are the bucket's objects, byte for byte.
    manifest = json.loads(s3_platform.blobs.read_bytes(f"tenants/local/jobs/{job}/clips/manifest.json"))
    stored = {
        s3_platform.blobs.size(f"tenants/local/jobs/{job}/{c['files']['clip.mp4']}")
        for c in manifest["clips"]
    }
    assert {p.stat().st_size for p in clips} == stored
    assert not any((s3_platform.home / "scratch" / "work").glob(f"{job}*"))

    base = s3_platform.runtime["gateway_url"]
    deleted = httpx.delete(f"{base}/v1/jobs/{job}", headers=_auth(s3_platform), timeout=60)
    assert deleted.status_code in (200, 204), deleted.text
    assert s3_platform.job_keys(job) == []
    assert httpx.get(f"{base}/v1/jobs/{job}", headers=_auth(s3_platform), timeout=10).status_code == 404


def test_a_corpus_dedup_job_runs_on_s3(s3_platform: Platform) -> None:
    check_corpus_job(s3_platform)
    stored = [blob.key for blob in s3_platform.blobs.list("tenants/acme/jobs")]
    assert any(key.endswith("/result.json") for key in stored), stored
