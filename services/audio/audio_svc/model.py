"""The Whisper model (faster-whisper on CTranslate2), loaded once per process from a local directory."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.transcribe import Segment
from faster_whisper.vad import VadOptions, get_speech_timestamps

from .decode import SAMPLE_RATE, Samples
from .settings import AudioSettings

log = logging.getLogger(__name__)

# Language candidates reported by DetectLanguage, most likely first.
LANGUAGE_CANDIDATES = 5
# Whisper identifies the language from one 30 s window at a time.
LANGUAGE_WINDOW_SECONDS = 30.0
# A trailing window shorter than this adds noise rather than evidence.
MIN_LANGUAGE_WINDOW_SECONDS = 10.0
# Speech for language detection is looked for this many seconds of audio at a time, so a
# two-hour recording costs a VAD pass over its first minutes, not over all of it.
SPEECH_SCAN_SECONDS = 120.0
# Batched decoding transcribes stretches of speech of at most one Whisper window each.
SPAN_SECONDS = 30.0
# Spans handed to the batched pipeline per call, in batches: its features are computed up front
# per call, so this bounds their memory (about 1 MB per span) and lets segments stream out.
SPAN_GROUP_BATCHES = 4


@dataclass(frozen=True)
class TranscribeOptions:
    language: str | None  # None: detect from the first 30 s
    beam_size: int
    vad_filter: bool


@dataclass(frozen=True)
class Transcription:
    """What is known before decoding starts; ``segments`` decodes lazily, one segment per step."""

    language: str
    language_probability: float
    duration: float
    segments: Iterator[Segment]


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    probability: float
    candidates: list[tuple[str, float]]
    # False when the model is English-only and "en" is its statement, not a detection.
    detected: bool


NO_SPEECH = LanguageGuess(language="", probability=0.0, candidates=[], detected=False)


class SpeechModel:
    """A loaded Whisper model. Its methods block: call them from a worker thread."""

    def __init__(
        self,
        whisper: WhisperModel,
        name: str,
        *,
        detection_windows: int,
        confident: float,
        batch_size: int = 1,
    ) -> None:
        self.whisper = whisper
        self.name = name
        self.detection_windows = detection_windows
        self.confident = confident
        self.batch_size = batch_size
        self.batched = BatchedInferencePipeline(whisper) if batch_size > 1 else None

    @classmethod
    def load(cls, settings: AudioSettings) -> SpeechModel:
        """Load the model directory named by the settings; never downloads anything.

        faster-whisper treats a path that is not a directory as a hub model name and would
        fetch it, so the directory is checked first and hub access is switched off as well.
        """
        path = settings.model
        if not (path / "model.bin").is_file():
            raise FileNotFoundError(f"{path} is not a CTranslate2 Whisper model directory (no model.bin)")
        start = time.perf_counter()
        whisper = WhisperModel(
            str(path),
            device=settings.device,
            compute_type=settings.compute_type,
            cpu_threads=settings.cpu_threads,
            # One CTranslate2 worker per transcription allowed at once, so they really run in parallel.
            num_workers=settings.max_concurrent_transcriptions,
            local_files_only=True,
        )
        model = cls(
            whisper,
            str(path),
            detection_windows=settings.language_detection_windows,
            confident=settings.language_confident_probability,
            batch_size=settings.batch_size,
        )
        log.info(
            "speech model loaded",
            extra={
                "model": model.name,
                "device": model.device,
                "compute_type": whisper.model.compute_type,
                "multilingual": model.multilingual,
                "batch_size": model.batch_size,
                "seconds": round(time.perf_counter() - start, 3),
            },
        )
        if not model.multilingual:
            log.info("the model is English-only: DetectLanguage reports 'en' without detecting")
        return model

    @property
    def multilingual(self) -> bool:
        return bool(self.whisper.model.is_multilingual)

    @property
    def device(self) -> str:
        """Where the model really runs ("cpu" or "cuda"), whatever the setting asked for."""
        return str(self.whisper.model.device)

    def supports_language(self, code: str) -> bool:
        return code in self.whisper.supported_languages

    def transcribe(self, audio: Samples, options: TranscribeOptions) -> Transcription:
        """Prepare a transcription with word timestamps.

        Voice activity detection and language detection run here, eagerly; the returned
        ``segments`` iterator does the decoding as it is consumed. Without a requested language,
        ``detect_language`` (several windows) decides, not Whisper's one-window guess.

        With a batch size above 1 and VAD on, the stretches of speech are decoded several at a
        time (faster-whisper's batched pipeline: about twice as fast on two CPU cores, many times
        on a GPU, at the same accuracy); each stretch is then decoded without the previous one's
        text as its prompt, which also keeps one misheard stretch from derailing the next.
        """
        language, probability = options.language, 1.0
        if language is None and self.multilingual:
            guess = self.detect_language(audio)
            if guess.language:
                language, probability = guess.language, guess.probability
        if language is None and not self.multilingual:
            language = "en"
        # Batched only once the language is known (no speech found: Whisper's own path decides).
        if self.batched is not None and options.vad_filter and language is not None:
            spans = speech_spans(audio)
            if spans:
                return Transcription(
                    language=language,
                    language_probability=probability,
                    duration=audio.size / SAMPLE_RATE,
                    segments=self._batched_segments(audio, spans, language, options.beam_size),
                )
        segments, info = self.whisper.transcribe(
            audio,
            language=language,
            beam_size=options.beam_size,
            vad_filter=options.vad_filter,
            word_timestamps=True,
        )
        return Transcription(
            language=str(info.language),
            language_probability=probability if language else float(info.language_probability),
            duration=float(info.duration),
            segments=segments,
        )

    def _batched_segments(
        self, audio: Samples, spans: list[dict[str, float]], language: str, beam_size: int
    ) -> Iterator[Segment]:
        assert self.batched is not None
        group = self.batch_size * SPAN_GROUP_BATCHES
        for first in range(0, len(spans), group):
            segments, _ = self.batched.transcribe(
                audio,
                language=language,
                beam_size=beam_size,
                word_timestamps=True,
                batch_size=self.batch_size,
                clip_timestamps=spans[first : first + group],
            )
            yield from segments

    def detect_language(self, audio: Samples) -> LanguageGuess:
        """The language of the first windows of speech; ``NO_SPEECH`` when there is none.

        Speech only (Silero VAD): silence and music before the first words would otherwise be
        what Whisper listens to. Each 30 s window gives a probability per language; their mean
        decides, so one misheard window does not name the language of a whole talk.
        """
        speech = first_speech(audio, LANGUAGE_WINDOW_SECONDS * self.detection_windows)
        if speech.size == 0:
            return NO_SPEECH
        if not self.multilingual:
            return LanguageGuess(language="en", probability=1.0, candidates=[("en", 1.0)], detected=False)
        window, shortest = (
            round(LANGUAGE_WINDOW_SECONDS * SAMPLE_RATE),
            round(MIN_LANGUAGE_WINDOW_SECONDS * SAMPLE_RATE),
        )
        totals: dict[str, float] = {}
        windows = 0
        for start in range(0, speech.size, window):
            piece = speech[start : start + window]
            if windows and piece.size < shortest:
                break
            _, top, all_probabilities = self.whisper.detect_language(audio=piece)
            for code, p in all_probabilities:
                totals[str(code)] = totals.get(str(code), 0.0) + float(p)
            windows += 1
            if windows == 1 and top >= self.confident:
                break
        ranked = sorted(((code, total / windows) for code, total in totals.items()), key=lambda c: -c[1])
        return LanguageGuess(
            language=ranked[0][0],
            probability=ranked[0][1],
            candidates=ranked[:LANGUAGE_CANDIDATES],
            detected=True,
        )


def speech_spans(audio: Samples) -> list[dict[str, float]]:
    """Contiguous stretches of ``audio`` holding speech (Silero VAD), each at most one Whisper
    window long, in seconds; the silences between stretches are left out.

    Contiguous, pauses inside kept, so that timestamps need no mapping back (faster-whisper's own
    batched VAD path splices speech together instead).
    """
    longest = round(SPAN_SECONDS * SAMPLE_RATE)
    # The batched pipeline's own VAD parameters: short pauses split, and no region longer than a
    # window (Silero splits longer speech, padding included), so a region always fits one span.
    vad = VadOptions(max_speech_duration_s=SPAN_SECONDS, min_silence_duration_ms=160)
    spans: list[dict[str, int]] = []
    for region in get_speech_timestamps(audio, vad):
        if spans and region["end"] - spans[-1]["start"] <= longest:
            spans[-1]["end"] = region["end"]
        else:
            spans.append(dict(region))
    return [{"start": s["start"] / SAMPLE_RATE, "end": s["end"] / SAMPLE_RATE} for s in spans]


def first_speech(audio: Samples, seconds: float) -> Samples:
    """Up to ``seconds`` of speech (Silero VAD) from the start of ``audio``, pauses cut out."""
    wanted, scan = round(seconds * SAMPLE_RATE), round(SPEECH_SCAN_SECONDS * SAMPLE_RATE)
    pieces: list[Samples] = []
    found = 0
    for offset in range(0, audio.size, scan):
        chunk = audio[offset : offset + scan]
        for region in get_speech_timestamps(chunk, VadOptions()):
            pieces.append(chunk[region["start"] : region["end"]])
            found += region["end"] - region["start"]
        if found >= wanted:
            break
    return np.concatenate(pieces)[:wanted] if pieces else np.zeros(0, dtype=np.float32)
