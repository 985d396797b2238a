"""Image quality: sharpness (blur), exposure, noise and resolution, with verdicts from thresholds.

Measured on the grey image scaled to a fixed longest side (``MEASURE_SIDE``), so the numbers of
one photo do not change with the size it was sent at. Noise uses Immerkaer's estimator (a
Laplacian-difference mask that cancels image structure up to second order; J. Immerkaer, "Fast
Noise Variance Estimation", CVIU 1996), on flat regions' scale of grey levels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .decode import Frame

MEASURE_SIDE = 512
_NOISE_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)


@dataclass(frozen=True)
class QualityThresholds:
    """Where the verdicts flip; every value comes from settings."""

    min_sharpness: float
    max_noise_sigma: float
    min_megapixels: float
    dark_brightness: float
    bright_brightness: float
    clipped_fraction: float


@dataclass(frozen=True)
class Quality:
    sharpness: float
    brightness: float
    contrast: float
    underexposed_fraction: float
    overexposed_fraction: float
    noise_sigma: float
    megapixels: float
    blurry: bool
    exposure: str
    noisy: bool
    low_resolution: bool


def measure(pixels: Frame, width: int, height: int, thresholds: QualityThresholds) -> Quality:
    """Quality of ``pixels`` (the image at any size); ``width`` x ``height`` is its original size."""
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    if max(h, w) != MEASURE_SIDE:
        scale = MEASURE_SIDE / max(h, w)
        size = (max(3, round(w * scale)), max(3, round(h * scale)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    values = grey.astype(np.float32)
    sharpness = float(cv2.Laplacian(values, cv2.CV_32F).var())
    luminance = values / 255.0
    brightness, contrast = float(luminance.mean()), float(luminance.std())
    under = float((luminance < 0.02).mean())
    over = float((luminance > 0.98).mean())
    noise = _noise_sigma(values)
    megapixels = width * height / 1e6
    if brightness < thresholds.dark_brightness or under > thresholds.clipped_fraction:
        exposure = "underexposed"
    elif brightness > thresholds.bright_brightness or over > thresholds.clipped_fraction:
        exposure = "overexposed"
    else:
        exposure = "ok"
    return Quality(
        sharpness=sharpness,
        brightness=brightness,
        contrast=contrast,
        underexposed_fraction=under,
        overexposed_fraction=over,
        noise_sigma=noise,
        megapixels=megapixels,
        blurry=sharpness < thresholds.min_sharpness,
        exposure=exposure,
        noisy=noise > thresholds.max_noise_sigma,
        low_resolution=megapixels < thresholds.min_megapixels,
    )


def _noise_sigma(values: np.ndarray) -> float:
    h, w = values.shape
    response = np.abs(cv2.filter2D(values, cv2.CV_32F, _NOISE_MASK)[1:-1, 1:-1])
    return float(math.sqrt(math.pi / 2) * response.sum() / (6.0 * (w - 2) * (h - 2)))
