"""ffmpeg steps that feed the analysis: audio extraction, truncation check."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

from clipsift_common.errors import InvalidArgument

SAMPLE_RATE = 16_000  # what Whisper and the VAD expect
# Every ffmpeg run: never read stdin (it would steal the worker's), report errors only.
FFMPEG_QUIET = ("-nostdin", "-hide_banner", "-loglevel", "error")


async def run_ffmpeg(
    args: list[str],
    *,
    ffmpeg: str = "ffmpeg",
    timeout: float | None = None,  # noqa: ASYNC109 - kills the ffmpeg process, not just the wait
) -> None:
    """Run ffmpeg quietly; raise InvalidArgument with its last error line when it fails."""
    process = await asyncio.create_subprocess_exec(
        ffmpeg,
        *FFMPEG_QUIET,
        "-y",
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        raise InvalidArgument(
            f"ffmpeg could not process the video: {lines[-1] if lines else 'unknown error'}"
        )


async def extract_audio(
    source: Path,
    out_wav: Path,
    *,
    ffmpeg: str,
    expected_duration: float,
    window: tuple[float, float] | None = None,
) -> float:
    """16 kHz mono PCM of the first audio track, or of its ``window`` (start, end seconds) only;
    returns its duration.

    A file cut short in transfer still probes with its full header duration; the decoded audio
    then comes up short, which is how truncation is caught before any work is wasted on it.
    """
    tmp = out_wav.with_suffix(".partial.wav")
    seek = ["-ss", f"{window[0]:.3f}", "-t", f"{window[1] - window[0]:.3f}"] if window else []
    if window:
        expected_duration = min(expected_duration - window[0], window[1] - window[0])
    await run_ffmpeg(
        [
            *seek,
            "-i",
            str(source),
            "-map",
            "0:a:0",
            "-vn",
            "-ac",
            "1",
            "-ar",
            str(SAMPLE_RATE),
            "-c:a",
            "pcm_s16le",
            "-f",
            "wav",
            str(tmp),
        ],
        ffmpeg=ffmpeg,
    )
    with wave.open(str(tmp), "rb") as handle:
        duration = handle.getnframes() / float(handle.getframerate())
    if duration < expected_duration - max(1.0, 0.02 * expected_duration):
        tmp.unlink(missing_ok=True)
        raise InvalidArgument(
            f"the file is truncated or corrupt: {duration:.1f}s of audio decoded, "
            f"{expected_duration:.1f}s expected"
        )
    tmp.replace(out_wav)
    return duration


async def thumbnail(clip: Path, t: float, out_jpg: Path, *, ffmpeg: str) -> None:
    """One frame of the rendered clip (already cropped and captioned) as a JPEG."""
    await run_ffmpeg(
        ["-ss", f"{max(0.0, t):.3f}", "-i", str(clip), "-frames:v", "1", "-q:v", "3", str(out_jpg)],
        ffmpeg=ffmpeg,
    )


async def frame_jpeg(source: Path, t: float, out_jpg: Path, size: tuple[int, int], *, ffmpeg: str) -> None:
    """The source frame at ``t`` seconds, scaled to ``size``, as a JPEG."""
    await run_ffmpeg(
        [
            *("-ss", f"{max(0.0, t):.3f}", "-i", str(source), "-frames:v", "1"),
            *("-vf", f"scale={size[0]}:{size[1]}:flags=area", "-q:v", "3", str(out_jpg)),
        ],
        ffmpeg=ffmpeg,
    )


def fit_within(width: int, height: int, long_side: int) -> tuple[int, int]:
    """``width`` x ``height`` scaled down (never up) so the long side is at most ``long_side``; even sides."""
    scale = min(1.0, long_side / max(width, height, 1))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)
