"""The clip job: one long video in, the N best short clips out.

Steps, each reported as progress: probe, extract audio, transcribe (audio service, streamed),
audio features, candidates and scores, then per chosen clip: faces (vision service), reframe,
captions, render. Every file of every clip is rendered into a private work folder first and
moved into place only when all clips are done, with the manifest written last: a failed or
killed job never publishes a partial clip, and a redelivered job starts clean.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from collections.abc import Mapping
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from clipsift.audio.v1 import audio_pb2, audio_pb2_grpc
from clipsift_common.blobstore import LocalBlobStore
from clipsift_common.contracts import ClipOptions
from clipsift_common.errors import ClipsiftError, InvalidArgument
from clipsift_common.grpc_client import ServiceClient
from clipsift_common.worker import JobContext, JobFailed

from . import captions, fillers, reframe, render
from .candidates import Candidate, candidate_clips, pick_non_overlapping
from .embeddings import SentenceEmbedder
from .faces import face_samples
from .languages import LanguageRules, rules_for
from .llm_ranker import LlmRanker
from .media import extract_audio, thumbnail
from .model import CaptionStyle, CropPath, ScoreBreakdown, Word
from .probe import MediaInfo, probe
from .repeats import RepeatFinder
from .reranking import rerank_with_llm
from .scenes import scene_cuts
from .scoring import Scorer, ScoringContext, TalkAnalysis
from .settings import VideoSettings
from .sources import job_source
from .speech import Speech, transcribe_words
from .transcript import plain_text, sentences

log = logging.getLogger(__name__)
KIND = "clip"
# Overall progress at which each step ends; clips share the rest equally.
_STEPS = {"probe": 0.02, "extract_audio": 0.06, "transcribe": 0.5, "audio_features": 0.53, "score": 0.56}
_PLAIN_STYLE = CaptionStyle(highlight_colour=CaptionStyle().primary_colour)


def manifest_key(job_id: str) -> str:
    return f"jobs/{job_id}/clips/manifest.json"


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


class ClipJob:
    def __init__(
        self,
        settings: VideoSettings,
        blobs: LocalBlobStore,
        audio: ServiceClient,
        vision: ServiceClient,
        repeats: RepeatFinder | None = None,
    ) -> None:
        self.settings = settings
        self.repeats = repeats
        self.blobs = blobs
        self.audio = audio
        self.vision = vision
        self.scorer = Scorer(
            settings.score_weights(), SentenceEmbedder(settings.embedding_model, settings.embedding_threads)
        )
        self.llm = (
            LlmRanker(
                settings.llm_url,
                settings.llm_model,
                api_key=settings.llm_api_key.get_secret_value(),
                timeout_seconds=settings.llm_timeout_seconds,
                max_candidates=settings.llm_candidates,
            )
            if settings.llm_url
            else None
        )

    async def __call__(self, ctx: JobContext) -> Mapping[str, Any]:
        key = manifest_key(ctx.job_id)
        if self.blobs.exists(key):
            # Redelivered after the clips were published: report them again, render nothing.
            return _summary(json.loads(self.blobs.read_bytes(key)))
        raw = dict(ctx.options)
        source_key, source_path = raw.pop("source_key", ""), raw.pop("source_path", "")
        try:
            options = ClipOptions.model_validate(
                {k: v for k, v in raw.items() if k in ClipOptions.model_fields}
            )
        except ValidationError as exc:
            raise JobFailed(f"invalid clip options: {exc.errors()[0]['msg']}") from exc
        if not isinstance(source_key, str) or not isinstance(source_path, str):
            raise JobFailed("the job's source must be a blob key or a server path")
        if options.count > self.settings.max_clips:
            raise JobFailed(f"{options.count} clips requested; the limit is {self.settings.max_clips}")
        source = await job_source(
            self.blobs, self.settings.allowed_source_roots, blob_key=source_key, path=source_path
        )
        work = self.blobs.local_path(f"work/{ctx.job_id}")
        shutil.rmtree(work, ignore_errors=True)  # a previous attempt's leftovers
        work.mkdir(parents=True)
        try:
            manifest = await self._run(ctx, source, work, options)
        except ClipsiftError:
            raise
        except (render.RenderError, OSError) as exc:
            raise JobFailed(f"rendering failed: {exc}") from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return _summary(manifest)

    async def _step(self, ctx: JobContext, step: str, message: str = "") -> None:
        await ctx.progress(step, _STEPS[step], message)
        ctx.step_done(step)

    async def _run(self, ctx: JobContext, source: Path, work: Path, options: ClipOptions) -> dict[str, Any]:
        started = time.perf_counter()
        timings: dict[str, float] = {}
        warnings: list[str] = []

        def lap(step: str, since: float) -> float:
            now = time.perf_counter()
            timings[step] = round(now - since, 3)
            return now

        t = time.perf_counter()
        info = await probe(source, ffprobe=self.settings.ffprobe, require_audio=True)
        limit = self.settings.max_duration_seconds
        if info.duration > limit:
            raise JobFailed(f"the video lasts {info.duration:.0f}s; the limit is {limit:.0f}s")
        window = _clip_window(options, info.duration)
        await self._step(
            ctx, "probe", f"{info.width}x{info.height}, {info.duration:.1f}s, {info.video_codec}"
        )
        t = lap("probe", t)

        audio_key = f"work/{ctx.job_id}/audio.wav"
        await extract_audio(
            source,
            self.blobs.local_path(audio_key),
            ffmpeg=self.settings.ffmpeg,
            expected_duration=info.duration,
            window=window,
        )
        await self._step(ctx, "extract_audio")
        t = lap("extract_audio", t)

        # Loudness and VAD are light next to decoding speech: compute them alongside, not after.
        features_call = asyncio.ensure_future(
            self.audio.call(
                audio_pb2_grpc.AudioServiceStub(self.audio.channel).AudioFeatures,
                audio_pb2.AudioFeaturesRequest(audio=audio_pb2.AudioSource(blob_key=audio_key)),
            )
        )
        offset = window[0] if window else 0.0
        try:
            speech = await self._transcribe(ctx, audio_key, info, options.language, offset)
        except BaseException:
            features_call.cancel()
            raise
        words, language = speech.words, speech.language
        if not words:
            features_call.cancel()
            where = f"between {window[0]:.0f}s and {window[1]:.0f}s" if window else "in the video"
            raise JobFailed(f"no speech found {where}: there is nothing to clip")
        rules = rules_for(language)
        if rules is None:
            warnings.append(
                f"clips in language '{language}' are judged without its word lists (fillers, openers, "
                "number words): only en, es, de, fr and pt have them"
            )
        if not options.language and speech.language_probability < 0.5:
            warnings.append(
                f"the spoken language is uncertain ({language}, probability "
                f"{speech.language_probability:.2f}); set language= if it is wrong"
            )
        await self._step(
            ctx, "transcribe", f"{len(words)} words, language {language} ({speech.language_probability:.2f})"
        )
        t = lap("transcribe", t)

        features = await features_call
        await self._step(ctx, "audio_features")
        t = lap("audio_features", t)

        talk, ranked = await asyncio.to_thread(
            self._rank, words, options, rules, list(features.loudness_db), features.window_seconds, offset
        )
        dropped: list[dict[str, Any]] = []
        if options.against_index:
            ranked, dropped = await self._drop_repeats(
                ctx.tenant_id, source, info.duration, ranked, options, warnings
            )
        chosen = pick_non_overlapping([(b.total, c) for b, c in ranked], options.count)
        if not chosen and dropped:
            raise JobFailed(
                "every candidate clip repeats what the tenant's indexes already hold "
                f"({len(dropped)} dropped)"
            )
        if not chosen:
            raise JobFailed(
                f"no stretch of whole sentences lasts between {options.min_seconds:.0f}s and "
                f"{options.max_seconds:.0f}s (the video has {len(words)} words over {info.duration:.0f}s)"
            )
        breakdowns = {id(candidate): breakdown for breakdown, candidate in ranked}
        ranker = "built-in"
        if self.llm is not None:
            outcome = await rerank_with_llm(
                self.llm,
                ranked,
                options,
                language,
                shortlist_size=self.settings.llm_candidates,
                weight=self.settings.llm_weight,
            )
            if outcome.warning:
                warnings.append(outcome.warning)
            else:
                ranker = f"built-in + llm ({outcome.model})"
                breakdowns.update(outcome.breakdowns)
                chosen = outcome.chosen[: options.count]
        await self._step(ctx, "score", f"{len(ranked)} candidates, {len(chosen)} chosen ({ranker})")
        t = lap("score", t)

        clips = []
        share = (1.0 - _STEPS["score"] - 0.02) / len(chosen)
        for number, (_, candidate) in enumerate(chosen, start=1):
            clip = await self._make_clip(
                number, candidate, breakdowns[id(candidate)], talk, source, info, work, options, words
            )
            clips.append(clip)
            await ctx.progress(
                "render", _STEPS["score"] + share * number, f"clip {number}/{len(chosen)} rendered"
            )
        ctx.step_done("render")
        lap("clips", t)

        manifest = {
            "job_id": ctx.job_id,
            "source": asdict(info) | {"has_audio": info.has_audio},
            "language": language,
            "language_probability": round(speech.language_probability, 3),
            "language_detected": not options.language,
            "ranker": ranker,
            "warnings": warnings,
            "repeats_dropped": dropped,
            "options": options.model_dump(),
            "clips": clips,
            "timings_seconds": timings | {"total": round(time.perf_counter() - started, 3)},
        }
        await asyncio.to_thread(self._publish, ctx.job_id, work, clips, manifest)
        return manifest

    async def _drop_repeats(
        self,
        tenant: str,
        source: Path,
        duration: float,
        ranked: list[tuple[ScoreBreakdown, Candidate]],
        options: ClipOptions,
        warnings: list[str],
    ) -> tuple[list[tuple[ScoreBreakdown, Candidate]], list[dict[str, Any]]]:
        """The candidates without those the tenant already has, and what was dropped and why.

        The best few non-overlapping candidates are checked (three per clip asked for); every
        candidate lying mostly inside a repeat goes with it.
        """
        if self.repeats is None:
            warnings.append("against_index was asked for but no index is configured: nothing was checked")
            return ranked, []
        shortlist = [c for _, c in pick_non_overlapping([(b.total, c) for b, c in ranked], 3 * options.count)]
        found, notes = await self.repeats.find(tenant, source, duration, shortlist)
        warnings.extend(notes)
        spans = [(c.start, c.end) for c in shortlist if id(c) in found]

        def repeated(candidate: Candidate) -> bool:
            return any(
                min(candidate.end, end) - max(candidate.start, start) > 0.5 * candidate.duration
                for start, end in spans
            )

        dropped = [
            {"start": round(c.start, 3), "end": round(c.end, 3), "reason": found[id(c)].reason}
            for c in shortlist
            if id(c) in found
        ]
        return [(b, c) for b, c in ranked if not repeated(c)], dropped

    async def _transcribe(
        self, ctx: JobContext, audio_key: str, info: MediaInfo, language: str, offset: float
    ) -> Speech:
        start, end = _STEPS["extract_audio"], _STEPS["transcribe"]

        async def report(segment_end: float) -> None:
            fraction = min(1.0, (offset + segment_end) / max(info.duration, 1e-6))
            await ctx.progress(
                "transcribe", start + (end - start) * fraction, f"{offset + segment_end:.0f}s transcribed"
            )

        try:
            speech = await transcribe_words(
                self.audio,
                audio_key,
                language=language,
                deadline_seconds=self.settings.transcribe_deadline_seconds,
                on_segment=report,
            )
        except InvalidArgument as exc:
            # The speech model cannot transcribe the requested language: say which, fail the job.
            raise JobFailed(f"cannot transcribe language '{language}': {exc}") from exc
        if offset:
            # Words of a clipped range come back on the range's own timeline.
            moved = [replace(w, start=w.start + offset, end=w.end + offset) for w in speech.words]
            speech = replace(speech, words=moved)
        return speech

    def _rank(
        self,
        words: list[Word],
        options: ClipOptions,
        rules: LanguageRules | None,
        loudness: list[float],
        window: float,
        offset: float,
    ) -> tuple[TalkAnalysis, list[tuple[ScoreBreakdown, Candidate]]]:
        found = sentences(words)
        talk = self.scorer.analyse(found, rules, prompt=options.prompt, topic_keywords=options.topic_keywords)
        speech = sorted(v for v in loudness if v > -60) or [-30.0]
        context = ScoringContext(
            loudness_db=loudness,
            window_seconds=window or 0.5,
            speech_loudness_db=speech[len(speech) // 2],
            targets=options.targets,
            min_seconds=options.min_seconds,
            max_seconds=options.max_seconds,
            loudness_offset=offset,
        )
        weights = self.scorer.weights(options.genre, with_relevance=talk.relevance is not None)
        candidates = candidate_clips(found, options.min_seconds, options.max_seconds)
        return talk, [(self.scorer.score(c, talk, context, weights), c) for c in candidates]

    async def _make_clip(
        self,
        number: int,
        candidate: Candidate,
        breakdown: ScoreBreakdown,
        talk: TalkAnalysis,
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
            "faces_and_cuts": round(analysed - began, 3),
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

    def _publish(
        self, job_id: str, work: Path, clips: list[dict[str, Any]], manifest: dict[str, Any]
    ) -> None:
        target = self.blobs.local_path(f"jobs/{job_id}/clips")
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for clip in clips:
            name = f"{clip['index']:02d}"
            (work / "clips" / name).replace(target / name)
        self.blobs.put_bytes(manifest_key(job_id), json.dumps(manifest, indent=2).encode())


def _clip_window(options: ClipOptions, duration: float) -> tuple[float, float] | None:
    """The part of the video to clip from (None: all of it); a range past the end fails the job."""
    if options.range_start == 0 and options.range_end is None:
        return None
    if options.range_start >= duration:
        raise JobFailed(f"the range starts at {options.range_start:.0f}s but the video lasts {duration:.0f}s")
    end = min(options.range_end or duration, duration)
    if end - options.range_start < options.min_seconds:
        raise JobFailed(
            f"the range {options.range_start:.0f}-{end:.0f}s of this {duration:.0f}s video is shorter "
            f"than min_seconds ({options.min_seconds:.0f})"
        )
    return options.range_start, end


def _summary(manifest: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "clips": len(manifest["clips"]),
        # Every job kind names its result document "result_key": GET /v1/jobs/{id}/result serves it.
        "result_key": manifest_key(manifest["job_id"]),
        "best_score": max((c["score"]["total"] for c in manifest["clips"]), default=0.0),
        "duration": manifest["source"]["duration"],
        "language": manifest.get("language", ""),
        "warnings": manifest.get("warnings", []),
        # Usage analytics sums this across job kinds.
        "media_seconds": manifest["source"]["duration"],
    }
