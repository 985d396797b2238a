"""Settings and model loading: one model setting, a local directory only, CPU here and CUDA
where there is a GPU."""

from __future__ import annotations

import re
from pathlib import Path

import ctranslate2
import pytest
from pydantic import ValidationError

from audio_svc import packaged_models
from audio_svc.decode import decode_audio
from audio_svc.model import SpeechModel, TranscribeOptions
from audio_svc.settings import AudioSettings, packaged_model_path


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLIPSIFT_AUDIO_BLOB_DIR", str(tmp_path))
    monkeypatch.setenv("CLIPSIFT_AUDIO_MODEL", str(tmp_path))
    monkeypatch.setenv("CLIPSIFT_AUDIO_DEVICE", "cuda")
    monkeypatch.setenv("CLIPSIFT_AUDIO_COMPUTE_TYPE", "float16")
    monkeypatch.setenv("CLIPSIFT_AUDIO_MAX_CONCURRENT_TRANSCRIPTIONS", "4")
    settings = AudioSettings()  # type: ignore[call-arg]
    assert (settings.model, settings.device, settings.compute_type) == (tmp_path, "cuda", "float16")
    assert settings.max_concurrent_transcriptions == 4


def test_the_default_model_is_the_packaged_one(tmp_path: Path) -> None:
    settings = AudioSettings(blob_dir=tmp_path)
    assert settings.model == packaged_model_path()
    assert (settings.model / "model.bin").is_file()
    assert (settings.device, settings.compute_type) == ("cpu", "int8")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"model": "/no/such/model"}, "Path does not point to a directory"),
        ({"device": "tpu"}, "Input should be 'cpu', 'cuda' or 'auto'"),
        ({"compute_type": "float8"}, "Input should be 'default', 'auto'"),
        ({"default_beam_size": 12}, "default_beam_size (12) exceeds max_beam_size (10)"),
        ({"max_concurrent_transcriptions": 0}, "Input should be greater than or equal to 1"),
    ],
)
def test_invalid_settings_are_refused(tmp_path: Path, overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        AudioSettings(blob_dir=tmp_path, **overrides)


def test_a_directory_without_a_model_fails_to_load_instead_of_downloading(tmp_path: Path) -> None:
    settings = AudioSettings(blob_dir=tmp_path, model=tmp_path)
    with pytest.raises(FileNotFoundError, match="is not a CTranslate2 Whisper model directory"):
        SpeechModel.load(settings)


def test_auto_device_picks_what_the_machine_has(tmp_path: Path) -> None:
    model = SpeechModel.load(AudioSettings(blob_dir=tmp_path, device="auto"))
    assert model.device == ("cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu")
    assert model.multilingual
    assert all(model.supports_language(code) for code in ("en", "es", "de", "fr", "pt"))
    assert not model.supports_language("xx")


def test_english_only_tiny_en_is_an_explicit_choice(tmp_path: Path) -> None:
    model = SpeechModel.load(AudioSettings(blob_dir=tmp_path, model=packaged_models.whisper_tiny_en()))
    assert not model.multilingual
    assert model.supports_language("en")
    assert not model.supports_language("de")


def test_the_packaged_base_model_is_joined_once_and_kept(tmp_path: Path) -> None:
    first = packaged_models.whisper_base(tmp_path)
    stamp = (first / "model.bin").stat().st_mtime_ns
    assert {p.name for p in first.iterdir()} == {
        "model.bin",
        "config.json",
        "tokenizer.json",
        "vocabulary.json",
    }
    assert packaged_models.whisper_base(tmp_path) == first
    assert (first / "model.bin").stat().st_mtime_ns == stamp
    # A truncated copy (a crash mid-join on another machine) is found and joined again.
    with (first / "model.bin").open("r+b") as handle:
        handle.truncate(1000)
    again = packaged_models.whisper_base(tmp_path)
    assert (again / "model.bin").stat().st_size > 100_000_000
    assert [p.name for p in tmp_path.iterdir()] == ["whisper-base-1.0.0"]


@pytest.mark.gpu
@pytest.mark.skipif(ctranslate2.get_cuda_device_count() == 0, reason="no CUDA device visible to CTranslate2")
def test_transcribes_on_cuda(tmp_path: Path, jfk_wav: Path) -> None:
    settings = AudioSettings(blob_dir=tmp_path, device="cuda", compute_type="float16")
    model = SpeechModel.load(settings)
    assert model.device == "cuda"
    transcription = model.transcribe(
        decode_audio(jfk_wav, max_seconds=60), TranscribeOptions(language=None, beam_size=5, vad_filter=True)
    )
    segments = list(transcription.segments)
    text = " ".join(s.text for s in segments).lower()
    assert "ask not what your country can do for you" in text
    assert all(w.start <= w.end for s in segments for w in s.words)
