"""Dominant colours: k-means over the image's pixels in CIELAB, where distance follows perception."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .decode import Frame

_SAMPLE_SIDE = 96  # ~9000 pixels is plenty for the few colours reported


@dataclass(frozen=True)
class Colour:
    r: int
    g: int
    b: int
    fraction: float

    @property
    def hex(self) -> str:
        return f"#{self.r:02x}{self.g:02x}{self.b:02x}"


def dominant_colours(pixels: Frame, count: int) -> list[Colour]:
    """Up to ``count`` colours, most common first, with the share of pixels nearest to each.
    Deterministic: the same image always gives the same colours."""
    h, w = pixels.shape[:2]
    scale = min(1.0, _SAMPLE_SIDE / max(h, w))
    small = cv2.resize(
        pixels, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    lab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float32)
    distinct = len(np.unique(lab, axis=0))
    k = max(1, min(count, distinct))
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    initial = np.zeros((len(lab), 1), dtype=np.int32)
    _, labels, centres = cv2.kmeans(lab, k, initial, criteria, 3, cv2.KMEANS_PP_CENTERS)
    shares = np.bincount(labels.ravel(), minlength=k) / len(labels)
    rgb = cv2.cvtColor(np.clip(centres, 0, 255).astype(np.uint8)[np.newaxis], cv2.COLOR_LAB2RGB)[0]
    colours = [
        Colour(int(c[0]), int(c[1]), int(c[2]), float(share))
        for c, share in zip(rgb, shares, strict=True)
        if share > 0
    ]
    return sorted(colours, key=lambda c: -c.fraction)
