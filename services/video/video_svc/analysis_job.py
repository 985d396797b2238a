"""The video analysis job: scenes, keyframes, per-keyframe analysis, transcript and a summary.

Steps, each reported as progress: probe; scenes (PySceneDetect over the whole video) while the
frames sampled at ``analysis_sample_fps`` are scored for sharpness; the sharpest sample of each
scene becomes its keyframe (a JPEG thumbnail); keyframes are analysed by the vision service (faces,
objects, text, dominant colours, quality, perceptual hashes); speech is transcribed by the audio
service, as in the clip job; the summary is the most representative keyframes and an extractive
summary of the transcript. Everything is written to the job's local scratch folder and uploaded
under the tenant's job prefix at the end, the result document last (what readers wait for).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from clipsift_common.blobkeys import job_prefix
from clipsift_common.grpc_client import ServiceClient
from clipsift_common.objectstore import ObjectBlobStore
from clipsift_common.worker import JobContext, JobFailed

from .frame_analysis import FrameAnalysis, FrameAnalyzer
from .frames import sample_frames
from .keyframes import Keyframe, Scene, choose_keyframes, detect_scenes, sharpness
from .media import extract_audio, fit_within, frame_jpeg
from .probe import MediaInfo, probe
from .settings import VideoSettings
from .sources import job_source_ref, job_workspace, open_source
from .speech import transcribe_words
from .summary import KeyframeCandidate, extractive_summary, top_keyframes
from .transcript import plain_text, sentences

log = logging.getLogger(__name__)
KIND = "video_analysis"
# Overall progress at which each step ends.
_STEPS = {"probe": 0.02, "scenes": 0.35, "keyframes": 0.45, "analyse": 0.55, "transcribe": 0.97}
# Sharpness is measured on frames this wide: enough for edges, cheap to decode.
_SHARPNESS_WIDTH = 320
_ANALYSE_BATCH = 16


def result_key(tenant_id: str, job_id: str) -> str:
    """The result document; its keyframe files are listed relative to the job's prefix."""
    return f"{job_prefix(tenant_id, job_id)}/analysis/result.json"


