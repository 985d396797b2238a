"""Rendering: one ffmpeg run turns a stretch of the source into a finished vertical clip (cuts,
crop path, scale, burnt-in captions, H.264 + AAC, fast start), and one more grabs a thumbnail.

Video never passes through Python: ffmpeg streams it. Outputs appear atomically: ffmpeg writes a
hidden temporary file beside the target, which is renamed over it only when ffmpeg succeeded.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from video_svc.model import CropKeyframe, CropPath, KeepRange
from video_svc.reframe import crop_filter

# How many lines of ffmpeg's stderr a RenderError carries.
_STDERR_TAIL_LINES = 20
# Extra source read past the last range, so the trims (not the input limit) decide the end.
_READ_MARGIN = 0.5


class RenderError(Exception):
    """ffmpeg failed (or could not be run); ``stderr_tail`` holds the last lines it printed."""

    def __init__(self, message: str, stderr_tail: str = "") -> None:
        super().__init__(f"{message}\n{stderr_tail}" if stderr_tail else message)
        self.stderr_tail = stderr_tail


def render_clip(
    source: Path,
    ranges: Sequence[KeepRange],
    crop: CropPath,
    output_size: tuple[int, int],
    ass_path: Path | None,
    out_mp4: Path,
    *,
    ffmpeg: str = "ffmpeg",
    preset: str = "superfast",
    crf: int = 25,
    timeout: float | None = None,
    clip_start: float | None = None,
) -> None:
    """Render the kept ``ranges`` of ``source`` (source seconds, in order) into ``out_mp4``.

    Video and audio are cut to the ranges in sync and joined; the video is cropped along
    ``crop``, scaled to ``output_size`` (width, height), captioned with the ASS script at
    ``ass_path`` (timed on the output timeline) and encoded as H.264 high profile, yuv420p, with
    AAC 128 kb/s audio and the index at the front (``+faststart``) so players start at once.

    ``clip_start`` is the source time of the crop path's t = 0 (the clip's start before any
    cut); it defaults to the first range's start. The source must have an audio stream.

    Raises RenderError when ffmpeg fails or runs past ``timeout`` seconds; ``out_mp4`` is then
    left as it was and no temporary file remains.
    """
    if not ranges:
        raise ValueError("nothing to render: no keep ranges")
    if any(r.end <= r.start for r in ranges) or any(b.start < a.end for a, b in itertools.pairwise(ranges)):
        raise ValueError("keep ranges must be non-empty, in order and not overlapping")
    origin = ranges[0].start if clip_start is None else clip_start
    if origin > ranges[0].start:
        raise ValueError(f"clip_start {origin} is after the first range's start {ranges[0].start}")
    width, height = output_size
    graph = _filter_graph(ranges, origin, crop, width, height, ass_path)
    args = [
        # Seeking before -i jumps to the keyframe before `origin` and decodes from there: fast,
        # and still frame-exact, because ffmpeg drops the frames before `origin` (accurate seek)
        # and the trims cut relative to it.
        *("-ss", f"{origin:.6f}", "-t", f"{ranges[-1].end - origin + _READ_MARGIN:.6f}", "-i", str(source)),
        *("-filter_complex", graph, "-map", "[vout]", "-map", "[aout]"),
        *(
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-crf",
            str(crf),
            "-profile:v",
            "high",
            "-pix_fmt",
            "yuv420p",
        ),
        *("-c:a", "aac", "-b:a", "128k"),
        *("-movflags", "+faststart", "-f", "mp4"),
    ]
    _run_to(out_mp4, args, ffmpeg, timeout)


def thumbnail(
    source: Path,
    t: float,
    crop_at_t: CropKeyframe,
    crop_size: tuple[int, int],
    output_size: tuple[int, int],
    out_jpg: Path,
    *,
    ffmpeg: str = "ffmpeg",
    timeout: float | None = None,
) -> None:
    """Write the source frame at ``t`` (source seconds) as a JPEG, cropped to ``crop_size`` at
    the corner given by ``crop_at_t`` (e.g. ``reframe.crop_at(path, t - clip_start)``) and scaled
    to ``output_size``: the same framing as the rendered clip. Raises RenderError on failure."""
    crop_w, crop_h = crop_size
    out_w, out_h = output_size
    video_filter = (
        f"crop={crop_w}:{crop_h}:{int(crop_at_t.x)}:{int(crop_at_t.y)},"
        f"scale={out_w}:{out_h}:flags=bicubic,setsar=1"
    )
    args = [
        *("-ss", f"{max(0.0, t):.6f}", "-i", str(source)),
        *(
            "-vf",
            video_filter,
            "-frames:v",
            "1",
            "-c:v",
            "mjpeg",
            "-q:v",
            "2",
            "-f",
            "image2",
            "-update",
            "1",
        ),
    ]
    _run_to(out_jpg, args, ffmpeg, timeout)


def escape_filter_value(value: str) -> str:
    """Escape a filter option value (such as a file name) for use inside a filter graph.

    Two levels, as ffmpeg's docs lay out: the option parser treats ``\\ ' :`` as special, then
    the graph parser treats ``\\ ' [ ] , ;`` as special; each level escapes with a backslash.
    """
    for special in "\\':":
        value = value.replace(special, "\\" + special)
    for special in "\\'[],;":
        value = value.replace(special, "\\" + special)
    return value


def _filter_graph(
    ranges: Sequence[KeepRange],
    origin: float,
    crop: CropPath,
    width: int,
    height: int,
    ass_path: Path | None,
) -> str:
    """Crop and scale once, then split into one trimmed segment per range (video and audio cut
    at the same times) and concatenate them; captions go on last, on the output timeline.

    The crop runs before the trims so that its ``t`` is clip time (source time - ``origin``).
    """
    count = len(ranges)
    video_split = "".join(f"[vs{i}]" for i in range(count))
    audio_split = "".join(f"[as{i}]" for i in range(count))
    chains = [
        f"[0:v]{crop_filter(crop)},scale={width}:{height}:flags=bicubic,setsar=1,split={count}{video_split}",
        f"[0:a]asplit={count}{audio_split}",
    ]
    for i, r in enumerate(ranges):
        start, end = r.start - origin, r.end - origin
        chains.append(f"[vs{i}]trim=start={start:.6f}:end={end:.6f},setpts=PTS-STARTPTS[v{i}]")
        chains.append(f"[as{i}]atrim=start={start:.6f}:end={end:.6f},asetpts=PTS-STARTPTS[a{i}]")
    segments = "".join(f"[v{i}][a{i}]" for i in range(count))
    chains.append(f"{segments}concat=n={count}:v=1:a=1[joined][aout]")
    captions = f"ass=filename={escape_filter_value(str(ass_path))}," if ass_path is not None else ""
    chains.append(f"[joined]{captions}format=yuv420p[vout]")
    return ";".join(chains)


def _run_to(target: Path, args: Sequence[str], ffmpeg: str, timeout: float | None) -> None:
    """Run ffmpeg with ``args`` plus a temporary output beside ``target``; rename it over
    ``target`` on success, delete it otherwise."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    command = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y", *args, str(tmp)]
    try:
        try:
            result = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise RenderError(f"ffmpeg ran past {timeout} s for {target.name}", _tail(exc.stderr)) from exc
        except OSError as exc:
            raise RenderError(f"cannot run {ffmpeg}: {exc}") from exc
        if result.returncode != 0:
            raise RenderError(
                f"ffmpeg failed (exit {result.returncode}) for {target.name}", _tail(result.stderr)
            )
        if tmp.stat().st_size == 0:
            raise RenderError(f"ffmpeg wrote nothing for {target.name}", _tail(result.stderr))
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def _tail(stderr: bytes | str | None) -> str:
    if not stderr:
        return ""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    return "\n".join(text.strip().splitlines()[-_STDERR_TAIL_LINES:])
