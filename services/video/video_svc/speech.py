"""Speech of a video through the audio service: words with timings, streamed segment by segment."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc

from clipsift.audio.v1 import audio_pb2, audio_pb2_grpc
from clipsift_common.errors import InvalidArgument
from clipsift_common.grpc_client import ServiceClient

from .model import Word


@dataclass(frozen=True)
class Speech:
    words: list[Word]
    language: str  # ISO 639-1, as detected (or as requested)
    language_probability: float  # 1.0 when the language was requested, not detected


async def transcribe_words(
    audio: ServiceClient,
    audio_key: str,
    *,
    language: str,
    deadline_seconds: float,
    on_segment: Callable[[float], Awaitable[None]],
) -> Speech:
    """Words of the audio at ``audio_key`` (a 16 kHz WAV in the blob store) and the language
    spoken; ``on_segment`` hears the end time of each segment as it arrives (for progress)."""
    stub = audio_pb2_grpc.AudioServiceStub(audio.channel)
    request = audio_pb2.TranscribeRequest(
        audio=audio_pb2.AudioSource(blob_key=audio_key), language=language, vad_filter=True
    )
    words: list[Word] = []
    detected, probability = language, 1.0
    try:
        async for segment in audio.stream(stub.Transcribe, request, timeout=deadline_seconds):
            detected = segment.language or detected
            probability = segment.language_probability if not language else 1.0
            words.extend(
                Word(text=w.text.strip(), start=w.start, end=w.end, probability=w.probability)
                for w in segment.words
                if w.text.strip()
            )
            await on_segment(segment.end)
    except grpc.aio.AioRpcError as exc:
        # A request the audio service refuses fails the same way every time: not worth a retry.
        if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
            raise InvalidArgument(exc.details() or "the audio service refused the request") from exc
        raise
    return Speech(words, detected, probability)
