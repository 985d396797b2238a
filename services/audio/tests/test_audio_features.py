"""Loudness, silence and speech regions: exact values on synthetic signals, then real speech
with inserted silence through the gRPC service."""

from __future__ import annotations

from pathlib import Path

import grpc
import numpy as np
import pytest

from audio_svc.decode import SAMPLE_RATE, Samples, decode_audio
from audio_svc.features import FLOOR_DB, FLOOR_LUFS, Region, integrated_loudness, rms_dbfs, silent_regions
from clipsift.audio.v1 import audio_pb2


def tone(seconds: float, amplitude: float = 0.5, frequency: float = 997.0) -> Samples:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def quiet(seconds: float) -> Samples:
    return np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)


def test_rms_levels_in_dbfs() -> None:
    assert rms_dbfs(np.ones(1600, dtype=np.float32), 800).tolist() == [0.0, 0.0]
    assert rms_dbfs(tone(1.0), 8000) == pytest.approx([-9.031, -9.031], abs=0.001)
    assert rms_dbfs(quiet(1.0), 8000).tolist() == [FLOOR_DB, FLOOR_DB]


def test_the_last_partial_window_is_measured_over_its_own_length() -> None:
    audio = np.concatenate([quiet(0.5), np.full(4000, 0.1, dtype=np.float32)])  # 0.75 s
    levels = rms_dbfs(audio, 8000)
    assert levels == pytest.approx([FLOOR_DB, -20.0])


def test_silent_regions_need_the_minimum_length() -> None:
    audio = np.concatenate([tone(1.0), quiet(0.5), tone(1.0), quiet(0.2)])
    assert silent_regions(audio, -40.0, 0.3) == [Region(1.0, 1.5)]
    assert silent_regions(audio, -40.0, 0.1) == [Region(1.0, 1.5), Region(2.5, 2.7)]
    assert silent_regions(audio, -40.0, 0.6) == []


def test_silence_is_relative_to_the_threshold() -> None:
    audio = np.concatenate([tone(1.0, amplitude=0.5), tone(1.0, amplitude=0.005)])  # -9 and -49 dBFS
    assert silent_regions(audio, -40.0, 0.3) == [Region(1.0, 2.0)]
    assert silent_regions(audio, -60.0, 0.3) == []


def test_integrated_loudness_of_reference_tones() -> None:
    # BS.1770: a 997 Hz sine at full scale reads -3.01 LKFS (here measured at 16 kHz).
    assert integrated_loudness(tone(5.0, amplitude=1.0)) == pytest.approx(-3.01, abs=0.1)
    assert integrated_loudness(tone(5.0, amplitude=0.1)) == pytest.approx(-23.01, abs=0.1)
    # Gating: silence around a programme is left out (an ungated mean would drop 4.8 dB);
    # only the few blocks straddling its edges pull it down a little.
    padded = np.concatenate([quiet(5.0), tone(5.0, amplitude=0.1), quiet(5.0)])
    assert integrated_loudness(padded) == pytest.approx(-23.01, abs=0.5)


def test_integrated_loudness_is_floored_where_r128_leaves_it_undefined() -> None:
    assert integrated_loudness(quiet(3.0)) == FLOOR_LUFS
    assert integrated_loudness(tone(0.3)) == FLOOR_LUFS  # shorter than one 400 ms block


def sound_bounds(path: Path, level: float = 0.01) -> tuple[float, float]:
    """Where a recording is audible, without the padding silence espeak-ng adds at its ends."""
    samples = decode_audio(path, max_seconds=600)
    audible = np.flatnonzero(np.abs(samples) > level)
    return audible[0] / SAMPLE_RATE, (audible[-1] + 1) / SAMPLE_RATE


def duration_of(path: Path) -> float:
    return decode_audio(path, max_seconds=600).size / SAMPLE_RATE


async def test_speech_and_inserted_silence_are_found_where_they_are(running, speak, silence, concat) -> None:
    first = speak("Highlights start where the speaker raises their voice.", "first")
    second = speak("Captions follow every word that is spoken.", "second")
    joined = concat([first, silence(2.0), second], "joined")
    offset = duration_of(first) + 2.0  # where the second recording starts
    first_start, first_end = sound_bounds(first)
    second_start, second_end = (offset + t for t in sound_bounds(second))

    response = await running.stub.AudioFeatures(
        audio_pb2.AudioFeaturesRequest(audio=running.put("joined.wav", joined), min_silence_seconds=1.0),
        timeout=60,
    )

    assert response.duration == pytest.approx(offset + duration_of(second), abs=0.01)
    assert response.window_seconds == 0.5
    assert len(response.loudness_db) == int(np.ceil(response.duration / 0.5))
    # One pause of a second or more: from the last word of the first sentence to the first
    # word of the second (espeak's own padding and the inserted 2 s).
    assert len(response.silences) == 1
    assert response.silences[0].start == pytest.approx(first_end, abs=0.2)
    assert response.silences[0].end == pytest.approx(second_start, abs=0.2)
    # Silero hears two stretches of speech, one per sentence. The last one runs on to the end
    # of the file: the trailing padding is shorter than the 1 s pause that would close it.
    assert len(response.speech) == 2
    assert response.speech[0].start == pytest.approx(first_start, abs=0.2)
    assert response.speech[0].end == pytest.approx(first_end, abs=0.2)
    assert response.speech[1].start == pytest.approx(second_start, abs=0.2)
    assert second_end - 0.2 <= response.speech[1].end <= response.duration
    # Windows inside the inserted silence are digital silence; speech is far louder.
    windows = np.asarray(response.loudness_db)
    times = np.arange(windows.size) * 0.5
    inside_silence = windows[(times >= first_end) & (times + 0.5 <= second_start)]
    inside_speech = windows[(times >= first_start) & (times + 0.5 <= first_end)]
    assert inside_silence.size >= 3
    assert inside_silence.max() == FLOOR_DB
    assert inside_speech.mean() > -30.0
    assert -40.0 < response.integrated_lufs < -5.0


async def test_request_options_override_the_defaults(running, speak) -> None:
    source = running.put("speech.wav", speak("Short pauses between sentences. Count as silence here."))
    defaults = await running.stub.AudioFeatures(audio_pb2.AudioFeaturesRequest(audio=source), timeout=60)
    custom = await running.stub.AudioFeatures(
        audio_pb2.AudioFeaturesRequest(
            audio=source, window_seconds=0.1, silence_threshold_db=-60.0, min_silence_seconds=0.2
        ),
        timeout=60,
    )
    assert custom.window_seconds == pytest.approx(0.1)
    assert len(custom.loudness_db) == int(np.ceil(custom.duration / 0.1))
    assert len(defaults.loudness_db) == int(np.ceil(defaults.duration / 0.5))
    assert len(custom.silences) >= len(defaults.silences) >= 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"window_seconds": 0.001}, "window_seconds must be at least 0.01, got 0.001"),
        ({"window_seconds": -1.0}, "window_seconds must be at least 0.01, got -1.0"),
        ({"silence_threshold_db": 3.0}, "silence_threshold_db must be below 0 dBFS, got 3.0"),
        ({"min_silence_seconds": -0.5}, "min_silence_seconds must be positive, got -0.5"),
        ({"window_seconds": float("nan")}, "window_seconds must be at least 0.01, got nan"),
    ],
)
async def test_invalid_options_are_rejected(running, silence, fields: dict[str, float], message: str) -> None:
    request = audio_pb2.AudioFeaturesRequest(audio=running.put("s.wav", silence(1.0)), **fields)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running.stub.AudioFeatures(request, timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == message
