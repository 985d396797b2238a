"""Text in images (OCR): RapidOCR's PP-OCRv4 detector, angle classifier and recogniser on
onnxruntime; the models ship inside PyPI's ``rapidocr-onnxruntime`` and load by path."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from clipsift_common.errors import Unavailable

from .decode import Frame

log = logging.getLogger(__name__)

MODEL_NAME = "rapidocr-pp-ocrv4"
_PACKAGE = "rapidocr-onnxruntime"
DET_MODEL, REC_MODEL, CLS_MODEL = (
    "ch_PP-OCRv4_det_infer.onnx",
    "ch_PP-OCRv4_rec_infer.onnx",
    "ch_ppocr_mobile_v2.0_cls_infer.onnx",
)


def packaged_ocr_models() -> Path:
    """The folder of the OCR models that rapidocr-onnxruntime ships."""
    try:
        distribution = metadata.distribution(_PACKAGE)
    except metadata.PackageNotFoundError:
        raise ValueError(
            f"{_PACKAGE} is not installed (make setup installs it); or set CLIPSIFT_VISION_OCR_MODEL_DIR"
        ) from None
    return Path(str(distribution.locate_file("rapidocr_onnxruntime/models")))


@dataclass(frozen=True)
class TextLine:
    text: str
    confidence: float
    polygon: list[tuple[float, float]]  # four corners in pixels of the original image


@dataclass(frozen=True)
class OcrInput:
    pixels: Frame
    scale: float
    min_confidence: float


class TextReader:
    """RapidOCR with the models of ``model_dir``. ``load`` once; ``read`` from one thread at a time."""

    model_name = MODEL_NAME

    def __init__(self, model_dir: Path, threads: int = 0) -> None:
        self.model_dir = model_dir
        self.threads = threads
        self._engine: Any = None

    @property
    def loaded(self) -> bool:
        return self._engine is not None

    def load(self) -> None:
        start = time.perf_counter()
        paths = [self.model_dir / name for name in (DET_MODEL, REC_MODEL, CLS_MODEL)]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise FileNotFoundError(f"OCR models missing: {', '.join(missing)}")
        from rapidocr_onnxruntime import RapidOCR  # imports onnxruntime sessions: only when used

        options: dict[str, Any] = {"det_model_path": str(paths[0]), "rec_model_path": str(paths[1])}
        options["cls_model_path"] = str(paths[2])
        if self.threads:
            options["intra_op_num_threads"] = self.threads
        self._engine = RapidOCR(**options)
        log.info("OCR models loaded", extra={"model": MODEL_NAME, "seconds": time.perf_counter() - start})

    def read(self, batch: Sequence[OcrInput]) -> list[list[TextLine]]:
        engine = self._engine
        if engine is None:
            raise Unavailable("the OCR model is not loaded yet")
        results = []
        for item in batch:
            found, _ = engine(item.pixels[:, :, ::-1])  # RapidOCR takes OpenCV's BGR order
            lines = []
            for box, text, confidence in found or []:
                if float(confidence) < item.min_confidence or not str(text).strip():
                    continue
                polygon = [(float(x) * item.scale, float(y) * item.scale) for x, y in box]
                lines.append(TextLine(str(text), float(confidence), polygon))
            results.append(lines)
        return results
