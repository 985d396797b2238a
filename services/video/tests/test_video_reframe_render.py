"""End to end on real pixels: a face (scikit-image's astronaut) glides across a 1280x720 frame;
OpenCV's Haar cascade stands in for the vision service; the planned 9:16 clip is rendered at
720x1280 and the face must stay in the picture."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from video_svc.model import Box, CropPath, FaceSample, KeepRange
from video_svc.reframe import plan_crop
from video_svc.render import render_clip

if TYPE_CHECKING:
    from conftest import Media

skimage_data = pytest.importorskip("skimage.data")

SECONDS = 6.0
SPEED = 100  # px/s across the source
OUT_W, OUT_H = 720, 1280

pytestmark = pytest.mark.slow


CASCADE = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))


def detect_faces(
    frame: npt.NDArray[np.uint8], sizes: tuple[int, int], neighbours: int
) -> list[tuple[int, int, int, int]]:
    """Haar detections (x, y, w, h); the size bounds keep it fast and off the spacesuit's patches."""
    low, high = sizes
    found = CASCADE.detectMultiScale(frame, 1.1, neighbours, minSize=(low, low), maxSize=(high, high))
    return [(int(x), int(y), int(w), int(h)) for x, y, w, h in found]


@pytest.fixture(scope="module")
def source(media: type[Media], tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("astronaut")
    still = work / "astronaut.png"
    cv2.imwrite(str(still), skimage_data.astronaut()[..., ::-1])
    video = work / "source.mp4"
    media.ffmpeg(
        *("-f", "lavfi", "-i", f"color=c=0x2a4d69:s=1280x720:r=25:d={SECONDS}"),
        *("-loop", "1", "-i", str(still)),
        *("-f", "lavfi", "-i", f"sine=frequency=330:sample_rate=48000:duration={SECONDS}"),
        "-filter_complex",
        f"[1:v]scale=400:-2[face];[0:v][face]overlay=x='50+t*{SPEED}':y=160:shortest=1,format=yuv420p[v]",
        *("-map", "[v]", "-map", "2:a", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-g", "25"),
        *("-c:a", "aac", "-shortest", str(video)),
    )
    return video


@pytest.fixture(scope="module")
def crop(media: type[Media], source: Path) -> CropPath:
    # Detect at half size, 5 times a second, as a vision service sampling a long video might.
    frames = media.frames_gray(source, 5, (640, 360))
    samples = [
        FaceSample(
            i / 5,
            tuple(Box(2.0 * x, 2.0 * y, 2.0 * w, 2.0 * h) for x, y, w, h in detect_faces(frame, (30, 60), 5)),
        )
        for i, frame in enumerate(frames)
    ]
    assert sum(1 for s in samples if s.faces) >= 0.9 * len(samples)
    return plan_crop(samples, 1280, 720, (9, 16), 0.0, SECONDS)


@pytest.fixture(scope="module")
def clip(source: Path, crop: CropPath, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rendered") / "clip.mp4"
    render_clip(source, [KeepRange(0.0, SECONDS)], crop, (OUT_W, OUT_H), None, out, preset="ultrafast")
    return out


def test_the_crop_follows_the_face(crop: CropPath) -> None:
    assert crop.mode == "face"
    assert (crop.width, crop.height) == (404, 720)
    assert crop.keyframes[-1].x - crop.keyframes[0].x > 0.8 * SPEED * SECONDS


def test_clip_is_a_streamable_vertical_h264_aac_mp4(media: type[Media], clip: Path) -> None:
    video, audio = media.stream(clip, "video"), media.stream(clip, "audio")
    assert video["codec_name"] == "h264"
    assert video["pix_fmt"] == "yuv420p"
    assert (video["width"], video["height"]) == (OUT_W, OUT_H)
    assert audio["codec_name"] == "aac"
    assert float(video["duration"]) == pytest.approx(SECONDS, abs=0.1)
    assert float(audio["duration"]) == pytest.approx(SECONDS, abs=0.1)
    atoms = media.top_level_atoms(clip)
    assert atoms.index("moov") < atoms.index("mdat")  # +faststart: players need not seek to the end


def test_the_face_stays_well_inside_the_vertical_frame(media: type[Media], clip: Path) -> None:
    frames = media.frames_gray(clip, 1, (OUT_W // 2, OUT_H // 2))
    assert len(frames) == round(SECONDS)
    for second, frame in enumerate(frames):
        faces = detect_faces(frame, (50, 110), 8)
        assert len(faces) == 1, f"face lost in the clip at {second}s"
        x, y, w, h = faces[0]
        centre_x = (x + w / 2) / frame.shape[1]
        assert 0.25 < centre_x < 0.75, f"face drifted to {centre_x:.2f} of the width at {second}s"
        assert 0 < x < x + w < frame.shape[1]
        assert 0 < y < y + h < frame.shape[0]