class VideoAnalysisJob:
    def __init__(
        self, settings: VideoSettings, blobs: ObjectBlobStore, audio: ServiceClient, analyzer: FrameAnalyzer
    ) -> None:
        self.settings = settings
        self.blobs = blobs
        self.audio = audio
        self.analyzer = analyzer

    async def __call__(self, ctx: JobContext) -> Mapping[str, Any]:
        key = result_key(ctx.tenant_id, ctx.job_id)
        if await asyncio.to_thread(self.blobs.exists, key):
            return _summary(ctx.tenant_id, json.loads(await asyncio.to_thread(self.blobs.read_bytes, key)))
        language = ctx.options.get("language", "")
        if not isinstance(language, str):
            raise JobFailed("language must be a string")
        ref = job_source_ref(ctx.options, ctx.tenant_id)
        prefix = job_prefix(ctx.tenant_id, ctx.job_id)
        async with job_workspace(self.settings, ctx.job_id) as work:
            (work / "analysis" / "keyframes").mkdir(parents=True)
            try:
                async with open_source(self.blobs, self.settings, ref, work / "source") as source:
                    manifest = await self._run(ctx, source, work, language)
                await asyncio.to_thread(self._publish, prefix, work, manifest)
            except OSError as exc:
                raise JobFailed(f"analysis failed: {exc}") from exc
            finally:
                await asyncio.to_thread(self.blobs.delete_prefix, f"{prefix}/work")
        return _summary(ctx.tenant_id, manifest)

    async def _run(self, ctx: JobContext, source: Path, work: Path, language: str) -> dict[str, Any]:
        started = time.perf_counter()
        info = await probe(
            source, ffprobe=self.settings.ffprobe, timeout_seconds=self.settings.ffprobe_timeout_seconds
        )
        limit = self.settings.max_analysis_seconds
        if info.duration > limit:
            raise JobFailed(f"the video lasts {info.duration:.0f}s; the limit is {limit:.0f}s")
        await ctx.progress("probe", _STEPS["probe"], f"{info.width}x{info.height}, {info.duration:.1f}s")
        ctx.step_done("probe")

        scenes, samples = await asyncio.gather(self._scenes(ctx, source, info), self._sharpness(source, info))
        keyframes = choose_keyframes(scenes, samples, self.settings.max_keyframes)
        await ctx.progress("scenes", _STEPS["scenes"], f"{len(scenes)} scenes")
        ctx.step_done("scenes")

        size = fit_within(info.width, info.height, self.settings.keyframe_long_side)
        for number, keyframe in enumerate(keyframes):
            await frame_jpeg(
                source,
                keyframe.t,
                work / "analysis" / "keyframes" / f"{number:03d}.jpg",
                size,
                ffmpeg=self.settings.ffmpeg,
            )
        await ctx.progress("keyframes", _STEPS["keyframes"], f"{len(keyframes)} keyframes")
        ctx.step_done("keyframes")

        analyses = await self._analyse(work, len(keyframes))
        await ctx.progress("analyse", _STEPS["analyse"], f"{sum(len(a.faces) for a in analyses)} faces")
        ctx.step_done("analyse")

        transcript = await self._transcript(ctx, source, work, info, language)
        ctx.step_done("transcribe")

        candidates = [
            KeyframeCandidate(n, scenes[k.scene].seconds, k.sharpness, len(a.faces), int(a.phash or "0", 16))
            for n, (k, a) in enumerate(zip(keyframes, analyses, strict=True))
        ]
        top = top_keyframes(candidates, self.settings.top_keyframes)
        return {
            "job_id": ctx.job_id,
            "source": asdict(info) | {"has_audio": info.has_audio},
            "scenes": [
                {"index": i, "start": round(s.start, 3), "end": round(s.end, 3)} for i, s in enumerate(scenes)
            ],
            "keyframes": [
                _keyframe_view(n, k, a, size)
                for n, (k, a) in enumerate(zip(keyframes, analyses, strict=True))
            ],
            "transcript": transcript,
            "summary": {
                "keyframes": top,
                "transcript": transcript["summary"],
                "text": " ".join(s["text"] for s in transcript["summary"]),
            },
            "timings_seconds": {"total": round(time.perf_counter() - started, 3)},
        }

    async def _scenes(self, ctx: JobContext, source: Path, info: MediaInfo) -> list[Scene]:
        start, end = _STEPS["probe"], _STEPS["scenes"]

        def position(seconds: float) -> None:
            ctx.progress_threadsafe(
                "scenes", start + (end - start) * min(1.0, seconds / info.duration), f"{seconds:.0f}s scanned"
            )

        return await asyncio.to_thread(
            detect_scenes,
            str(source),
            threshold=self.settings.scene_threshold,
            min_scene_seconds=self.settings.min_scene_seconds,
            duration=info.duration,
            on_position=position,
        )

    async def _sharpness(self, source: Path, info: MediaInfo) -> list[tuple[float, float]]:
        width, height = fit_within(info.width, info.height, _SHARPNESS_WIDTH)
        found = []
        frames = sample_frames(
            source,
            0.0,
            None,
            self.settings.analysis_sample_fps,
            (width, height),
            self.settings.ffmpeg,
            pix_fmt="gray",
        )
        async for t, raw in frames:
            found.append((t, sharpness(np.frombuffer(raw, np.uint8).reshape(height, width))))
        return found

    async def _analyse(self, work: Path, count: int) -> list[FrameAnalysis]:
        results: list[FrameAnalysis] = []
        for first in range(0, count, _ANALYSE_BATCH):
            frames = [
                (work / "analysis" / "keyframes" / f"{number:03d}.jpg").read_bytes()
                for number in range(first, min(count, first + _ANALYSE_BATCH))
            ]
            results.extend(await self.analyzer.analyze(frames))
        return results

    async def _transcript(
        self, ctx: JobContext, source: Path, work: Path, info: MediaInfo, language: str
    ) -> dict[str, Any]:
        empty: dict[str, Any] = {"language": "", "text": "", "words": 0, "sentences": [], "summary": []}
        if not info.has_audio:
            return empty | {"note": "the video has no audio track"}
        audio_key = f"{job_prefix(ctx.tenant_id, ctx.job_id)}/work/audio.wav"
        await extract_audio(
            source, work / "audio.wav", ffmpeg=self.settings.ffmpeg, expected_duration=info.duration
        )
        await asyncio.to_thread(self.blobs.put_file, audio_key, work / "audio.wav")
        start, end = _STEPS["analyse"], _STEPS["transcribe"]

        async def report(segment_end: float) -> None:
            fraction = min(1.0, segment_end / max(info.duration, 1e-6))
            await ctx.progress(
                "transcribe", start + (end - start) * fraction, f"{segment_end:.0f}s transcribed"
            )

        speech = await transcribe_words(
            self.audio,
            audio_key,
            language=language,
            deadline_seconds=self.settings.transcribe_deadline_seconds,
            on_segment=report,
        )
        words, detected = speech.words, speech.language
        if not words:
            return empty | {"language": detected, "note": "no speech found"}
        found = sentences(words)
        chosen = extractive_summary(found, self.settings.summary_sentences)

        def view(s: Any) -> dict[str, Any]:
            return {"start": round(s.start, 3), "end": round(s.end, 3), "text": s.text}

        return {
            "language": detected,
            "language_probability": round(speech.language_probability, 3),
            "text": plain_text(words),
            "words": len(words),
            "sentences": [view(s) for s in found],
            "summary": [view(s) for s in chosen],
        }

    def _publish(self, prefix: str, work: Path, manifest: dict[str, Any]) -> None:
        """The keyframes, then the result document."""
        folder = work / "analysis"
        (folder / "result.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        self.blobs.publish_dir(f"{prefix}/analysis", folder, last="result.json")


def _keyframe_view(
    number: int, keyframe: Keyframe, analysis: FrameAnalysis, size: tuple[int, int]
) -> dict[str, Any]:
    return {
        "index": number,
        "scene": keyframe.scene,
        "t": round(keyframe.t, 3),
        "sharpness": round(keyframe.sharpness, 2),
        "width": size[0],
        "height": size[1],
        "file": f"analysis/keyframes/{number:03d}.jpg",
        "faces": [asdict(f) for f in analysis.faces],
        "phash": analysis.phash,
        "dhash": analysis.dhash,
        "whash": analysis.whash,
        "colours": [asdict(c) for c in analysis.colours],
        "objects": [asdict(o) for o in analysis.objects],
        "text": analysis.text,
        "quality": analysis.quality,
    }


def _summary(tenant_id: str, manifest: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "result_key": result_key(tenant_id, manifest["job_id"]),
        "scenes": len(manifest["scenes"]),
        "keyframes": len(manifest["keyframes"]),
        "words": manifest["transcript"]["words"],
        "duration": manifest["source"]["duration"],
    }
