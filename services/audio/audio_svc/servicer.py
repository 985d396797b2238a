"""gRPC AudioService: streamed transcripts with word timings, spoken language, audio features."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
from faster_whisper.transcribe import Segment

from clipsift.audio.v1 import audio_pb2, audio_pb2_grpc
from clipsift_common.errors import InvalidArgument, ResourceExhausted, Unavailable
from clipsift_common.objectstore import ObjectBlobStore, open_blob_store

from .decode import Samples, decode_audio
from .features import Analysis, FeatureOptions, analyse
from .model import SpeechModel, TranscribeOptions, Transcription
from .settings import AudioSettings
from .threads import iterate_in_thread, run_in_thread

log = logging.getLogger(__name__)

# Loudness windows finer than this would only bloat the response.
MIN_WINDOW_SECONDS = 0.01


class AudioServicer(audio_pb2_grpc.AudioServiceServicer):
    """Serves the model once ``load`` has run; before that every call is UNAVAILABLE."""

    def __init__(
        self, settings: AudioSettings, model: SpeechModel | None = None, blobs: ObjectBlobStore | None = None
    ) -> None:
        self.settings = settings
        self.blobs = blobs or open_blob_store(settings)
        self.model = model
        # Held from decoding to the last segment: the model is the scarce resource.
        self.inference = asyncio.Semaphore(settings.max_concurrent_transcriptions)

    async def load(self) -> None:
        """Load the model off the event loop (health checks keep answering NOT_SERVING meanwhile)."""
        self.model = await asyncio.to_thread(SpeechModel.load, self.settings)

    async def Transcribe(
        self, request: audio_pb2.TranscribeRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[audio_pb2.TranscriptSegment]:
        model = self._loaded_model()
        options = self._transcribe_options(model, request)
        self._check_source(request.audio)
        async with self.inference:
            start = time.perf_counter()
            audio = await run_in_thread(self._decode, request.audio)
            transcription = await run_in_thread(model.transcribe, audio, options)
            count = 0
            async for segment in iterate_in_thread(transcription.segments):
                yield _segment_message(count, segment, transcription)
                count += 1
            elapsed = time.perf_counter() - start
            log.info(
                "transcribed",
                extra={
                    "audio_seconds": round(transcription.duration, 3),
                    "segments": count,
                    "language": transcription.language,
                    "seconds": round(elapsed, 3),
                    "real_time_factor": round(elapsed / max(transcription.duration, 1e-9), 4),
                },
            )

    async def DetectLanguage(
        self, request: audio_pb2.AudioSource, context: grpc.aio.ServicerContext
    ) -> audio_pb2.LanguageResult:
        model = self._loaded_model()
        self._check_source(request)
        async with self.inference:
            audio = await run_in_thread(self._decode, request)
            guess = await run_in_thread(model.detect_language, audio)
        log.info(
            "language",
            extra={"language": guess.language, "probability": guess.probability, "detected": guess.detected},
        )
        return audio_pb2.LanguageResult(
            language=guess.language,
            probability=guess.probability,
            candidates=[
                audio_pb2.LanguageCandidate(language=code, probability=p) for code, p in guess.candidates
            ],
        )

    async def AudioFeatures(
        self, request: audio_pb2.AudioFeaturesRequest, context: grpc.aio.ServicerContext
    ) -> audio_pb2.AudioFeaturesResponse:
        options = self._feature_options(request)
        self._check_source(request.audio)
        features = await asyncio.to_thread(self._features, request.audio, options)
        return _features_message(features)

    def _features(self, source: audio_pb2.AudioSource, options: FeatureOptions) -> Analysis:
        return analyse(self._decode(source), options)

    def _decode(self, source: audio_pb2.AudioSource) -> Samples:
        """The source's samples (blocking: a download on object storage, then decoding)."""
        with self._audio_input(source) as audio_input:
            return decode_audio(audio_input, self.settings.max_audio_seconds)

    def _loaded_model(self) -> SpeechModel:
        if self.model is None:
            raise Unavailable("the speech model is still loading")
        return self.model

    def _check_source(self, source: audio_pb2.AudioSource) -> None:
        """Refuse a request without audio or with inline audio over the limit, before queueing."""
        kind = source.WhichOneof("source")
        if kind == "data":
            size, limit = len(source.data), self.settings.max_inline_bytes
            if size > limit:
                raise ResourceExhausted(
                    f"inline audio is {size} bytes; the limit is {limit} (upload it and pass blob_key)"
                )
        elif kind != "blob_key":
            raise InvalidArgument("no audio given: set blob_key or data")

    @contextlib.contextmanager
    def _audio_input(self, source: audio_pb2.AudioSource) -> Iterator[Path | bytes]:
        """The file behind a blob key (in place on the folder backend, else a copy streamed into
        a scratch folder of this call alone, removed afterwards: two calls on one key never share
        a copy), or the inline bytes."""
        if source.WhichOneof("source") == "data":
            yield bytes(source.data)
            return
        self.settings.scratch.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.TemporaryDirectory(dir=self.settings.scratch, prefix="audio-") as scratch,
            self.blobs.local_file(source.blob_key, Path(scratch)) as path,
        ):
            yield path

    def _transcribe_options(
        self, model: SpeechModel, request: audio_pb2.TranscribeRequest
    ) -> TranscribeOptions:
        language = request.language.strip().lower() or None
        if language is not None and not model.supports_language(language):
            detail = " (the model is English-only)" if not model.multilingual else ""
            raise InvalidArgument(f"language {request.language!r} is not supported{detail}")
        beam_size = request.beam_size or self.settings.default_beam_size
        if beam_size > self.settings.max_beam_size:
            raise InvalidArgument(f"beam_size must be at most {self.settings.max_beam_size}, got {beam_size}")
        return TranscribeOptions(language=language, beam_size=beam_size, vad_filter=request.vad_filter)

    def _feature_options(self, request: audio_pb2.AudioFeaturesRequest) -> FeatureOptions:
        window = request.window_seconds or self.settings.default_window_seconds
        threshold = request.silence_threshold_db or self.settings.default_silence_threshold_db
        min_silence = request.min_silence_seconds or self.settings.default_min_silence_seconds
        if not (math.isfinite(window) and window >= MIN_WINDOW_SECONDS):
            raise InvalidArgument(f"window_seconds must be at least {MIN_WINDOW_SECONDS}, got {window}")
        if not (math.isfinite(threshold) and threshold < 0):
            raise InvalidArgument(f"silence_threshold_db must be below 0 dBFS, got {threshold}")
        if not (math.isfinite(min_silence) and min_silence > 0):
            raise InvalidArgument(f"min_silence_seconds must be positive, got {min_silence}")
        return FeatureOptions(
            window_seconds=window, silence_threshold_db=threshold, min_silence_seconds=min_silence
        )


def _segment_message(
    index: int, segment: Segment, transcription: Transcription
) -> audio_pb2.TranscriptSegment:
    return audio_pb2.TranscriptSegment(
        index=index,
        start=segment.start,
        end=segment.end,
        text=segment.text.strip(),
        words=[
            audio_pb2.Word(text=w.word.strip(), start=w.start, end=w.end, probability=w.probability)
            for w in segment.words or ()
        ],
        avg_logprob=segment.avg_logprob,
        no_speech_prob=segment.no_speech_prob,
        language=transcription.language,
        language_probability=transcription.language_probability,
        duration=transcription.duration,
    )


def _features_message(features: Analysis) -> audio_pb2.AudioFeaturesResponse:
    return audio_pb2.AudioFeaturesResponse(
        duration=features.duration,
        window_seconds=features.window_seconds,
        loudness_db=features.loudness_db.tolist(),
        integrated_lufs=features.integrated_lufs,
        silences=[audio_pb2.Region(start=r.start, end=r.end) for r in features.silences],
        speech=[audio_pb2.Region(start=r.start, end=r.end) for r in features.speech],
    )
