"""crop_filter: ffmpeg itself evaluates the expressions, on an image whose pixels hold their own
coordinates, so the decoded top-left pixel of each cropped frame says where the window was."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import pytest

from video_svc.model import Box, CropKeyframe, CropPath, FaceSample
from video_svc.reframe import crop_at, crop_filter, plan_crop

if TYPE_CHECKING:
    from conftest import Media

FPS = 5


def coordinate_image(path: Path, width: int, height: int) -> Path:
    """R = x mod 256, G = y mod 256, B = x div 256 + 8 (y div 256): exact for up to 2048x8192."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x % 256, y % 256, x // 256 + 8 * (y // 256)], axis=-1).astype(np.uint8)
    cv2.imwrite(str(path), rgb[..., ::-1])  # OpenCV writes BGR
    return path


def window_corners(media: type[Media], image: Path, path: CropPath, seconds: float) -> np.ndarray:
    """(x, y) of the crop window in every frame of a ``seconds`` long, FPS frames/s video."""
    frames = round(seconds * FPS)
    # One decoded image repeated, with exact timestamps N / FPS for the crop's `t`.
    timed = f"loop=loop={frames - 1}:size=1:start=0,settb=1/{FPS},setpts=N"
    graph = f"{timed},{crop_filter(path)},crop=1:1:0:0,format=rgb24"
    raw = media.ffmpeg(
        *("-i", str(image), "-vf", graph, "-fps_mode", "passthrough"),
        *("-frames:v", str(frames), "-f", "rawvideo", "-"),
    )
    pixels = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(int)
    return np.stack(
        [pixels[:, 0] + 256 * (pixels[:, 2] % 8), pixels[:, 1] + 256 * (pixels[:, 2] // 8)], axis=1
    )


def expected_corners(path: CropPath, seconds: float) -> np.ndarray:
    return np.asarray(
        [(crop_at(path, t).x, crop_at(path, t).y) for t in np.arange(round(seconds * FPS)) / FPS]
    )


def depth(expression: str) -> int:
    level = deepest = 0
    for char in expression:
        level += {"(": 1, ")": -1}.get(char, 0)
        deepest = max(deepest, level)
    return deepest


@pytest.fixture(scope="module")
def landscape(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return coordinate_image(tmp_path_factory.mktemp("coords") / "landscape.png", 1280, 720)


def test_ninety_second_wandering_path_parses_and_interpolates(media: type[Media], landscape: Path) -> None:
    # A face swinging across the frame for 90 s keeps hundreds of keyframes alive: the worst case.
    samples = [
        FaceSample(t, (Box(580 + 450 * math.sin(1.3 * t), 300, 120, 120),))
        for t in np.arange(0.0, 90.01, 0.2)
    ]
    path = plan_crop(samples, 1280, 720, (9, 16), 0.0, 90.0)
    assert len(path.keyframes) > 300
    expression = crop_filter(path)
    assert depth(expression) < 40  # ffmpeg's parser gives up at about 100 nested primaries
    assert len(expression) < 30_000  # far below the 128 KiB limit on one command-line argument

    seen = window_corners(media, landscape, path, 90.0)
    wanted = expected_corners(path, 90.0)
    assert len(seen) == 90 * FPS
    # ffmpeg truncates to whole pixels, and dropped keyframes move the window by under a pixel.
    assert np.abs(seen - wanted).max() < 2.0
    assert seen[:, 1].max() == 0


def test_speaker_switch_is_a_cut_between_two_frames(media: type[Media], landscape: Path) -> None:
    path = CropPath(
        404,
        720,
        (CropKeyframe(0.0, 50.0, 0.0), CropKeyframe(2.999, 50.0, 0.0), CropKeyframe(3.0, 800.0, 0.0)),
    )
    seen = window_corners(media, landscape, path, 6.0)[:, 0]
    assert set(seen[: 3 * FPS]) == {50}
    assert set(seen[3 * FPS :]) == {800}


def test_vertical_movement_for_a_portrait_source(media: type[Media], tmp_path: Path) -> None:
    image = coordinate_image(tmp_path / "portrait.png", 720, 1280)
    samples = [FaceSample(t, (Box(300, 200 + 100 * t, 120, 120),)) for t in np.arange(0.0, 8.01, 0.2)]
    path = plan_crop(samples, 720, 1280, (16, 9), 0.0, 8.0)
    assert (path.width, path.height) == (720, 404)
    seen = window_corners(media, image, path, 8.0)
    assert np.abs(seen - expected_corners(path, 8.0)).max() < 2.0
    assert seen[-1, 1] - seen[0, 1] > 600  # it moved down with the face


def test_still_path_is_a_constant_filter() -> None:
    path = CropPath(404, 720, (CropKeyframe(0.0, 438.0, 0.0), CropKeyframe(5.0, 438.4, 0.0)))
    assert crop_filter(path) == "crop=404:720:'438':'0'"
