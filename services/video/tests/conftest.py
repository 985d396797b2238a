"""Shared helpers for the video rendering tests: make small media with ffmpeg, probe it, and
decode frames into numpy arrays. Every assertion about a clip is made on real ffmpeg output."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

FFMPEG = shutil.which("ffmpeg")
FFPROBE = shutil.which("ffprobe")


class Media:
    """ffmpeg/ffprobe helpers for tests (encodes use -preset ultrafast to keep the suite fast)."""

    @staticmethod
    def ffmpeg(*args: str) -> bytes:
        assert FFMPEG is not None
        result = subprocess.run(
            [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
            capture_output=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr.decode()
        return result.stdout

    @staticmethod
    def colour_video(
        path: Path, *, size: str = "640x360", seconds: float = 4.0, colour: str = "black", fps: int = 25
    ) -> Path:
        """A plain video of ``colour`` with a 440 Hz tone, H.264 + AAC."""
        Media.ffmpeg(
            *("-f", "lavfi", "-i", f"color=c={colour}:s={size}:r={fps}:d={seconds}"),
            *("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}"),
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "25"),
            *("-c:a", "aac", "-shortest", str(path)),
        )
        return path

    @staticmethod
    def probe(path: Path) -> dict[str, Any]:
        assert FFPROBE is not None
        result = subprocess.run(
            [FFPROBE, "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
            capture_output=True,
            check=True,
        )
        probed: dict[str, Any] = json.loads(result.stdout)
        return probed

    @staticmethod
    def stream(path: Path, kind: str) -> dict[str, Any]:
        streams = [s for s in Media.probe(path)["streams"] if s["codec_type"] == kind]
        assert len(streams) == 1, f"expected one {kind} stream in {path}"
        return streams[0]

    @staticmethod
    def frame_rgb(path: Path, t: float) -> npt.NDArray[np.uint8]:
        """The frame at ``t`` seconds as an (height, width, 3) RGB array."""
        video = Media.stream(path, "video")
        width, height = int(video["width"]), int(video["height"])
        raw = Media.ffmpeg(
            *("-ss", f"{t:.3f}", "-i", str(path), "-frames:v", "1"),
            *("-f", "rawvideo", "-pix_fmt", "rgb24", "-"),
        )
        return np.frombuffer(raw, np.uint8).reshape(height, width, 3)

    @staticmethod
    def frames_gray(path: Path, fps: float, size: tuple[int, int]) -> list[npt.NDArray[np.uint8]]:
        """Frames sampled at ``fps``, scaled to ``size`` (width, height), as grey arrays."""
        width, height = size
        raw = Media.ffmpeg(
            *("-i", str(path), "-vf", f"fps={fps},scale={width}:{height}"),
            *("-f", "rawvideo", "-pix_fmt", "gray", "-"),
        )
        frames = np.frombuffer(raw, np.uint8).reshape(-1, height, width)
        return list(frames)

    @staticmethod
    def top_level_atoms(path: Path) -> list[str]:
        """The MP4's top-level box types in file order, walked by their size headers."""
        atoms: list[str] = []
        data = path.read_bytes()
        offset = 0
        while offset + 8 <= len(data):
            size = int.from_bytes(data[offset : offset + 4], "big")
            kind = data[offset + 4 : offset + 8].decode("latin-1")
            if size == 1:  # 64-bit size follows the type
                size = int.from_bytes(data[offset + 8 : offset + 16], "big")
            elif size == 0:  # runs to the end of the file
                size = len(data) - offset
            assert size >= 8, f"bad box size {size} at {offset}"
            atoms.append(kind)
            offset += size
        return atoms


@pytest.fixture(scope="session")
def media() -> type[Media]:
    if FFMPEG is None or FFPROBE is None:
        pytest.skip("ffmpeg/ffprobe not installed")
    return Media
