"""DetectLanguage: an English-only model says so honestly; a multilingual one really detects."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from clipsift_testing.media import speak as speak_to

from audio_svc.decode import SAMPLE_RATE, decode_audio
from audio_svc.model import SpeechModel, TranscribeOptions, first_speech
from audio_svc.settings import AudioSettings


async def test_english_only_model_reports_english_without_detecting(
    start_server, english_only_model, speak, caplog
) -> None:
    running = await start_server(model=english_only_model)
    assert not running.servicer.model.multilingual
    source = running.put("s.wav", speak("Bonjour, je voudrais un café, s'il vous plaît.", voice="fr"))
    with caplog.at_level(logging.INFO, logger="audio_svc"):
        result = await running.stub.DetectLanguage(source, timeout=60)
    # The model's statement, not a detection: even French speech reads "en" here.
    assert (result.language, result.probability) == ("en", 1.0)
    assert [(c.language, c.probability) for c in result.candidates] == [("en", 1.0)]
    record = next(r for r in caplog.records if r.getMessage() == "language")
    assert getattr(record, "detected", None) is False


async def test_no_speech_means_no_language(running, silence) -> None:
    result = await running.stub.DetectLanguage(running.put("s.wav", silence(3.0)), timeout=60)
    assert (result.language, result.probability, list(result.candidates)) == ("", 0.0, [])


def test_speech_for_detection_is_found_past_a_long_intro_and_capped_at_30_s(speak) -> None:
    speech = decode_audio(speak("Welcome back to the show. Today we talk about clipping."), 60)
    intro = np.zeros(150 * SAMPLE_RATE, dtype=np.float32)  # longer than one 120 s VAD scan
    found = first_speech(np.concatenate([intro, speech]), 30.0)
    assert abs(found.size - speech.size) < 0.5 * SAMPLE_RATE
    assert first_speech(np.concatenate([speech] * 20), 30.0).size == 30 * SAMPLE_RATE
    assert first_speech(intro, 30.0).size == 0


@pytest.fixture(scope="module")
def multilingual_model(multilingual_model_dir, tmp_path_factory) -> SpeechModel:
    settings = AudioSettings(blob_dir=tmp_path_factory.mktemp("blobs"), model=multilingual_model_dir)
    return SpeechModel.load(settings)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("voice", "text", "language"),
    [
        ("de", "Können Sie mir bitte sagen, wo der Bahnhof ist? Ich habe mich leider verlaufen.", "de"),
        ("fr", "Bonjour, je voudrais un café et un croissant, s'il vous plaît.", "fr"),
        ("en", "Good morning, how are you today? The weather is lovely.", "en"),
    ],
    ids=["de", "fr", "en"],
)
async def test_multilingual_model_detects_the_spoken_language(
    start_server, multilingual_model, speak, silence, concat, voice: str, text: str, language: str
) -> None:
    server = await start_server(model=multilingual_model)
    # Leading silence: detection must listen to the speech, not to the first 30 s of the file.
    padded = concat([silence(3.0), speak(text, voice=voice)], "padded")
    result = await server.stub.DetectLanguage(server.put("padded.wav", padded), timeout=60)
    assert result.language == language
    assert len(result.candidates) == 5
    # A synthetic voice is no native speaker: the margin, not the absolute value, is what holds.
    assert result.probability > 2 * result.candidates[1].probability
    assert result.candidates[0].language == language
    assert result.candidates[0].probability == pytest.approx(result.probability)
    probabilities = [c.probability for c in result.candidates]
    assert probabilities == sorted(probabilities, reverse=True)


@pytest.mark.slow
async def test_multilingual_transcripts_carry_the_detected_language(
    start_server, multilingual_model, speak
) -> None:
    server = await start_server(model=multilingual_model)
    source = server.put(
        "fr.wav", speak("Bonjour, je voudrais un café et un croissant, s'il vous plaît.", voice="fr")
    )
    segments = await server.transcribe(audio=source, vad_filter=True, beam_size=1)
    assert segments
    for segment in segments:
        assert segment.language == "fr"
        assert 0.5 < segment.language_probability < 1.0
    # French words come out in French (greedy decoding of a synthetic voice varies on the rarer words,
    # "croissant" vs "croissance", so the check holds on the common ones).
    text = " ".join(s.text for s in segments).lower()
    assert "bonjour" in text, text
    assert "café" in text, text
    # A hint skips detection.
    hinted = await server.transcribe(audio=source, language="fr", beam_size=1)
    assert {(s.language, s.language_probability) for s in hinted} == {("fr", 1.0)}


# German as espeak-ng speaks it: Whisper base is unsure of the first 30 s (measured: yi 0.27 /
# cy 0.27 / de 0.16; on other runs, threads and loads de comes first at 0.2-0.54, yi second), the
# next windows clearly German (de 0.93, 0.91).
GERMAN_TALK = (
    "Im Herbst 2016 übernahm Katrin Vogel die kleine Molkerei ihres Vaters im Allgäu. Die Supermärkte "
    "zahlten nur noch achtundzwanzig Cent pro Liter, und jeden Monat fehlten ihr dreitausend Euro. Sie "
    "stellte einen Milchautomaten an die Landstraße nach Kempten. Anfangs kamen zehn Leute am Tag. Zwei "
    "Jahre später standen dort vier Automaten, und sie verkaufte den Liter für einen Euro zwanzig.",
    "Also, äh, ja, wo war ich. Ich meine, das ist halt so, na ja, so eine Sache, weißt du? Manchmal "
    "klappt das irgendwie und manchmal halt nicht, und, ähm, das ist so, sag ich mal, so ein bisschen "
    "der Punkt. Oder ein Teil davon, jedenfalls. Du weißt schon, was ich meine.",
    "Jonas Becker fuhr 2019 in Leipzig Bus und ärgerte sich, dass die Linie 74 morgens immer zwölf "
    "Minuten Verspätung hatte. Er notierte drei Wochen lang jede Ampel auf der Strecke. An einer "
    "einzigen Kreuzung stand sein Bus jedes Mal vier Minuten. Er schickte seine Liste an das Verkehrsamt.",
)


@pytest.mark.slow
def test_language_is_decided_over_several_windows_not_the_first_alone(multilingual_model, tmp_path) -> None:
    paths = []
    for index, text in enumerate(GERMAN_TALK):
        paths.append(speak_to(text, tmp_path / f"part{index}.wav", voice="de", speed=155, pitch=50))
    audio = np.concatenate([decode_audio(p, 120) for p in paths])
    first_window = first_speech(audio, 30.0)
    _, _, alone = multilingual_model.whisper.detect_language(audio=first_window)
    first_german = dict(alone)["de"]
    # One window is not sure enough to stop at (the reason for listening to more).
    assert alone[0][1] < AudioSettings.model_fields["language_confident_probability"].default, alone[:3]
    guess = multilingual_model.detect_language(audio)
    assert guess.language == "de", guess
    # Measured de 0.60-0.63 over the windows (0.597 on another machine's CPU kernels), against
    # 0.16-0.31 for the first window alone.
    assert guess.probability > max(0.5, first_german), (guess, alone[:3])
    assert guess.probability > 2 * guess.candidates[1][1]
    # Transcription without a language uses the same decision.
    transcription = multilingual_model.transcribe(
        audio, TranscribeOptions(language=None, beam_size=1, vad_filter=True)
    )
    assert transcription.language == "de"
    assert transcription.language_probability == pytest.approx(guess.probability)


def test_a_confident_first_window_is_enough(multilingual_model, speak, monkeypatch) -> None:
    audio = decode_audio(speak("Good morning, how are you today? The weather is lovely. " * 12), 120)
    calls = []
    detect = multilingual_model.whisper.detect_language

    def counting(**kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["audio"].size)
        return detect(**kwargs)

    monkeypatch.setattr(multilingual_model.whisper, "detect_language", counting)
    guess = multilingual_model.detect_language(audio)
    assert guess.language == "en"
    assert calls == [30 * SAMPLE_RATE]
