"""Long video to short clips through the public API, on the local runner."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from clipsift_testing.media import ffmpeg, still_video
from clipsift_testing.talk import SCRIPT, build_talk_video
from websockets.sync.client import connect

from .conftest import Platform

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.slow]
CLIP_QUERY = "count=2&min_seconds=8&max_seconds=20&aspect=9:16"


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_talk_video(tmp_path_factory.mktemp("talk"))


def _auth(platform: Platform) -> dict[str, str]:
    return {"Authorization": f"Bearer {platform.runtime['api_key']}"}


def upload(platform: Platform, video: Path, query: str = CLIP_QUERY) -> httpx.Response:
    with video.open("rb") as body:
        return httpx.post(
            f"{platform.runtime['gateway_url']}/v1/clips?{query}",
            content=body,
            headers={**_auth(platform), "Content-Type": "application/octet-stream"},
            timeout=120,
        )


def follow(platform: Platform, job_id: str) -> list[dict[str, Any]]:
    url = platform.runtime["gateway_url"].replace("http", "ws", 1) + f"/v1/jobs/{job_id}/events"
    with connect(url, additional_headers=_auth(platform), open_timeout=10, close_timeout=5) as ws:
        return [json.loads(raw) for raw in ws]


def ffprobe(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    return dict(json.loads(out))


def frame_at(path: Path, t: float, size: tuple[int, int]) -> np.ndarray:
    raw = subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-ss",
            f"{t:.2f}",
            "-i",
            str(path),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "bgr24",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(size[1], size[0], 3)


def srt_cues(text: str) -> list[tuple[float, float, str]]:
    stamp = r"(\d\d):(\d\d):(\d\d),(\d\d\d)"
    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.splitlines()
        match = re.fullmatch(f"{stamp} --> {stamp}", lines[1])
        assert lines[0].isdigit(), block
        assert match, block
        h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in match.groups())
        cues.append(
            (
                h1 * 3600 + m1 * 60 + s1 + ms1 / 1000,
                h2 * 3600 + m2 * 60 + s2 + ms2 / 1000,
                " ".join(lines[2:]),
            )
        )
    return cues


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def test_upload_progress_and_clips(clip_platform: Platform, talk: Path, tmp_path: Path) -> None:
    import cv2

    reply = upload(clip_platform, talk)
    assert reply.status_code == 202, reply.text
    job = reply.json()
    events = follow(clip_platform, job["id"])
    assert events[-1]["type"] == "completed", events[-1]
    steps = [e["step"] for e in events if e["type"] == "progress"]
    for step in ("probe", "extract_audio", "transcribe", "audio_features", "score", "render"):
        assert step in steps, steps
    progress = [e["progress"] for e in events if e["type"] == "progress"]
    assert progress == sorted(progress)

    base = clip_platform.runtime["gateway_url"]
    manifest = httpx.get(f"{base}/v1/jobs/{job['id']}/clips", headers=_auth(clip_platform), timeout=30).json()
    clips = manifest["clips"]
    assert len(clips) == 2
    assert manifest["language"] == "en"
    assert manifest["language_detected"] is True
    assert manifest["language_probability"] > 0.5
    assert (manifest["ranker"], manifest["warnings"]) == ("built-in", [])
    assert clips[0]["score"]["total"] >= clips[1]["score"]["total"]
    spoken = set(_words(" ".join(SCRIPT)))
    for clip in clips:
        assert 8 <= clip["duration"] <= 20
        assert (
            set(clip["score"]["components"])
            == set(clip["score"]["weights"])
            == {
                "substance",
                "specificity",
                "coherence",
                "self_contained",
                "fluency",
                "energy",
                "duration_fit",
            }
        )
        assert clip["score"]["reasons"]
        assert all(0 <= v <= 1 for v in clip["score"]["components"].values())
        assert clip["title"]
        assert clip["title"] in clip["transcript"]
        # Clips start and end on word boundaries: the first and last words span the whole clip.
        assert clip["words"][0]["start"] == pytest.approx(0.0, abs=0.05)
        assert clip["words"][-1]["end"] == pytest.approx(clip["duration"], abs=0.05)
        recognised = set(_words(clip["transcript"]))
        assert len(recognised & spoken) >= 0.8 * len(recognised)

        files = {}
        for name, url in clip["urls"].items():
            target = tmp_path / f"{clip['index']}-{name}"
            response = httpx.get(f"{base}{url}", headers=_auth(clip_platform), timeout=60)
            assert response.status_code == 200, response.text
            target.write_bytes(response.content)
            files[name] = target

        info = ffprobe(files["clip.mp4"])
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
        assert (video["codec_name"], audio["codec_name"]) == ("h264", "aac")
        assert (video["width"], video["height"]) == (360, 640)
        assert float(info["format"]["duration"]) == pytest.approx(clip["duration"], abs=0.25)
        data = files["clip.mp4"].read_bytes()
        assert data.find(b"moov") < data.find(b"mdat"), "not faststart"

        cues = srt_cues(files["clip.srt"].read_text(encoding="utf-8"))
        assert cues, "empty SRT"
        assert all(a < b for a, b, _ in cues)
        caption_words = _words(" ".join(text for _, _, text in cues))
        assert caption_words == _words(clip["transcript"])
        vtt = files["clip.vtt"].read_text(encoding="utf-8")
        assert vtt.startswith("WEBVTT")
        assert files["thumbnail.jpg"].read_bytes()[:2] == b"\xff\xd8"

        # The presenter's face stays inside the 9:16 crop while they pace the stage.
        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        seen = 0
        for t in np.linspace(0.5, clip["duration"] - 0.5, 5):
            gray = cv2.cvtColor(frame_at(files["clip.mp4"], float(t), (360, 640)), cv2.COLOR_BGR2GRAY)
            faces = cascade.detectMultiScale(gray, 1.1, 5, minSize=(40, 40))
            if len(faces):
                x, _, w, _ = max(faces, key=lambda f: f[2] * f[3])
                assert x >= 0
                assert x + w <= 360
                assert 0.2 * 360 < x + w / 2 < 0.8 * 360, f"face off-centre at {t:.1f}s"
                seen += 1
        assert seen >= 4, f"face visible in only {seen} of 5 sampled frames"


def test_bad_uploads_are_refused_at_the_door(clip_platform: Platform, talk: Path, tmp_path: Path) -> None:
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("these are meeting notes, not a video\n" * 100)
    reply = upload(clip_platform, not_video)
    assert reply.status_code == 400
    assert "not a readable media file" in reply.json()["detail"]

    silent_video = tmp_path / "no-audio.mp4"
    ffmpeg("-i", str(talk), "-an", "-c:v", "copy", str(silent_video))
    reply = upload(clip_platform, silent_video)
    assert reply.status_code == 400
    assert "no audio track" in reply.json()["detail"]

    audio_only = tmp_path / "audio.m4a"
    ffmpeg("-i", str(talk), "-vn", "-c:a", "copy", str(audio_only))
    reply = upload(clip_platform, audio_only)
    assert reply.status_code == 400
    assert "no video stream" in reply.json()["detail"]

    long_video = tmp_path / "long.mp4"
    still_video(long_video, 400, colour="black", size="64x64", fps=5)
    reply = upload(clip_platform, long_video)
    assert reply.status_code == 413
    assert "the limit is 300s" in reply.json()["detail"]

    ffv1 = tmp_path / "archive.mkv"
    ffmpeg("-i", str(talk), "-t", "3", "-c:v", "ffv1", "-c:a", "copy", str(ffv1))
    reply = upload(clip_platform, ffv1)
    assert reply.status_code == 400
    assert "unsupported video codec 'ffv1'" in reply.json()["detail"]

    reply = upload(clip_platform, talk, "count=2&min_seconds=30&max_seconds=10")
    assert reply.status_code == 400
    assert "min_seconds" in reply.json()["detail"]

    # Nothing was kept of any refused upload.
    jobs = f"tenants/{clip_platform.runtime['tenant']}/jobs/"
    listed = httpx.get(
        f"{clip_platform.runtime['gateway_url']}/v1/jobs?limit=500", headers=_auth(clip_platform)
    )
    kept = {j["id"] for j in listed.json()["jobs"]}
    stored = {blob.key.removeprefix(jobs).split("/")[0] for blob in clip_platform.blobs.list(jobs)}
    assert stored <= kept


def test_bad_videos_fail_the_job_with_a_reason(clip_platform: Platform, talk: Path, tmp_path: Path) -> None:
    silence = tmp_path / "silence.mp4"
    still_video(silence, 20)
    truncated = tmp_path / "truncated.mp4"
    data = talk.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])  # faststart: the header survives, the media does not
    for video, reason in ((silence, "no speech"), (truncated, "truncated")):
        reply = upload(clip_platform, video)
        if reply.status_code == 400:  # refused at the door is as good as a failed job
            assert reason in reply.json()["detail"] or "not a readable" in reply.json()["detail"]
            continue
        assert reply.status_code == 202, reply.text
        events = follow(clip_platform, reply.json()["id"])
        assert events[-1]["type"] == "failed"
        assert reason in events[-1]["message"], events[-1]["message"]
        manifest = httpx.get(
            f"{clip_platform.runtime['gateway_url']}/v1/jobs/{reply.json()['id']}/clips",
            headers=_auth(clip_platform),
        )
        assert manifest.status_code == 409
        assert clip_platform.job_keys(reply.json()["id"]) == ["source.video"]  # no clip, no manifest


def test_video_worker_killed_mid_job_is_redelivered(clip_platform: Platform, talk: Path) -> None:
    reply = upload(clip_platform, talk, "count=1&min_seconds=8&max_seconds=20")
    assert reply.status_code == 202
    job_id = reply.json()["id"]
    video_pid = clip_platform.runtime["services"]["video"]["pid"]
    base = clip_platform.runtime["gateway_url"]
    deadline = time.monotonic() + 60
    while httpx.get(f"{base}/v1/jobs/{job_id}", headers=_auth(clip_platform)).json()["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    os.kill(video_pid, signal.SIGKILL)
    events = follow(clip_platform, job_id)
    assert events[-1]["type"] == "completed", events[-1]
    assert max(e["attempt"] for e in events) == 2
    assert clip_platform.runtime["services"]["video"]["pid"] != video_pid
    clips = [key for key in clip_platform.job_keys(job_id) if key.startswith("clips/")]
    assert {key.split("/")[1] for key in clips} == {"01", "manifest.json"}
    assert not (clip_platform.home / "scratch" / "work" / job_id).exists()


def test_a_server_path_under_an_allowed_root_is_clipped_in_place(clip_platform: Platform, talk: Path) -> None:
    base = clip_platform.runtime["gateway_url"]

    def submit(path: str) -> httpx.Response:
        return httpx.post(
            f"{base}/v1/clips?count=1&min_seconds=8&max_seconds=20",
            json={"path": path},
            headers=_auth(clip_platform),
            timeout=60,
        )

    refused = submit("/etc/passwd")
    assert refused.status_code == 400
    assert "outside the paths this server may read" in refused.json()["detail"]
    assert submit(str(talk.parent / "missing.mp4")).status_code == 404

    reply = submit(str(talk))
    assert reply.status_code == 202, reply.text
    events = follow(clip_platform, reply.json()["id"])
    assert events[-1]["type"] == "completed", events[-1]
    manifest = httpx.get(f"{base}/v1/jobs/{reply.json()['id']}/clips", headers=_auth(clip_platform)).json()
    assert len(manifest["clips"]) == 1
    assert talk.exists()  # the source is read in place, never moved or deleted
