"""Batched decoding: stretches of speech cut for it, and the same words as one-at-a-time decoding."""

from __future__ import annotations

import re

from audio_svc.decode import SAMPLE_RATE, Samples, decode_audio
from audio_svc.model import SPAN_SECONDS, SpeechModel, TranscribeOptions, speech_spans

# About 75 s of speech in three parts, with pauses between them: more than two Whisper windows.
PARTS = [
    "The river starts high in the mountains, where the snow melts every spring. It runs through "
    "narrow valleys, past small villages and old stone bridges, and then it slows down as the land "
    "opens up. Farmers along its banks have used its water for centuries.",
    "In the middle of the plain the river meets a second one that comes from the east. Together they "
    "form a wide stream that boats can travel on. A city grew up at the place where they join, and "
    "its market still opens every morning at seven.",
    "Near the sea the river spreads into many small channels. Birds rest there in the autumn on their "
    "way south, and fishermen go out before sunrise. The water that started as snow reaches the sea "
    "after eight hundred kilometres.",
]
OPTIONS = TranscribeOptions(language="en", beam_size=5, vad_filter=True)


def words_of(model: SpeechModel, audio: Samples) -> list[str]:
    """The words heard, normalised, after checking their timings run forward inside the audio."""
    segments = list(model.transcribe(audio, OPTIONS).segments)
    words = [w for s in segments for w in (s.words or [])]
    previous_end = 0.0
    for word in words:
        assert previous_end - 0.02 <= word.start <= word.end <= audio.size / SAMPLE_RATE + 0.02
        previous_end = word.end
    text = " ".join(w.word for w in words)
    return re.sub(r"[^a-z0-9 ]+", " ", text.lower()).split()


def test_speech_spans_are_contiguous_windows_over_the_speech(speak, silence, concat) -> None:
    parts = [speak(text, name=f"part{i}") for i, text in enumerate(PARTS)]
    first = decode_audio(parts[0], 600).size / SAMPLE_RATE
    path = concat([parts[0], silence(40.0), parts[1], parts[2]], "talk")
    audio = decode_audio(path, 600)
    duration = audio.size / SAMPLE_RATE

    spans = speech_spans(audio)

    speech = duration - 40.0
    assert len(spans) >= speech / SPAN_SECONDS
    previous_end = 0.0
    for span in spans:
        assert previous_end <= span["start"] < span["end"] <= duration
        assert span["end"] - span["start"] <= SPAN_SECONDS
        previous_end = span["end"]
        # Nothing of the 40 s pause is decoded but its edges.
        assert not (first + 1.0 < span["start"] < first + 39.0)
    assert sum(s["end"] - s["start"] for s in spans) < speech + 2.0
    assert speech_spans(decode_audio(silence(10.0), 60)) == []


def test_batched_decoding_hears_what_sequential_decoding_hears(speech_model, speak, silence, concat) -> None:
    parts = [speak(text, name=f"part{i}") for i, text in enumerate(PARTS)]
    audio = decode_audio(concat([parts[0], silence(2.0), parts[1], silence(2.0), parts[2]], "talk"), 600)
    assert speech_model.batched is not None, "the default settings decode in batches"
    one_at_a_time = SpeechModel(
        speech_model.whisper,
        speech_model.name,
        detection_windows=speech_model.detection_windows,
        confident=speech_model.confident,
        batch_size=1,
    )

    batched_words = words_of(speech_model, audio)
    sequential_words = words_of(one_at_a_time, audio)

    reference = re.sub(r"[^a-z0-9 ]+", " ", " ".join(PARTS).lower()).split()
    for heard in (batched_words, sequential_words):
        found = sum(1 for word in set(reference) if word in heard)
        assert found >= 0.9 * len(set(reference)), heard
    # Same length within a few words: no window dropped or heard twice at the joins.
    assert abs(len(batched_words) - len(sequential_words)) <= 0.05 * len(sequential_words)
    assert abs(len(batched_words) - len(reference)) <= 0.1 * len(reference)
