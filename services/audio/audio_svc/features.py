"""Loudness and speech/silence regions of decoded audio (16 kHz mono float32).

Levels are RMS in dBFS (a full-scale square wave reads 0 dBFS, a full-scale sine -3 dBFS).
Digital silence has no finite level: it reads ``FLOOR_DB``. Integrated loudness follows
EBU R128 / ITU-R BS.1770-4 (K-weighting, 400 ms blocks, absolute and relative gates) as
implemented by pyloudnorm, measured on the 16 kHz mono mix used for analysis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyloudnorm
from faster_whisper.vad import VadOptions, get_speech_timestamps

from .decode import SAMPLE_RATE, Samples

# Below 16-bit quantisation noise (-96 dBFS): the level reported for digital silence.
FLOOR_DB = -120.0
# Integrated loudness when nothing passes R128's absolute gate (silence, or under one 400 ms block).
FLOOR_LUFS = -70.0
# Silence is found on 10 ms frames, independent of the reporting window, so its edges are exact
# to 10 ms whatever window the caller asks loudness values for.
SILENCE_FRAME_SECONDS = 0.01
# Padding Silero adds around detected speech (its own default); wider padding, as used before
# transcription, would swallow short pauses.
SPEECH_PAD_MS = 30


@dataclass(frozen=True)
class Region:
    start: float
    end: float


@dataclass(frozen=True)
class FeatureOptions:
    window_seconds: float
    silence_threshold_db: float
    min_silence_seconds: float


@dataclass(frozen=True)
class Analysis:
    duration: float
    window_seconds: float
    loudness_db: npt.NDArray[np.float64]
    integrated_lufs: float
    silences: list[Region]
    speech: list[Region]


def analyse(audio: Samples, options: FeatureOptions) -> Analysis:
    """All features of one input; CPU-bound (the VAD dominates), call from a worker thread."""
    return Analysis(
        duration=audio.size / SAMPLE_RATE,
        window_seconds=options.window_seconds,
        loudness_db=rms_dbfs(audio, _samples(options.window_seconds)),
        integrated_lufs=integrated_loudness(audio),
        silences=silent_regions(audio, options.silence_threshold_db, options.min_silence_seconds),
        speech=speech_regions(audio, options.min_silence_seconds),
    )


def rms_dbfs(audio: Samples, window: int) -> npt.NDArray[np.float64]:
    """RMS level in dBFS of each ``window`` samples; a shorter last window counts over its own length."""
    starts = np.arange(0, audio.size, window)
    # float64: a sum of squares over many float32 samples loses precision.
    sums = np.add.reduceat(np.square(audio, dtype=np.float64), starts)
    counts = np.diff(np.append(starts, audio.size))
    mean_square = sums / counts
    with np.errstate(divide="ignore"):
        levels = 10.0 * np.log10(mean_square)
    return np.maximum(levels, FLOOR_DB)


def silent_regions(audio: Samples, threshold_db: float, min_seconds: float) -> list[Region]:
    """Stretches of at least ``min_seconds`` whose 10 ms levels all stay below ``threshold_db``."""
    frame = _samples(SILENCE_FRAME_SECONDS)
    quiet = rms_dbfs(audio, frame) < threshold_db
    # Run boundaries: +1 where a quiet run starts, -1 one frame after it ends.
    edges = np.diff(np.concatenate(([0], quiet.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    duration = audio.size / SAMPLE_RATE
    return [
        Region(start=s * SILENCE_FRAME_SECONDS, end=min(e * SILENCE_FRAME_SECONDS, duration))
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
        if (e - s) * SILENCE_FRAME_SECONDS >= min_seconds
    ]


def speech_regions(audio: Samples, min_silence_seconds: float) -> list[Region]:
    """Speech found by Silero VAD; pauses shorter than ``min_silence_seconds`` do not split a region."""
    options = VadOptions(
        min_silence_duration_ms=round(min_silence_seconds * 1000), speech_pad_ms=SPEECH_PAD_MS
    )
    return [
        Region(start=c["start"] / SAMPLE_RATE, end=c["end"] / SAMPLE_RATE)
        for c in get_speech_timestamps(audio, options)
    ]


def integrated_loudness(audio: Samples) -> float:
    """Integrated loudness in LUFS; ``FLOOR_LUFS`` when R128 leaves it undefined."""
    meter = pyloudnorm.Meter(SAMPLE_RATE)
    if audio.size <= meter.block_size * SAMPLE_RATE:
        return FLOOR_LUFS
    lufs = float(meter.integrated_loudness(audio))
    return lufs if math.isfinite(lufs) and lufs > FLOOR_LUFS else FLOOR_LUFS


def _samples(seconds: float) -> int:
    return max(1, round(seconds * SAMPLE_RATE))
