"""Test footage from real photographs: distinct videos made of slow pan-and-zoom shots over
scikit-image's sample images (each video its own photographs), and the copies a content team
meets in the wild derived from them with ffmpeg (re-encoded, cropped, trimmed, watermarked,
letterboxed). Used by the e2e and video tests and bench/video_dedup.py."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .media import QUIET, ffmpeg

# Real photographs and scans shipped inside scikit-image (no download). Textures that look
# alike (brick, grass, gravel) are kept apart by the pairing below: each video gets two.
IMAGE_NAMES = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "camera",
    "coins",
    "moon",
    "stereo_motorcycle",
    "page",
    "clock",
    "brick",
    "horse",
    "grass",
    "cell",
    "gravel",
    "colorwheel",
    "shepp_logan_phantom",
)


def load_image(name: str) -> npt.NDArray[np.uint8]:
    """An scikit-image sample image as 8-bit RGB."""
    from skimage import data
    from skimage.util import img_as_ubyte

    image = getattr(data, name)()
    if isinstance(image, tuple):  # stereo pairs: the left view
        image = image[0]
    image = img_as_ubyte(image)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


@dataclass(frozen=True)
class Shot:
    """A pan and zoom over one image: the visible window shrinks from ``zoom[0]`` to ``zoom[1]`` of
    the image while its centre moves from ``start`` to ``end`` (fractions of the image size)."""

    image: str
    seconds: float
    zoom: tuple[float, float] = (1.0, 0.6)
    start: tuple[float, float] = (0.4, 0.4)
    end: tuple[float, float] = (0.6, 0.6)


def shot_frames(shot: Shot, size: tuple[int, int], fps: int) -> Iterator[npt.NDArray[np.uint8]]:
    import cv2

    image = load_image(shot.image)
    height, width = image.shape[:2]
    aspect = size[0] / size[1]
    count = round(shot.seconds * fps)
    for index in range(count):
        f = index / max(1, count - 1)
        zoom = shot.zoom[0] + (shot.zoom[1] - shot.zoom[0]) * f
        win_w = min(width, height * aspect) * zoom
        win_h = win_w / aspect
        cx = (shot.start[0] + (shot.end[0] - shot.start[0]) * f) * width
        cy = (shot.start[1] + (shot.end[1] - shot.start[1]) * f) * height
        x0 = float(np.clip(cx - win_w / 2, 0, width - win_w))
        y0 = float(np.clip(cy - win_h / 2, 0, height - win_h))
        # An affine warp gives sub-pixel window positions: the motion stays smooth, as a camera's.
        sx, sy = size[0] / win_w, size[1] / win_h
        matrix = np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy]], dtype=np.float64)
        yield cv2.warpAffine(image, matrix, size, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)


def render(shots: list[Shot], out: Path, *, size: tuple[int, int] = (640, 360), fps: int = 25) -> Path:
    """Encode the shots back to back as H.264 (no audio)."""
    process = subprocess.Popen(
        [
            "ffmpeg",
            *QUIET,
            *("-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size[0]}x{size[1]}", "-r", str(fps)),
            *("-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"),
            str(out),
        ],
        stdin=subprocess.PIPE,
    )
    assert process.stdin is not None
    for shot in shots:
        for frame in shot_frames(shot, size, fps):
            process.stdin.write(frame.tobytes())
    process.stdin.close()
    if process.wait() != 0:
        raise RuntimeError(f"ffmpeg failed to encode {out}")
    return out


def distinct_shots(index: int, seconds: float) -> list[Shot]:
    """Video ``index``'s shots: two photographs no other video uses, each with its own motion."""
    first, second = (
        IMAGE_NAMES[(2 * index) % len(IMAGE_NAMES)],
        IMAGE_NAMES[(2 * index + 1) % len(IMAGE_NAMES)],
    )
    drift = 0.1 + 0.05 * (index % 3)
    return [
        Shot(first, seconds / 2, zoom=(0.95, 0.55), start=(0.5 - drift, 0.45), end=(0.5 + drift, 0.55)),
        Shot(second, seconds / 2, zoom=(0.6, 0.9), start=(0.55, 0.5 + drift), end=(0.45, 0.5 - drift)),
    ]


def build_distinct(folder: Path, count: int, *, seconds: float = 20.0) -> list[Path]:
    """``count`` (at most 10) videos that share no photograph."""
    if count > len(IMAGE_NAMES) // 2:
        raise ValueError(f"at most {len(IMAGE_NAMES) // 2} distinct videos can be built")
    folder.mkdir(parents=True, exist_ok=True)
    return [render(distinct_shots(i, seconds), folder / f"video{i:02d}.mp4") for i in range(count)]


@dataclass(frozen=True)
class Copy:
    """A derived copy and where its content lies in the original (seconds)."""

    path: Path
    transform: str
    original_start: float
    original_end: float


WATERMARK = (
    "drawtext=text='COPY clipsift.example':fontsize=26:fontcolor=white"
    ":box=1:boxcolor=black@0.5:x=w-tw-16:y=16"
)
TRANSFORMS = ("reencode", "crop", "trim", "watermark", "letterbox", "combined")


def derive(original: Path, duration: float, transform: str, out: Path) -> Copy:
    """One copy of ``original``: ``transform`` is one of TRANSFORMS."""
    start, end = 0.0, duration
    if transform == "reencode":  # smaller, lower quality, other frame rate
        ffmpeg(
            "-i", str(original), "-vf", "scale=480:270", "-r", "30", "-c:v", "libx264", "-crf", "36", str(out)
        )
    elif transform == "crop":  # 10% cut off, scaled back up
        ffmpeg("-i", str(original), "-vf", "crop=iw*0.9:ih*0.9,scale=640:360", "-c:v", "libx264", str(out))
    elif transform == "trim":  # head and tail cut
        start, end = 3.3, duration - 2.7
        ffmpeg("-ss", f"{start}", "-i", str(original), "-t", f"{end - start}", "-c:v", "libx264", str(out))
    elif transform == "watermark":
        ffmpeg("-i", str(original), "-vf", WATERMARK, "-c:v", "libx264", str(out))
    elif transform == "letterbox":  # squeezed into a 4:3 frame with black bars
        ffmpeg("-i", str(original), "-vf", "scale=480:270,pad=480:360:0:45", "-c:v", "libx264", str(out))
    elif transform == "combined":  # trimmed, cropped, watermarked and re-encoded at once
        start, end = 2.1, duration - 4.4
        ffmpeg(
            *("-ss", f"{start}", "-i", str(original), "-t", f"{end - start}"),
            *("-vf", f"crop=iw*0.9:ih*0.9,scale=512:288,{WATERMARK}", "-c:v", "libx264", "-crf", "32"),
            str(out),
        )
    else:
        raise ValueError(f"unknown transform {transform!r}")
    return Copy(out, transform, start, end)
