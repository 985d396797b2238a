"""A clip rendered with filler cuts is shorter by exactly the cuts, and the video and audio of
every kept part come from the same source time."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from video_svc.fillers import filler_cuts, keep_ranges, to_output_timeline
from video_svc.model import Word
from video_svc.reframe import plan_crop
from video_svc.render import render_clip

if TYPE_CHECKING:
    from conftest import Media

WORDS = [
    Word("so", 1.0, 1.3),
    Word("um", 1.3, 1.8),
    Word("I", 1.8, 2.0),
    Word("think", 2.0, 2.4),
    Word("uh", 2.4, 2.8),
    Word("this", 2.8, 3.1),
    Word("works", 3.1, 3.6),
]
CLIP_START, CLIP_END = 0.5, 4.5
# The source tells its own time: luma 16 + 35 t and a 440 Hz tone of amplitude 0.05 (1 + t).
LUMA_PER_SECOND = 35


@pytest.fixture(scope="module")
def cut_clip(media: type[Media], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[float]]:
    work = tmp_path_factory.mktemp("fillers")
    source = work / "talk.mp4"
    media.ffmpeg(
        *(
            "-f",
            "lavfi",
            "-i",
            f"color=c=black:s=320x180:r=25:d=6,geq=lum='16+T*{LUMA_PER_SECOND}':cb=128:cr=128",
        ),
        *("-f", "lavfi", "-i", "aevalsrc='0.05*(1+t)*sin(2*PI*440*t)':s=48000:d=6"),
        *("-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-g", "50", "-pix_fmt", "yuv420p"),
        *("-c:a", "aac", "-b:a", "192k", str(source)),
    )
    ranges = keep_ranges(CLIP_START, CLIP_END, filler_cuts(WORDS))
    out = work / "clip.mp4"
    crop = plan_crop([], 320, 180, (9, 16), CLIP_START, CLIP_END)
    render_clip(source, ranges, crop, (180, 320), None, out, preset="ultrafast", clip_start=CLIP_START)
    # Source times in the middle of each kept part, away from the joins.
    probes = [(r.start + r.end) / 2 for r in ranges]
    return out, probes


def test_duration_drops_by_the_cuts_with_audio_and_video_in_sync(
    media: type[Media], cut_clip: tuple[Path, list[float]]
) -> None:
    out, _ = cut_clip
    ranges = keep_ranges(CLIP_START, CLIP_END, filler_cuts(WORDS))
    assert len(ranges) == 3
    expected = sum(r.end - r.start for r in ranges)
    assert expected == pytest.approx(4.0 - 0.9)  # "um" 0.5 s and "uh" 0.4 s are gone

    video, audio = media.stream(out, "video"), media.stream(out, "audio")
    assert (video["width"], video["height"]) == (180, 320)
    assert float(video["duration"]) == pytest.approx(expected, abs=0.1)
    assert float(audio["duration"]) == pytest.approx(expected, abs=0.1)
    assert abs(float(video["duration"]) - float(audio["duration"])) < 0.1


def test_each_kept_part_shows_the_right_source_frames(
    media: type[Media], cut_clip: tuple[Path, list[float]]
) -> None:
    out, probes = cut_clip
    ranges = keep_ranges(CLIP_START, CLIP_END, filler_cuts(WORDS))
    for source_t in probes:
        frame = media.frame_rgb(out, to_output_timeline(source_t, ranges))
        seen_t = float(frame.mean()) * 219 / 255 / LUMA_PER_SECOND  # undo the limited-range expansion
        assert seen_t == pytest.approx(source_t, abs=0.1)


def test_each_kept_part_plays_the_right_source_audio(
    media: type[Media], cut_clip: tuple[Path, list[float]]
) -> None:
    out, probes = cut_clip
    ranges = keep_ranges(CLIP_START, CLIP_END, filler_cuts(WORDS))
    samples = np.frombuffer(
        media.ffmpeg("-i", str(out), "-vn", "-ac", "1", "-ar", "48000", "-f", "f32le", "-"), np.float32
    )
    for source_t in probes:
        centre = int(to_output_timeline(source_t, ranges) * 48000)
        window = samples[centre - 2400 : centre + 2400]  # 0.1 s
        amplitude = float(np.sqrt(np.mean(window.astype(np.float64) ** 2)) * np.sqrt(2))
        assert amplitude / 0.05 - 1 == pytest.approx(source_t, abs=0.1)
