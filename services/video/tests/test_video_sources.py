"""Where a job's video comes from: a tenant's blob (folder backend, real S3 server), a presigned
http(s) URL (a real local HTTP server), a server path; what is refused and what never leaks (the
URL's signature). Probe reads each kind without copying it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from clipsift.video.v1 import video_pb2
from clipsift_common.errors import InvalidArgument, NotFound, ResourceExhausted
from clipsift_common.objectstore import open_blob_store
from clipsift_common.worker import JobFailed
from video_svc.downloads import SourceUnavailable, download, redacted
from video_svc.servicer import VideoServicer
from video_svc.settings import VideoSettings
from video_svc.sources import SourceRef, job_source_ref, job_workspace, open_source

from .http_files import SIGNATURE, serve_files

SECRET = SIGNATURE.split("=", 1)[1]


def settings_for(tmp_path: Path, location: dict[str, Any], **overrides: Any) -> VideoSettings:
    return VideoSettings(
        nats_url="nats://unused",
        database_url="postgresql://unused",
        audio_target="unused:1",
        vision_target="unused:1",
        scratch_dir=tmp_path / "scratch",
        allowed_source_roots=(tmp_path / "allowed",),
        **location,
        **overrides,
    )


def same_bytes(a: Path, b: Path) -> bool:
    return a.read_bytes() == b.read_bytes()


async def use_source(settings: VideoSettings, ref: SourceRef) -> None:
    """Open ``ref`` in a job's workspace, as a job does, and do nothing with it."""
    async with (
        job_workspace(settings, "job-2") as work,
        open_source(open_blob_store(settings), settings, ref, work),
    ):
        pass


