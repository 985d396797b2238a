"""Transcribe through a real in-process server: real speech in, words with timings out."""

from __future__ import annotations

import asyncio
import re
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from audio_svc.decode import SAMPLE_RATE, decode_audio
from clipsift.audio.v1 import audio_pb2

SPEECH = (
    "Long videos become short clips with captions. Each word appears at the right time. "
    "Please call Stella and ask her to bring these things from the store."
)
KEY_WORDS = ["long", "videos", "short", "clips", "captions", "word", "appears", "right", "time", "call",
             "stella", "bring", "things", "store"]  # fmt: skip
JFK = "ask not what your country can do for you"


def normalise(text: str) -> str:
    """Lower case; letters, digits and apostrophes only; single spaces."""
    return " ".join(re.sub(r"[^a-z0-9']+", " ", text.lower()).split())


def check_timings(segments: list[audio_pb2.TranscriptSegment], duration: float) -> None:
    """Segments in order, words in order, every word inside its segment and inside the audio."""
    slack = 0.02  # Whisper timestamps are on a 20 ms grid
    previous_end = 0.0
    for index, segment in enumerate(segments):
        assert segment.index == index
        assert segment.start >= previous_end - slack
        assert 0.0 <= segment.start <= segment.end <= duration + slack
        assert segment.words, segment
        for word in segment.words:
            assert word.text.strip() == word.text != ""
            assert segment.start - slack <= word.start <= word.end <= segment.end + slack
            assert word.start >= previous_end - slack
            assert 0.0 <= word.probability <= 1.0
            previous_end = word.end


@pytest.mark.parametrize("via", ["blob", "inline"])
async def test_synthesized_speech_is_transcribed_with_word_timings(running, speak, via: str) -> None:
    path = speak(SPEECH)
    duration = decode_audio(path, 60).size / SAMPLE_RATE
    source = (
        running.put("speech.wav", path) if via == "blob" else audio_pb2.AudioSource(data=path.read_bytes())
    )

    segments = await running.transcribe(audio=source, vad_filter=True)

    text = normalise(" ".join(s.text for s in segments))
    heard = [w for w in KEY_WORDS if w in text.split()]
    # A small model on a synthetic voice may slip on a word or two.
    assert len(heard) >= 0.8 * len(KEY_WORDS), f"only {heard} in {text!r}"
    assert normalise(" ".join(w.text for s in segments for w in s.words)) == text
    check_timings(segments, duration)
    for segment in segments:
        # Detected by the multilingual default model, not assumed.
        assert segment.language == "en"
        assert segment.language_probability > 0.8
        assert segment.duration == pytest.approx(duration, abs=1e-3)
        assert segment.avg_logprob < 0.0
        assert 0.0 <= segment.no_speech_prob < 0.5


async def test_jfk_recording(running, jfk_wav) -> None:
    segments = await running.transcribe(audio=running.put("jfk.wav", jfk_wav), beam_size=5)
    text = normalise(" ".join(s.text for s in segments))
    assert JFK in text
    assert "fellow americans" in text
    check_timings(segments, 11.0)
    # The words fall where they are said: "ask not" after the pause following "Americans",
    # the last "country" at the very end of the 11 s.
    words = [(normalise(w.text), w) for s in segments for w in s.words]
    americans = next(w for text, w in words if text == "americans")
    ask = next(w for text, w in words if text == "ask")
    assert 1.0 < americans.end <= ask.start < 5.0
    assert words[-1][0] == "country"
    assert 9.5 < words[-1][1].end <= 11.0


async def test_silence_gives_no_segments_with_vad(running, silence) -> None:
    source = running.put("silence.wav", silence(5.0))
    assert await running.transcribe(audio=source, vad_filter=True) == []
    # Without VAD Whisper may still "hear" something in silence, but flags it as probably no speech.
    for segment in await running.transcribe(audio=source, vad_filter=False):
        assert segment.no_speech_prob > 0.5


async def test_language_hint_is_accepted_and_reported(running, speak) -> None:
    segments = await running.transcribe(audio=running.put("s.wav", speak("Hello world.")), language="EN")
    assert segments
    assert {s.language for s in segments} == {"en"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"language": "xx"}, "language 'xx' is not supported"),
        ({"language": "klingon"}, "language 'klingon' is not supported"),
        ({"beam_size": 11}, "beam_size must be at most 10, got 11"),
    ],
)
async def test_invalid_options_are_rejected(running, speak, fields: dict[str, object], message: str) -> None:
    source = running.put("s.wav", speak("Hello."))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running.transcribe(audio=source, **fields)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == message


async def test_health_answers_while_a_transcription_runs(running, jfk_wav) -> None:
    health = health_pb2_grpc.HealthStub(running.channel)
    transcription = asyncio.create_task(running.transcribe(audio=running.put("jfk.wav", jfk_wav)))
    latencies = []
    while not transcription.done():
        start = time.perf_counter()
        await health.Check(health_pb2.HealthCheckRequest(), timeout=5)
        latencies.append(time.perf_counter() - start)
        await asyncio.sleep(0.02)
    assert await transcription
    assert len(latencies) >= 5
    assert max(latencies) < 0.25, latencies


async def test_transcriptions_beyond_the_limit_wait_their_turn(start_server, jfk_wav) -> None:
    server = await start_server(max_concurrent_transcriptions=1)
    source = server.put("jfk.wav", jfk_wav)
    spans: list[tuple[float, float]] = []

    async def transcribe() -> None:
        call = server.stub.Transcribe(audio_pb2.TranscribeRequest(audio=source), timeout=60)
        first = None
        async for _ in call:
            first = first or time.perf_counter()
        assert first is not None
        spans.append((first, time.perf_counter()))

    await asyncio.gather(transcribe(), transcribe())
    (_, earlier_end), (later_first, _) = sorted(spans)
    assert later_first >= earlier_end


async def test_a_cancelled_stream_frees_the_model(start_server, jfk_wav) -> None:
    server = await start_server(max_concurrent_transcriptions=1)
    source = server.put("jfk.wav", jfk_wav)
    call = server.stub.Transcribe(audio_pb2.TranscribeRequest(audio=source), timeout=60)
    await call.read()  # the first segment
    call.cancel()
    segments = await asyncio.wait_for(server.transcribe(audio=source), timeout=30)
    assert JFK in normalise(" ".join(s.text for s in segments))


async def test_an_english_only_model_refuses_other_languages(start_server, english_only_model, speak) -> None:
    running = await start_server(model=english_only_model)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running.transcribe(audio=running.put("s.wav", speak("Hallo.", voice="de")), language="de")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "language 'de' is not supported (the model is English-only)"
