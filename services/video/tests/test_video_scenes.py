"""Scene cuts found by PySceneDetect inside a clip's range."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from video_svc.scenes import scene_cuts


@pytest.fixture(scope="module")
def two_shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 s of a test pattern, then a hard cut to 4 s of a different scene (mandelbrot)."""
    out = tmp_path_factory.mktemp("scenes") / "two_shots.mp4"
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=4",
            "-f", "lavfi", "-i", "mandelbrot=s=320x180:r=25,trim=duration=4",
            "-filter_complex", "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]",
            "-c:v", "libx264", "-preset", "ultrafast", str(out),
        ],
        check=True,
    )  # fmt: skip
    return out


def test_hard_cut_is_found_at_its_time(two_shots: Path) -> None:
    cuts = scene_cuts(two_shots, 0.0, 8.0)
    assert len(cuts) == 1
    assert cuts[0] == pytest.approx(4.0, abs=0.1)


def test_cuts_outside_the_range_are_not_reported(two_shots: Path) -> None:
    assert scene_cuts(two_shots, 0.0, 3.5) == []
    assert scene_cuts(two_shots, 4.5, 8.0) == []