@pytest.fixture(params=["folder", "s3"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    if request.param == "folder":
        return {"blob_dir": tmp_path / "blobs"}
    target = request.getfixturevalue("s3_target")
    return {"blob_url": target.url, "blob_options": target.options, "blob_allow_http": True}


@pytest.fixture(scope="module")
def video(media: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return media.colour_video(tmp_path_factory.mktemp("video") / "colour.mp4", seconds=3.0)


def test_a_job_names_exactly_one_source_of_its_own_tenant() -> None:
    key = "tenants/acme/jobs/j1/source.video"
    assert job_source_ref({"source_key": key}, "acme") == SourceRef(blob_key=key)
    assert job_source_ref({"source_url": "https://b.example/v.mp4?sig=x"}, "acme").url
    with pytest.raises(JobFailed, match="not the tenant's"):
        job_source_ref({"source_key": key}, "other")
    with pytest.raises(JobFailed, match="exactly one"):
        job_source_ref({"source_key": key, "source_url": "https://b.example/v.mp4"}, "acme")
    with pytest.raises(JobFailed, match="exactly one"):
        job_source_ref({}, "acme")
    with pytest.raises(JobFailed, match="must be strings"):
        job_source_ref({"source_key": 3}, "acme")
    # What a URL source shows of itself in errors and logs: no signature, no credentials.
    shown = str(SourceRef(url=f"https://user:pw@b.example:8443/v.mp4?{SIGNATURE}"))
    assert shown == "https://b.example:8443/v.mp4"


async def test_a_url_source_is_streamed_to_disk(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    with serve_files({"big.bin": big}) as served:
        target = tmp_path / "scratch" / "copy"
        written = await download(served.url("big.bin"), target, max_bytes=10**8, timeout_seconds=30)
        assert written == big.stat().st_size
        assert target.read_bytes() == big.read_bytes()

        with pytest.raises(ResourceExhausted, match="limit is 1000000"):
            await download(served.url("big.bin"), target, max_bytes=1_000_000, timeout_seconds=30)
        assert not target.exists(), "a refused download leaves no partial file"


async def test_url_refusals_say_why_and_never_show_the_signature(tmp_path: Path) -> None:
    target = tmp_path / "copy"
    with serve_files({"v.mp4": tmp_path}) as served:
        served.fail["down.mp4"] = 503
        cases: list[tuple[str, type[Exception], str]] = [
            (served.url("v.mp4", "sig=expired"), InvalidArgument, "answered HTTP 403"),
            (served.url("gone.mp4"), InvalidArgument, "answered HTTP 404"),
            # A server failing is worth another attempt: not a ClipsiftError, so the job is retried.
            (served.url("down.mp4"), SourceUnavailable, "answered HTTP 503"),
            ("file:///etc/passwd", InvalidArgument, "must be http"),
            (f"http://127.0.0.1:1/v.mp4?{SIGNATURE}", SourceUnavailable, "cannot download"),
        ]
        for url, error, reason in cases:
            with pytest.raises(error, match=reason) as caught:
                await download(url, target, max_bytes=10**6, timeout_seconds=10)
            assert SECRET not in str(caught.value)
            assert not target.exists()
    assert redacted(served.url("v.mp4")) == f"{served.base}/v.mp4"


async def test_a_url_source_of_a_job_lives_in_its_workspace_and_goes_with_it(
    tmp_path: Path, video: Path
) -> None:
    settings = settings_for(tmp_path, {"blob_dir": tmp_path / "blobs"})
    blobs = open_blob_store(settings)
    with serve_files({"colour.mp4": video}) as served:
        async with job_workspace(settings, "job-1") as work:
            ref = SourceRef(url=served.url("colour.mp4"))
            async with open_source(blobs, settings, ref, work / "source") as path:
                assert path.is_relative_to(settings.scratch)
                assert same_bytes(path, video)
            assert not path.exists()
        refused = SourceRef(url=served.url("colour.mp4", "x"))
        with pytest.raises(JobFailed, match=r"cannot be read: .*answered HTTP 403"):
            await use_source(settings, refused)
    assert list(settings.scratch.rglob("*")) == [settings.scratch / "work"]


async def test_probe_reads_blobs_urls_and_paths_without_copying_them(
    tmp_path: Path, location: dict[str, Any], video: Path
) -> None:
    settings = settings_for(tmp_path, location)
    blobs = open_blob_store(settings)
    servicer = VideoServicer(settings, blobs)
    key = "tenants/acme/jobs/j1/source.video"
    blobs.put_file(key, video)
    (tmp_path / "allowed").mkdir()
    allowed = tmp_path / "allowed" / "v.mp4"
    shutil.copyfile(video, allowed)
    with serve_files({"colour.mp4": video}) as served:
        requests = [
            video_pb2.ProbeRequest(blob_key=key, require_audio=True),
            video_pb2.ProbeRequest(url=served.url("colour.mp4")),
            video_pb2.ProbeRequest(path=str(allowed)),
        ]
        for request in requests:
            info = await servicer.Probe(request, None)  # type: ignore[arg-type]
            assert info.duration == pytest.approx(3.0, abs=0.2)
            assert (info.width, info.height, info.video_codec) == (640, 360, "h264")
        assert served.requests, "ffprobe read the URL itself"

        with pytest.raises(InvalidArgument, match="not a readable media file") as caught:
            await servicer.Probe(video_pb2.ProbeRequest(url=served.url("colour.mp4", "sig=bad")), None)  # type: ignore[arg-type]
        assert SECRET not in str(caught.value)
    with pytest.raises(NotFound, match="not found"):
        await servicer.Probe(video_pb2.ProbeRequest(blob_key="tenants/acme/missing.mp4"), None)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="exactly one"):
        await servicer.Probe(video_pb2.ProbeRequest(), None)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="must be http"):
        await servicer.Probe(video_pb2.ProbeRequest(url="file:///etc/passwd"), None)  # type: ignore[arg-type]
    # Nothing was copied into scratch to be probed.
    assert not [p for p in settings.scratch.rglob("*") if p.is_file()]
