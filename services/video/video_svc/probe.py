"""What a media file holds, from ffprobe; the first gate every clip job passes."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from pathlib import Path

from clipsift_common.errors import InvalidArgument

# Decodable by the Debian/static ffmpeg builds we ship with; anything else fails fast with a
# clear reason instead of half-way through a render.
SUPPORTED_VIDEO_CODECS = frozenset(
    {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mpeg2video", "mjpeg", "prores", "theora", "dnxhd"}
)


@dataclass(frozen=True)
class MediaInfo:
    duration: float
    width: int
    height: int
    fps: float
    video_codec: str
    audio_codec: str
    size_bytes: int
    container: str

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_codec)


def _fps(rate: str) -> float:
    num, _, den = rate.partition("/")
    try:
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0


async def probe(
    path: Path | str, *, ffprobe: str = "ffprobe", require_audio: bool = False, timeout_seconds: float = 60.0
) -> MediaInfo:
    """Probe ``path`` (a local file, or an http(s) URL read with ranged requests); raise
    InvalidArgument saying what is wrong when it is not a usable video. A crafted file can keep
    ffprobe busy indefinitely, so it is killed after ``timeout_seconds``."""
    remote = isinstance(path, str) and str(path).startswith(("http://", "https://"))
    # A URL may carry a signature: it never appears in an error. Over http, ffprobe may use the
    # web protocols only (no file:, no concat: a crafted playlist cannot make it read local files).
    shown = path.split("?", 1)[0] if isinstance(path, str) else str(path)
    web = ["-protocol_whitelist", "http,https,tcp,tls,crypto"] if remote else []
    process = await asyncio.create_subprocess_exec(
        ffprobe,
        *web,
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
        str(path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout_seconds)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise InvalidArgument(f"ffprobe could not read the file within {timeout_seconds:g} s") from None
    if process.returncode != 0:
        reason = err.decode(errors="replace").strip().splitlines()
        last = reason[-1].replace(str(path), shown) if reason else "ffprobe failed"
        last = re.sub(r"\?\S*", "", last) if remote else last
        raise InvalidArgument(f"not a readable media file: {last}")
    data = json.loads(out or b"{}")
    streams = data.get("streams", [])
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
        ),
        None,
    )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None:
        raise InvalidArgument("the file has no video stream")
    codec = video.get("codec_name", "")
    if codec not in SUPPORTED_VIDEO_CODECS:
        raise InvalidArgument(f"unsupported video codec {codec or 'unknown'!r}")
    fmt = data.get("format", {})
    duration = float(fmt.get("duration") or video.get("duration") or 0.0)
    if duration <= 0:
        raise InvalidArgument("the video has no duration (truncated or still being written?)")
    if require_audio and audio is None:
        raise InvalidArgument("the video has no audio track: clips need speech to transcribe")
    return MediaInfo(
        duration=duration,
        width=int(video.get("width") or 0),
        height=int(video.get("height") or 0),
        fps=_fps(video.get("avg_frame_rate") or video.get("r_frame_rate") or "0/1"),
        video_codec=codec,
        audio_codec=(audio or {}).get("codec_name", ""),
        size_bytes=int(fmt.get("size") or 0),
        container=fmt.get("format_name", ""),
    )
