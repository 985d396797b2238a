"""Video analysis and near-duplicate videos through the public API and the CLI, on the local runner."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from clipsift_testing.footage import derive, distinct_shots, render
from clipsift_testing.talk import build_talk_video

from .conftest import Platform, start_platform, stop_platform

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]
SECONDS = 12.0


@pytest.fixture(scope="module")
def video_platform(tmp_path_factory: pytest.TempPathFactory):
    env = {
        "CLIPSIFT_NATS_URL": "",
        "CLIPSIFT_DATABASE_URL": "",
        "CLIPSIFT_VIDEO_WORKER_ACK_WAIT_SECONDS": "10",
        "CLIPSIFT_GATEWAY_MAX_VIDEO_SECONDS": "300",
    }
    platform = start_platform(tmp_path_factory.mktemp("videos") / "home", env)
    yield platform
    if platform.process.poll() is None:
        stop_platform(platform)


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_talk_video(tmp_path_factory.mktemp("talk"), width=640, height=360)


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two distinct videos, a trimmed copy and a cropped + watermarked + re-encoded copy of the first."""
    folder = tmp_path_factory.mktemp("library")
    first = render(distinct_shots(0, SECONDS), folder / "first.mp4", size=(320, 180))
    render(distinct_shots(1, SECONDS), folder / "second.mp4", size=(320, 180))
    (folder / "copies").mkdir()
    derive(first, SECONDS, "trim", folder / "copies" / "first-trimmed.mp4")
    derive(first, SECONDS, "combined", folder / "copies" / "first-reworked.mp4")
    return folder


def _auth(platform: Platform) -> dict[str, str]:
    return {"Authorization": f"Bearer {platform.runtime['api_key']}"}


