"""Test media made on the spot or fetched once: ffmpeg runs, espeak-ng speech, encoded images and
the recordings of .cache/test-media. Plain functions; suites wrap them in fixtures where they want
files under ``tmp_path``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[2]
MEDIA_DIR = ROOT / ".cache" / "test-media"
# No prompts, no banner, only errors, and overwrite: ffmpeg as a quiet file generator.
QUIET = ("-nostdin", "-hide_banner", "-loglevel", "error", "-y")


def fetched(name: str) -> Path:
    """A test recording or model from .cache/test-media, fetched by scripts/fetch_test_media.py."""
    import pytest

    path = MEDIA_DIR / name
    if not path.exists():
        result = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "fetch_test_media.py"), name],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"cannot fetch test media {name}: {result.stderr.strip()[-2000:]}")
    return path


def ffmpeg(*args: str, timeout: float = 600) -> None:
    """Run ffmpeg quietly; a non-zero exit raises (the timeout only guards against a hang)."""
    subprocess.run(["ffmpeg", *QUIET, *args], check=True, timeout=timeout)


def speak(
    text: str, path: Path, *, voice: str = "en", speed: int | None = None, pitch: int | None = None
) -> Path:
    """``text`` synthesised by espeak-ng into the WAV file ``path`` (22.05 kHz mono)."""
    options = [
        *(["-s", str(speed)] if speed is not None else []),
        *(["-p", str(pitch)] if pitch is not None else []),
    ]
    subprocess.run(["espeak-ng", "-v", voice, *options, "-w", str(path), text], check=True, timeout=60)
    return path


def still_video(
    path: Path, seconds: float, *, colour: str = "gray", size: str = "320x240", fps: int = 10
) -> Path:
    """An H.264 + AAC video of one flat colour over digital silence (16 kHz mono)."""
    ffmpeg(
        *("-f", "lavfi", "-i", f"color=c={colour}:s={size}:r={fps}"),
        *("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono"),
        *("-t", f"{seconds:g}", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(path)),
    )
    return path


def jpeg(image: npt.NDArray[np.uint8], quality: int = 90) -> bytes:
    """An RGB image encoded as JPEG."""
    import cv2

    ok, encoded = cv2.imencode(
        ".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    assert ok
    return bytes(encoded.tobytes())


def png(image: npt.NDArray[np.uint8]) -> bytes:
    """An RGB image encoded as PNG."""
    import cv2

    ok, encoded = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    assert ok
    return bytes(encoded.tobytes())
