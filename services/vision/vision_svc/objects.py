"""Object detection behind one setting (``OBJECT_MODEL``), dispatched on its value.

- ``opencv-hog`` (default, offline): OpenCV's built-in HOG + linear SVM pedestrian detector
  (Dalal & Triggs), one class, ``person``. It ships inside OpenCV itself. No PyPI package ships
  YOLO (or any other COCO detector) weights, so this is the best detector that loads here
  without a download; it finds upright, mostly full-length people of at least 64x128 pixels and
  little else.
- a path to a ``.pt`` file: Ultralytics YOLO (v8/v11, COCO or custom classes), the production
  detector. ``ultralytics`` is imported only when such a path is configured, and must be
  installed beside a torch/torchvision pair that runs on the target (CUDA images).

Every detector maps boxes back to pixels of the original image and reports descending confidence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from clipsift_common.errors import Unavailable

from .decode import Frame

log = logging.getLogger(__name__)

HOG_MODEL = "opencv-hog"


@dataclass(frozen=True)
class DetectedObject:
    label: str
    confidence: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class ObjectInput:
    """An image at analysis size, the factor from its pixels to the original's, a threshold."""

    pixels: Frame
    scale: float
    min_confidence: float


class ObjectDetector(Protocol):
    model_name: str

    @property
    def loaded(self) -> bool: ...

    def load(self) -> None: ...

    def detect(self, batch: Sequence[ObjectInput]) -> list[list[DetectedObject]]: ...


def object_detector(model: str, device: str) -> ObjectDetector:
    """The detector that ``model`` names: ``opencv-hog`` or a path to Ultralytics ``.pt`` weights."""
    if model == HOG_MODEL:
        return HogPeopleDetector()
    path = Path(model)
    if path.suffix == ".pt":
        return UltralyticsDetector(path, device)
    raise ValueError(f"object model {model!r}: expected {HOG_MODEL!r} or a path to YOLO weights (.pt)")


_HOG_WINDOW_WIDTH, _HOG_WINDOW_HEIGHT = 64, 128


class HogPeopleDetector:
    """OpenCV's default people detector: 64x128 windows over an image pyramid."""

    model_name = HOG_MODEL

    def __init__(self) -> None:
        self._hog: cv2.HOGDescriptor | None = None

    @property
    def loaded(self) -> bool:
        return self._hog is not None

    def load(self) -> None:
        hog = cv2.HOGDescriptor()
        hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), dtype=np.float32))
        self._hog = hog

    def detect(self, batch: Sequence[ObjectInput]) -> list[list[DetectedObject]]:
        hog = self._hog
        if hog is None:
            raise Unavailable("the object detector is not loaded yet")
        results: list[list[DetectedObject]] = []
        for item in batch:
            height, width = item.pixels.shape[:2]
            if height < _HOG_WINDOW_HEIGHT or width < _HOG_WINDOW_WIDTH:
                # No 64x128 window fits, so no person can be found (the pyramid only shrinks), and
                # OpenCV 4.14's detectMultiScale crashes the process on some such images (64x64).
                results.append([])
                continue
            grey = cv2.cvtColor(item.pixels, cv2.COLOR_RGB2GRAY)
            boxes, weights = hog.detectMultiScale(grey, winStride=(8, 8), padding=(8, 8), scale=1.05)
            found = []
            if len(boxes):
                # The SVM margin is unbounded; a logistic squashes it into (0, 1) for a threshold.
                confidences = 1.0 / (1.0 + np.exp(-2.0 * np.ravel(weights)))
                rects = [[int(v) for v in box] for box in boxes]
                keep = cv2.dnn.NMSBoxes(rects, confidences.tolist(), 0.0, 0.5)
                for index in (int(i) for i in np.ravel(keep)):
                    if confidences[index] < item.min_confidence:
                        continue
                    x, y, w, h = (float(v) * item.scale for v in boxes[index])
                    found.append(DetectedObject("person", float(confidences[index]), x, y, w, h))
            results.append(sorted(found, key=lambda o: -o.confidence))
        return results


class UltralyticsDetector:
    """YOLO through the ``ultralytics`` package (imported on ``load``, never when unused)."""

    def __init__(self, weights: Path, device: str) -> None:
        self.weights = weights
        self.device = device
        self.model_name = f"ultralytics:{weights.name}"
        self._model: Any = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        if not self.weights.is_file():
            raise FileNotFoundError(f"object model {self.weights} does not exist")
        try:
            from ultralytics import YOLO  # the production detector; heavy, so only when configured
        except ImportError as exc:
            raise RuntimeError(
                f"object model {self.weights} needs the ultralytics package, which is not installed: {exc}"
            ) from exc
        start = time.perf_counter()
        self._model = YOLO(str(self.weights))
        self._model.to(self.device)
        log.info(
            "object model loaded", extra={"model": self.model_name, "seconds": time.perf_counter() - start}
        )

    def detect(self, batch: Sequence[ObjectInput]) -> list[list[DetectedObject]]:
        if self._model is None:
            raise Unavailable("the object detector is not loaded yet")
        threshold = min(item.min_confidence for item in batch)
        results = self._model.predict(
            [item.pixels[:, :, ::-1] for item in batch], conf=threshold, verbose=False
        )
        out = []
        for item, result in zip(batch, results, strict=True):
            names = result.names
            found = []
            for (x0, y0, x1, y1), confidence, cls in zip(
                result.boxes.xyxy.tolist(), result.boxes.conf.tolist(), result.boxes.cls.tolist(), strict=True
            ):
                if confidence >= item.min_confidence:
                    s = item.scale
                    found.append(
                        DetectedObject(
                            names[int(cls)], confidence, x0 * s, y0 * s, (x1 - x0) * s, (y1 - y0) * s
                        )
                    )
            out.append(sorted(found, key=lambda o: -o.confidence))
        return out
