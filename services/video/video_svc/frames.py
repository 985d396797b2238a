"""Frames streamed out of ffmpeg at a fixed rate, one at a time (never a whole video in memory)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from .media import FFMPEG_QUIET

_CHANNELS = {"rgb24": 3, "gray": 1}


async def sample_frames(
    source: Path,
    start: float,
    end: float | None,
    fps: float,
    size: tuple[int, int],
    ffmpeg: str,
    *,
    pix_fmt: str = "rgb24",
    scale_flags: str = "bicubic",
) -> AsyncIterator[tuple[float, bytes]]:
    """Raw frames (``pix_fmt`` rgb24 or gray) at ``fps`` between ``start`` and ``end`` (None: the
    end of the video), scaled to ``size``, with their source times."""
    width, height = size
    frame_bytes = width * height * _CHANNELS[pix_fmt]
    window = ["-t", f"{end - start:.3f}"] if end is not None else []
    process = await asyncio.create_subprocess_exec(
        ffmpeg,
        *FFMPEG_QUIET,
        "-ss",
        f"{start:.3f}",
        *window,
        "-i",
        str(source),
        "-map",
        "0:v:0",
        "-vf",
        f"fps={fps},scale={width}:{height}:flags={scale_flags}",
        "-f",
        "rawvideo",
        "-pix_fmt",
        pix_fmt,
        "-",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    index = 0
    try:
        while True:
            try:
                frame = await process.stdout.readexactly(frame_bytes)
            except asyncio.IncompleteReadError:
                break
            yield start + index / fps, frame
            index += 1
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