def _wait(platform: Platform, job_id: str, within: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        job = httpx.get(f"{platform.runtime['gateway_url']}/v1/jobs/{job_id}", headers=_auth(platform)).json()
        if job["status"] in ("completed", "failed"):
            return dict(job)
        time.sleep(0.5)
    pytest.fail(f"job {job_id} did not finish in {within}s")


def test_analyze_video_through_the_cli(video_platform: Platform, talk: Path, tmp_path: Path) -> None:
    out = tmp_path / "analysis"
    done = video_platform.cli("analyze", str(talk), "--out", str(out), "--quiet", timeout=400)
    assert "scenes" in done.stdout, done.stdout + done.stderr
    assert "top keyframes" in done.stdout
    result = json.loads((out / "analysis.json").read_text())
    assert result["source"]["width"] == 640
    assert len(result["scenes"]) >= 1
    assert result["scenes"][0]["start"] == 0.0
    assert result["scenes"][-1]["end"] == pytest.approx(result["source"]["duration"], abs=0.1)
    keyframes = result["keyframes"]
    assert len(keyframes) == len(result["scenes"])
    for keyframe in keyframes:
        image = out / f"keyframe{keyframe['index']:03d}.jpg"
        assert image.read_bytes()[:2] == b"\xff\xd8"  # a JPEG
        assert len(keyframe["phash"]) == len(keyframe["whash"]) == 16
        assert keyframe["colours"]
        # The vision service's full image analysis, per keyframe.
        assert keyframe["quality"]["exposure"] in {"ok", "underexposed", "overexposed"}
        assert isinstance(keyframe["objects"], list)
        assert isinstance(keyframe["text"], str)
    # The astronaut's face is in every frame of the talk: the vision service finds it.
    assert all(k["faces"] for k in keyframes), keyframes
    transcript = result["transcript"]
    assert transcript["words"] > 100
    assert "feedback" in transcript["text"].lower()
    assert 1 <= len(result["summary"]["transcript"]) <= 3
    assert result["summary"]["text"]
    assert set(result["summary"]["keyframes"]) <= {k["index"] for k in keyframes}


def test_analysis_of_a_silent_video_has_no_transcript(video_platform: Platform, library: Path) -> None:
    with (library / "second.mp4").open("rb") as body:
        reply = httpx.post(
            f"{video_platform.runtime['gateway_url']}/v1/videos/analyze",
            content=body,
            headers={**_auth(video_platform), "Content-Type": "video/mp4"},
            timeout=60,
        )
    assert reply.status_code == 202, reply.text
    job = _wait(video_platform, reply.json()["id"])
    assert job["status"] == "completed", job
    result = httpx.get(
        f"{video_platform.runtime['gateway_url']}/v1/jobs/{job['id']}/result", headers=_auth(video_platform)
    ).json()
    # Two shots, one cut at the middle.
    assert [round(s["start"]) for s in result["scenes"]] == [0, 6]
    assert result["transcript"]["words"] == 0
    assert result["transcript"]["note"] == "the video has no audio track"
    keyframe = httpx.get(
        f"{video_platform.runtime['gateway_url']}/v1/jobs/{job['id']}/keyframes/1",
        headers=_auth(video_platform),
    )
    assert keyframe.status_code == 200
    assert keyframe.headers["content-type"] == "image/jpeg"


def test_dedup_videos_finds_the_copies_with_their_time_ranges(
    video_platform: Platform, library: Path, tmp_path: Path
) -> None:
    done = video_platform.cli("dedup", "--videos", str(library), "--json", "--quiet", "--index", timeout=400)
    result = json.loads(done.stdout)
    assert {v["id"] for v in result["videos"]} == {
        "first.mp4",
        "second.mp4",
        "copies/first-trimmed.mp4",
        "copies/first-reworked.mp4",
    }
    near = {(p["a"], p["b"]) for p in result["pairs"] if p["near_duplicate"]}
    expected = {"first.mp4", "copies/first-trimmed.mp4", "copies/first-reworked.mp4"}
    assert all("second.mp4" not in pair for p in result["pairs"] for pair in [(p["a"], p["b"])])
    assert {x for pair in near for x in pair} == expected
    assert result["clusters"] == [sorted(expected)]
    trimmed = next(
        p for p in result["pairs"] if {p["a"], p["b"]} == {"first.mp4", "copies/first-trimmed.mp4"}
    )
    segment = trimmed["segments"][0]
    original_side = "a" if trimmed["a"] == "first.mp4" else "b"
    copy_side = "b" if original_side == "a" else "a"
    assert segment[f"{original_side}_start"] == pytest.approx(3.3, abs=0.6)
    assert segment[f"{copy_side}_start"] == pytest.approx(0.0, abs=0.6)

    # The set is now the tenant's index: a new copy alone is found against it.
    query = tmp_path / "query"
    query.mkdir()
    shutil.copy(library / "copies" / "first-trimmed.mp4", query / "again.mp4")
    shutil.copy(library / "second.mp4", query / "second-again.mp4")
    done = video_platform.cli(
        "dedup", "--videos", str(query), "--against-index", "--json", "--quiet", timeout=400
    )
    result = json.loads(done.stdout)
    assert result["indexed_videos_compared"] == 4
    indexed = {(p["a"], p["b"]) for p in result["pairs"] if p["b_indexed"] and p["near_duplicate"]}
    assert ("again.mp4", "first.mp4") in indexed
    assert ("second-again.mp4", "second.mp4") in indexed
    assert ("again.mp4", "second.mp4") not in indexed


def test_cli_refuses_a_folder_without_videos(video_platform: Platform, tmp_path: Path) -> None:
    (tmp_path / "only.txt").write_text("no videos here")
    done = video_platform.cli("dedup", "--videos", str(tmp_path), check=False)
    assert done.returncode == 2
    assert "holds 0 video files" in done.stderr


def test_cli_analyze_of_a_broken_video_says_why(video_platform: Platform, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    done = video_platform.cli("analyze", str(broken), check=False)
    assert done.returncode == 2
    assert "HTTP 400" in done.stderr
    assert "not a readable media file" in done.stderr
