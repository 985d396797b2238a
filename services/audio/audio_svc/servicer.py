"""gRPC AudioService: streamed transcripts with word timings, spoken language, audio features."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
from faster_whisper.transcribe import Segment

from clipsift.audio.v1 import audio_pb2, audio_pb2_grpc
from clipsift_common.blobstore import LocalBlobStore
from clipsift_common.errors import InvalidArgument, NotFound, ResourceExhausted, Unavailable

from .decode import decode_audio
from .features import Analysis, FeatureOptions, analyse
from .model import SpeechModel, TranscribeOptions, Transcription
from .settings import AudioSettings
from .threads import iterate_in_thread, run_in_thread

log = logging.getLogger(__name__)

# Loudness windows finer than this would only bloat the response.
MIN_WINDOW_SECONDS = 0.01


class AudioServicer(audio_pb2_grpc.AudioServiceServicer):
    """Serves the model once ``load`` has run; before that every call is UNAVAILABLE."""

    def __init__(self, settings: AudioSettings, model: SpeechModel | None = None) -> None:
        self.settings = settings
        self.blobs = LocalBlobStore(settings.blob_dir)
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
        audio_input = self._audio_input(request.audio)
        async with self.inference:
            start = time.perf_counter()
            audio = await run_in_thread(decode_audio, audio_input, self.settings.max_audio_seconds)
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
        audio_input = self._audio_input(request)
        async with self.inference:
            audio = await run_in_thread(decode_audio, audio_input, self.settings.max_audio_seconds)
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
        audio_input = self._audio_input(request.audio)
        features = await asyncio.to_thread(self._features, audio_input, options)
        return _features_message(features)

    def _features(self, audio_input: Path | bytes, options: FeatureOptions) -> Analysis:
        return analyse(decode_audio(audio_input, self.settings.max_audio_seconds), options)

    def _loaded_model(self) -> SpeechModel:
        if self.model is None:
            raise Unavailable("the speech model is still loading")
        return self.model

    def _audio_input(self, source: audio_pb2.AudioSource) -> Path | bytes:
        """The file behind a blob key, or the inline bytes, checked against the limits."""
        kind = source.WhichOneof("source")
        if kind == "blob_key":
            path = self.blobs.local_path(source.blob_key)
            if not path.is_file():
                raise NotFound(f"blob {source.blob_key} not found")
            return path
        if kind == "data":
            size, limit = len(source.data), self.settings.max_inline_bytes
            if size > limit:
                raise ResourceExhausted(
                    f"inline audio is {size} bytes; the limit is {limit} (upload it and pass blob_key)"
                )
            return bytes(source.data)
        raise InvalidArgument("no audio given: set blob_key or data")

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
