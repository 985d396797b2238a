"""One chosen clip: its frames analysed (faces, scene cuts), reframed, captioned and rendered.

Everything is written into the clip's own folder under the job's private work folder; the clip
job publishes the folders once every clip is done.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clipsift_common.contracts import ClipOptions
from clipsift_common.grpc_client import ServiceClient

from . import captions, fillers, reframe, render
from .candidates import Candidate
from .faces import face_samples
from .media import thumbnail
from .model import CaptionStyle, CropPath, FaceSample, ScoreBreakdown, Word
from .probe import MediaInfo
from .scenes import scene_cuts
from .scoring import Scorer, TalkAnalysis
from .settings import VideoSettings
from .transcript import plain_text

_PLAIN_STYLE = CaptionStyle(highlight_colour=CaptionStyle().primary_colour)


@dataclass(frozen=True)
class FrameAnalysis:
    """What reframing needs of one clip's frames: faces over time and the scene cuts."""

    faces: list[FaceSample]
    cuts: list[float]
    seconds: float


def output_size(aspect: tuple[int, int], long_side: int) -> tuple[int, int]:
    """Output frame size for an aspect ratio, both sides even (x264 needs that)."""
    if aspect[0] == aspect[1]:
        # A square clip is as wide as a vertical one (1080 at 1920), not 1920x1920.
        side = round(long_side * 9 / 16 / 2) * 2
        return side, side
    short = round(long_side * min(aspect) / max(aspect) / 2) * 2
    return (short, long_side) if aspect[0] < aspect[1] else (long_side, short)


def render_size(size: tuple[int, int], crop: CropPath, upscale: bool) -> tuple[int, int]:
    """The output size, or the crop's own size when that is smaller and upscaling is off."""
    if not upscale and crop.width * crop.height < size[0] * size[1]:
        return crop.width, crop.height
    return size


class ClipRenderer:
    def __init__(self, settings: VideoSettings, vision: ServiceClient, scorer: Scorer) -> None:
        self.settings = settings
        self.vision = vision
        self.scorer = scorer

    async def analyse(self, candidate: Candidate, source: Path, info: MediaInfo) -> FrameAnalysis:
        start, end = candidate.start, candidate.end
        began = time.perf_counter()
        # Both decode the clip's frames, one for faces, one for cuts: side by side, not in turn.
        samples, cuts_in_clip = await asyncio.gather(
            face_samples(
                self.vision,
                source,
                start,
                end,
                (info.width, info.height),
                fps=self.settings.face_sample_fps,
                batch_size=self.settings.face_batch_size,
                ffmpeg=self.settings.ffmpeg,
            ),
            asyncio.to_thread(scene_cuts, source, start, end),
        )
        return FrameAnalysis(samples, cuts_in_clip, time.perf_counter() - began)

    async def make_clip(
        self,
        number: int,
        candidate: Candidate,
        breakdown: ScoreBreakdown,
        talk: TalkAnalysis,
        analysis: FrameAnalysis,
        source: Path,
        info: MediaInfo,
        work: Path,
        options: ClipOptions,
        all_words: list[Word],
    ) -> dict[str, Any]:
        folder = work / "clips" / f"{number:02d}"
        folder.mkdir(parents=True)
        start, end = candidate.start, candidate.end
        clip_words = [w for w in all_words if w.start >= start - 1e-6 and w.end <= end + 1e-6]
        samples, cuts_in_clip = analysis.faces, analysis.cuts
        analysed = time.perf_counter()
        crop = reframe.plan_crop(
            samples, info.width, info.height, options.aspect_ratio, start, end, scene_cuts=cuts_in_clip
        )

        cuts = fillers.filler_cuts(clip_words, fillers=talk.rules.fillers) if options.remove_fillers else []
        ranges = fillers.keep_ranges(start, end, cuts)
        spoken = fillers.remap_words(clip_words, ranges)
        lines = captions.caption_lines(spoken)
        wanted = options.requested_size or output_size(options.aspect_ratio, self.settings.output_long_side)
        size = render_size(wanted, crop, self.settings.upscale)
        (folder / "clip.srt").write_text(captions.to_srt(lines), encoding="utf-8")
        (folder / "clip.vtt").write_text(captions.to_vtt(lines), encoding="utf-8")
        ass_path = None
        if options.captions:
            style = CaptionStyle() if options.caption_style == "highlight" else _PLAIN_STYLE
            ass_path = folder / "captions.ass"
            ass_path.write_text(captions.to_ass(lines, style, *size), encoding="utf-8")
        await asyncio.to_thread(
            render.render_clip,
            source,
            ranges,
            crop,
            size,
            ass_path,
            folder / "clip.mp4",
            ffmpeg=self.settings.ffmpeg,
            preset=self.settings.render_preset,
            crf=self.settings.render_crf,
            timeout=self.settings.render_timeout_seconds,
            clip_start=start,
        )
        rendered = time.perf_counter()
        title = self.scorer.title(candidate, talk)
        headline = self.scorer.headline(candidate, talk)
        thumb_t = fillers.to_output_timeline((headline.start + headline.end) / 2, ranges)
        await thumbnail(folder / "clip.mp4", thumb_t, folder / "thumbnail.jpg", ffmpeg=self.settings.ffmpeg)
        if ass_path is not None:
            ass_path.unlink()
        duration = sum(r.end - r.start for r in ranges)
        timings = {
            "faces_and_cuts": round(analysis.seconds, 3),  # mostly while the previous clip rendered
            "render": round(rendered - analysed, 3),
            "thumbnail": round(time.perf_counter() - rendered, 3),
        }
        return {
            "index": number,
            "start": round(start, 3),
            "end": round(end, 3),
            "duration": round(duration, 3),
            "title": title,
            "transcript": plain_text(spoken),
            "score": {
                "total": breakdown.total,
                "components": breakdown.components,
                "weights": breakdown.weights,
                "reasons": breakdown.reasons,
            },
            "reframe": {
                "mode": crop.mode,
                "crop_width": crop.width,
                "crop_height": crop.height,
                "scene_cuts": [round(c - start, 3) for c in cuts_in_clip],
            },
            "output": {"width": size[0], "height": size[1], "aspect": options.aspect},
            "fillers_removed": len(cuts),
            "timings_seconds": timings,
            "words": [{"text": w.text, "start": round(w.start, 3), "end": round(w.end, 3)} for w in spoken],
            "files": {
                name: f"clips/{number:02d}/{name}"
                for name in ("clip.mp4", "clip.srt", "clip.vtt", "thumbnail.jpg")
            },
        }
