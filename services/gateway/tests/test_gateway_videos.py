"""Video analysis and near-duplicate submissions: every video is probed by the real video service
before a job exists; bad input is a 4xx that says what is wrong and leaves nothing behind."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from clipsift_testing.media import ffmpeg

pytestmark = [pytest.mark.integration, pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no ffmpeg")]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("videos")
    ffmpeg(*("-f", "lavfi", "-i", "testsrc2=s=160x90:r=10:d=4"), "-pix_fmt", "yuv420p", str(folder / "v.mp4"))
    ffmpeg(*("-f", "lavfi", "-i", "sine=frequency=440:duration=2"), str(folder / "tone.wav"))
    return {"video": (folder / "v.mp4").read_bytes(), "audio": (folder / "tone.wav").read_bytes()}


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def _post(platform, url: str, body: bytes, content_type: str, **params):
    return await platform.client.post(
        url, content=body, headers={**platform.auth("acme"), "Content-Type": content_type}, params=params
    )


async def _assert_nothing_kept(platform) -> None:
    assert await platform.job_rows() == 0
    assert platform.leftover_files() == []


async def test_analysis_upload_is_probed_and_queued(platform, clips):
    response = await _post(platform, "/v1/videos/analyze", clips["video"], "video/mp4", language="en")
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["kind"] == "video_analysis"
    assert job["status"] == "queued"  # no video worker runs here


@pytest.mark.parametrize(
    ("which", "message"),
    [("junk", "not a readable media file"), ("audio", "the file has no video stream")],
)
async def test_analysis_of_a_file_that_is_not_a_video_is_400(platform, clips, which, message):
    body = b"this is plain text, not a video\n" * 10 if which == "junk" else clips["audio"]
    response = await _post(platform, "/v1/videos/analyze", body, "application/octet-stream")
    assert response.status_code == 400, response.text
    assert message in response.json()["detail"]
    await _assert_nothing_kept(platform)


@pytest.mark.gateway(max_video_seconds=2)
async def test_analysis_of_a_video_over_the_duration_limit_is_413(platform, clips):
    response = await _post(platform, "/v1/videos/analyze", clips["video"], "video/mp4")
    assert response.status_code == 413, response.text
    assert "lasts 4s; the limit is 2s" in response.json()["detail"]
    await _assert_nothing_kept(platform)


async def test_analysis_of_a_path_outside_the_allowed_roots_is_400(platform, tmp_path: Path):
    response = await platform.client.post(
        "/v1/videos/analyze", json={"path": str(tmp_path / "v.mp4")}, headers=platform.auth("acme")
    )
    assert response.status_code == 400, response.text
    assert "outside the paths this server may read" in response.json()["detail"]


async def test_duplicates_zip_is_unpacked_probed_and_queued(platform, clips):
    body = _zip({"a/one.mp4": clips["video"], "two.MP4": clips["video"], "notes.txt": b"ignored"})
    response = await _post(platform, "/v1/videos/duplicates", body, "application/zip", index="true")
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["kind"] == "video_dedup"
    assert job["status"] == "queued"
    assert platform.leftover_files() == [
        f"tenants/acme/jobs/{job['id']}/videos/0000.mp4",
        f"tenants/acme/jobs/{job['id']}/videos/0001.mp4",
    ]


BAD_SETS = {
    "one-video": (lambda c: _zip({"a.mp4": c["video"]}), "application/zip", "holds 1 video files"),
    "not-a-video-member": (
        lambda c: _zip({"a.mp4": c["video"], "b.mp4": b"not really a video"}),
        "application/zip",
        "b.mp4: not a readable media file",
    ),
    "audio-member": (
        lambda c: _zip({"a.mp4": c["video"], "b.mkv": c["audio"]}),
        "application/zip",
        "b.mkv: the file has no video stream",
    ),
    "not-a-zip": (lambda c: c["video"], "application/zip", "not a valid zip file"),
    "wrong-type": (lambda c: c["video"], "video/mp4", "unsupported content type 'video/mp4'"),
    "one-path": (lambda c: b'{"paths": ["/srv/a.mp4", "/srv/a.mp4"]}', "application/json", "at least 2"),
    "relative-paths": (lambda c: b'{"paths": ["a.mp4", "b.mp4"]}', "application/json", "absolute paths"),
    "paths-outside-roots": (
        lambda c: b'{"paths": ["/srv/a.mp4", "/srv/b.mp4"]}',
        "application/json",
        "outside the paths this server may read",
    ),
}


@pytest.mark.parametrize(("make", "content_type", "message"), BAD_SETS.values(), ids=BAD_SETS.keys())
async def test_bad_duplicate_sets_are_400_and_leave_nothing_behind(
    platform, clips, make, content_type, message
):
    response = await _post(platform, "/v1/videos/duplicates", make(clips), content_type)
    assert response.status_code == 400, response.text
    assert message in response.json()["detail"]
    await _assert_nothing_kept(platform)


@pytest.mark.gateway(max_dedup_videos=2)
async def test_too_many_videos_is_413(platform, clips):
    body = _zip({f"{n}.mp4": clips["video"] for n in range(3)})
    response = await _post(platform, "/v1/videos/duplicates", body, "application/zip")
    assert response.status_code == 413, response.text
    assert "holds 3 videos; the limit is 2" in response.json()["detail"]
    await _assert_nothing_kept(platform)


async def test_keyframes_of_an_unknown_job_are_404(platform):
    response = await platform.client.get(
        "/v1/jobs/00000000-0000-0000-0000-000000000000/keyframes/0", headers=platform.auth("acme")
    )
    assert response.status_code == 404
