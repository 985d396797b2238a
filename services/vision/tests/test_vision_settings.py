"""VisionSettings: environment prefix, the packaged model as default, validation."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from vision_svc.settings import VisionSettings, packaged_face_model


def test_the_default_model_is_the_packaged_full_range_blazeface() -> None:
    path = VisionSettings().face_model
    assert path == packaged_face_model()
    assert path.name == "face_detection_full_range.tflite"
    assert path.is_file()


def test_settings_come_from_clipsift_vision_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model = tmp_path / "faces.tflite"
    monkeypatch.setenv("CLIPSIFT_VISION_FACE_MODEL", str(model))
    monkeypatch.setenv("CLIPSIFT_VISION_BATCH_MAX_SIZE", "3")
    monkeypatch.setenv("CLIPSIFT_VISION_BATCH_MAX_WAIT_MS", "2.5")
    monkeypatch.setenv("CLIPSIFT_VISION_MAX_FRAMES_PER_REQUEST", "10")
    monkeypatch.setenv("CLIPSIFT_VISION_DEVICE", "cuda")
    settings = VisionSettings()
    assert settings.face_model == model
    assert (settings.batch_max_size, settings.batch_max_wait_ms) == (3, 2.5)
    assert settings.max_frames_per_request == 10
    assert settings.device == "cuda"


@pytest.mark.parametrize(
    "field",
    [{"device": "tpu"}, {"batch_max_size": 0}, {"default_min_confidence": 0.0}, {"max_pixels_per_frame": 0}],
)
def test_invalid_values_are_refused(field: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        VisionSettings(**field)  # type: ignore[arg-type]
