"""The clip job: one long video in, the N best short clips out.

Steps, each reported as progress: probe, extract audio, transcribe (audio service, streamed),
audio features, candidates and scores, then per chosen clip: faces (vision service), reframe,
captions, render. Every file of every clip is rendered into the job's local scratch folder
first and uploaded to the blob store only when all clips are done, under the tenant's job prefix,
with the manifest uploaded last: a failed or killed job never publishes a manifest (what readers
wait for), and a redelivered job starts clean. The scratch folder and the job's temporary blobs
(the extracted audio) go when the job ends, however it ends.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from clipsift.audio.v1 import audio_pb2, audio_pb2_grpc
from clipsift_common.blobkeys import job_prefix
from clipsift_common.contracts import ClipOptions
from clipsift_common.errors import ClipsiftError, InvalidArgument
from clipsift_common.grpc_client import ServiceClient
from clipsift_common.objectstore import ObjectBlobStore
from clipsift_common.worker import JobContext, JobFailed

from . import render
from .candidates import Candidate, candidate_clips, pick_non_overlapping
from .clip_render import ClipRenderer, FrameAnalysis
from .embeddings import SentenceEmbedder
from .languages import LanguageRules, rules_for
from .llm_ranker import LlmRanker
from .media import extract_audio
from .model import ScoreBreakdown, Word
from .probe import MediaInfo, probe
from .repeats import RepeatFinder
from .reranking import rerank_with_llm
from .scoring import Scorer, ScoringContext, TalkAnalysis
from .settings import VideoSettings
from .sources import job_source_ref, job_workspace, open_source
from .speech import Speech, transcribe_words
from .transcript import sentences, split_long

log = logging.getLogger(__name__)
KIND = "clip"


@dataclass(frozen=True)
class _Choice:
    """The clips chosen, best first, with what explains their scores."""

    talk: TalkAnalysis
    chosen: list[Candidate]
    breakdowns: dict[int, ScoreBreakdown]  # by id() of the candidate
    ranker: str
    dropped: list[dict[str, Any]]


# Overall progress at which each step ends; clips share the rest equally.
_STEPS = {"probe": 0.02, "extract_audio": 0.06, "transcribe": 0.5, "audio_features": 0.53, "score": 0.56}


def manifest_key(tenant_id: str, job_id: str) -> str:
    """The clip set's manifest; its files are listed relative to the job's prefix."""
    return f"{job_prefix(tenant_id, job_id)}/clips/manifest.json"


class ClipJob:
    def __init__(
        self,
        settings: VideoSettings,
        blobs: ObjectBlobStore,
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
        self.renderer = ClipRenderer(settings, vision, self.scorer)
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
        key = manifest_key(ctx.tenant_id, ctx.job_id)
        if await asyncio.to_thread(self.blobs.exists, key):
            # Redelivered after the clips were published: report them again, render nothing.
            return _summary(ctx.tenant_id, json.loads(await asyncio.to_thread(self.blobs.read_bytes, key)))
        try:
            options = ClipOptions.model_validate(
                {k: v for k, v in ctx.options.items() if k in ClipOptions.model_fields}
            )
        except ValidationError as exc:
            raise JobFailed(f"invalid clip options: {exc.errors()[0]['msg']}") from exc
        ref = job_source_ref(ctx.options, ctx.tenant_id)
        if options.count > self.settings.max_clips:
            raise JobFailed(f"{options.count} clips requested; the limit is {self.settings.max_clips}")
        temporary = f"{job_prefix(ctx.tenant_id, ctx.job_id)}/work"
        async with job_workspace(self.settings, ctx.job_id) as work:
            try:
                async with open_source(self.blobs, self.settings, ref, work / "source") as source:
                    manifest = await self._run(ctx, source, work, options)
            except ClipsiftError:
                raise
            except (render.RenderError, OSError) as exc:
                raise JobFailed(f"rendering failed: {exc}") from exc
            finally:
                await asyncio.to_thread(self.blobs.delete_prefix, temporary)
        return _summary(ctx.tenant_id, manifest)

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
        info = await probe(
            source,
            ffprobe=self.settings.ffprobe,
            timeout_seconds=self.settings.ffprobe_timeout_seconds,
            require_audio=True,
        )
        limit = self.settings.max_duration_seconds
        if info.duration > limit:
            raise JobFailed(f"the video lasts {info.duration:.0f}s; the limit is {limit:.0f}s")
        window = _clip_window(options, info.duration)
        await self._step(
            ctx, "probe", f"{info.width}x{info.height}, {info.duration:.1f}s, {info.video_codec}"
        )
        t = lap("probe", t)

        # The audio service reads the speech from the blob store (it may run on another machine).
        audio_key = f"{job_prefix(ctx.tenant_id, ctx.job_id)}/work/audio.wav"
        await extract_audio(
            source,
            work / "audio.wav",
            ffmpeg=self.settings.ffmpeg,
            expected_duration=info.duration,
            window=window,
        )
        await asyncio.to_thread(self.blobs.put_file, audio_key, work / "audio.wav")
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
            speech = await self._listen(ctx, audio_key, info, options, window, offset, warnings)
        except BaseException:
            features_call.cancel()
            raise
        t = lap("transcribe", t)
        features = await features_call
        await self._step(ctx, "audio_features")
        t = lap("audio_features", t)

        choice = await self._choose(ctx, source, info, speech, features, options, offset, warnings)
        t = lap("score", t)
        clips = await self._render_clips(ctx, choice, speech.words, source, info, work, options)
        lap("clips", t)

        manifest = {
            "job_id": ctx.job_id,
            "source": asdict(info) | {"has_audio": info.has_audio},
            "language": speech.language,
            "language_probability": round(speech.language_probability, 3),
            "language_detected": not options.language,
            "ranker": choice.ranker,
            "warnings": warnings,
            "repeats_dropped": choice.dropped,
            "options": options.model_dump(),
            "clips": clips,
            "timings_seconds": timings | {"total": round(time.perf_counter() - started, 3)},
        }
        await asyncio.to_thread(self._publish, job_prefix(ctx.tenant_id, ctx.job_id), work, manifest)
        return manifest

    async def _listen(
        self,
        ctx: JobContext,
        audio_key: str,
        info: MediaInfo,
        options: ClipOptions,
        window: tuple[float, float] | None,
        offset: float,
        warnings: list[str],
    ) -> Speech:
        """The words and their language, with a warning where the language is unsure or has no
        word lists; no words at all fails the job."""
        speech = await self._transcribe(ctx, audio_key, info, options.language, offset)
        words, language = speech.words, speech.language
        if not words:
            where = f"between {window[0]:.0f}s and {window[1]:.0f}s" if window else "in the video"
            raise JobFailed(f"no speech found {where}: there is nothing to clip")
        if rules_for(language) is None:
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
        return speech

    async def _choose(
        self,
        ctx: JobContext,
        source: Path,
        info: MediaInfo,
        speech: Speech,
        features: audio_pb2.AudioFeaturesResponse,
        options: ClipOptions,
        offset: float,
        warnings: list[str],
    ) -> _Choice:
        """Candidates scored, repeats of the tenant's indexes dropped, the best non-overlapping
        ones chosen (re-ranked by the LLM when one is configured)."""
        talk, ranked = await asyncio.to_thread(
            self._rank,
            speech.words,
            options,
            rules_for(speech.language),
            list(features.loudness_db),
            features.window_seconds,
            offset,
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
                f"{options.max_seconds:.0f}s (the video has {len(speech.words)} words over "
                f"{info.duration:.0f}s)"
            )
        breakdowns = {id(candidate): breakdown for breakdown, candidate in ranked}
        ranker = "built-in"
        if self.llm is not None:
            outcome = await rerank_with_llm(
                self.llm,
                ranked,
                options,
                speech.language,
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
        return _Choice(talk, [c for _, c in chosen], breakdowns, ranker, dropped)

    async def _render_clips(
        self,
        ctx: JobContext,
        choice: _Choice,
        words: list[Word],
        source: Path,
        info: MediaInfo,
        work: Path,
        options: ClipOptions,
    ) -> list[dict[str, Any]]:
        clips = []
        chosen = choice.chosen
        share = (1.0 - _STEPS["score"] - 0.02) / len(chosen)

        # The next clip's faces and cuts are found while this one renders: x264 leaves part of the
        # CPU idle, and the analysis (decode at low resolution, face model) fills it.
        def analyse(index: int) -> asyncio.Future[FrameAnalysis]:
            return asyncio.ensure_future(self.renderer.analyse(chosen[index], source, info))

        ahead = analyse(0)
        try:
            for number, candidate in enumerate(chosen, start=1):
                analysis = await ahead
                if number < len(chosen):
                    ahead = analyse(number)
                clip = await self.renderer.make_clip(
                    number,
                    candidate,
                    choice.breakdowns[id(candidate)],
                    choice.talk,
                    analysis,
                    source,
                    info,
                    work,
                    options,
                    words,
                )
                clips.append(clip)
                await ctx.progress(
                    "render", _STEPS["score"] + share * number, f"clip {number}/{len(chosen)} rendered"
                )
        finally:
            ahead.cancel()
        ctx.step_done("render")
        return clips

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
        found = split_long(sentences(words), options.max_seconds)
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

    def _publish(self, prefix: str, work: Path, manifest: dict[str, Any]) -> None:
        """Upload every clip's files, then the manifest: readers wait for the manifest, so they
        see the set complete or not at all."""
        folder = work / "clips"
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        self.blobs.publish_dir(f"{prefix}/clips", folder, last="manifest.json")


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


def _summary(tenant_id: str, manifest: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "clips": len(manifest["clips"]),
        # Every job kind names its result document "result_key": GET /v1/jobs/{id}/result serves it.
        "result_key": manifest_key(tenant_id, manifest["job_id"]),
        "best_score": max((c["score"]["total"] for c in manifest["clips"]), default=0.0),
        "duration": manifest["source"]["duration"],
        "language": manifest.get("language", ""),
        "warnings": manifest.get("warnings", []),
        # Usage analytics sums this across job kinds.
        "media_seconds": manifest["source"]["duration"],
    }
