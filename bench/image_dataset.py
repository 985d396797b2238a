"""A near-duplicate image set with ground truth, from real photographs already on this machine.

Sources (nothing downloaded): scikit-image's bundled photographs, scikit-learn's two sample
photographs, and distinct tiles of the larger ones (tiles of one photo are different images that
share colours and texture: hard negatives). Each base image gets transformed copies:

    resize_50   half the size (area averaging)       jpeg_30     JPEG quality 30
    resize_200  twice the size (bicubic)             jpeg_70     JPEG quality 70
    crop_90     centre crop keeping 90% per side     bright_up   brightness x1.3
    crop_80     off-centre crop keeping 80% per side bright_down brightness x0.7
    watermark   semi-transparent text over a band    flip        horizontal mirror

Truth: two images are duplicates exactly when they come from the same base image.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image
from skimage import data

Rgb = npt.NDArray[np.uint8]

_SKIMAGE_PHOTOS = (
    "astronaut",
    "camera",
    "chelsea",
    "coffee",
    "coins",
    "clock",
    "rocket",
    "immunohistochemistry",
    "moon",
    "brick",
    "grass",
    "gravel",
    "cell",
    "page",
    "text",
    "colorwheel",
)


@dataclass(frozen=True)
class Sample:
    """One image of the set: its id, the base it derives from, the transformation, JPEG bytes."""

    id: str
    base: str
    transform: str
    encoded: bytes


def _rgb(image: npt.NDArray[np.generic]) -> Rgb:
    array = np.asarray(image)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    return np.ascontiguousarray(array[..., :3].astype(np.uint8))


def _tiles(name: str, image: Rgb, rows: int, cols: int) -> list[tuple[str, Rgb]]:
    height, width = image.shape[:2]
    th, tw = height // rows, width // cols
    return [
        (f"{name}_{r}{c}", np.ascontiguousarray(image[r * th : (r + 1) * th, c * tw : (c + 1) * tw]))
        for r in range(rows)
        for c in range(cols)
    ]


def base_images() -> list[tuple[str, Rgb]]:
    """The real photographs the set is built from, each at least 150 px per side."""
    from sklearn.datasets import load_sample_images

    bases = [(name, _rgb(getattr(data, name)())) for name in _SKIMAGE_PHOTOS]
    china, flower = (_rgb(image) for image in load_sample_images().images)
    bases += [("china", china), ("flower", flower)]
    bases += _tiles("hubble", _rgb(data.hubble_deep_field()), 2, 2)
    bases += _tiles("retina", _rgb(data.retina()), 2, 2)
    bases += _tiles("china", china, 1, 2)
    bases += _tiles("flower", flower, 1, 2)
    left, _right, _ = data.stereo_motorcycle()
    bases += [("motorcycle", _rgb(left))]
    return bases


def _jpeg(image: Rgb, quality: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _resize(image: Rgb, factor: float) -> Rgb:
    height, width = image.shape[:2]
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    interpolation = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return np.asarray(cv2.resize(image, size, interpolation=interpolation), dtype=np.uint8)


def _crop(image: Rgb, keep: float, anchor: float) -> Rgb:
    height, width = image.shape[:2]
    ch, cw = round(height * keep), round(width * keep)
    top, left = round((height - ch) * anchor), round((width - cw) * anchor)
    return np.ascontiguousarray(image[top : top + ch, left : left + cw])


def _brightness(image: Rgb, factor: float) -> Rgb:
    return np.clip(image.astype(np.float32) * factor, 0, 255).astype(np.uint8)


def _watermark(image: Rgb) -> Rgb:
    height, width = image.shape[:2]
    overlay = image.copy()
    scale = max(0.4, width / 500)
    thickness = max(1, round(scale * 2))
    cv2.putText(
        overlay,
        "(c) clipsift stock",
        (width // 20, height * 4 // 5),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 255),
        thickness,
        cv2.LINE_AA,
    )
    cv2.rectangle(overlay, (0, 0), (width - 1, max(4, height // 25)), (255, 255, 255), -1)
    return np.asarray(cv2.addWeighted(overlay, 0.6, image, 0.4, 0), dtype=np.uint8)


TRANSFORMS: dict[str, Callable[[Rgb], bytes]] = {
    "resize_50": lambda image: _jpeg(_resize(image, 0.5), 90),
    "resize_200": lambda image: _jpeg(_resize(image, 2.0), 90),
    "jpeg_30": lambda image: _jpeg(image, 30),
    "jpeg_70": lambda image: _jpeg(image, 70),
    "crop_90": lambda image: _jpeg(_crop(image, 0.9, 0.5), 90),
    "crop_80": lambda image: _jpeg(_crop(image, 0.8, 0.3), 90),
    "bright_up": lambda image: _jpeg(_brightness(image, 1.3), 90),
    "bright_down": lambda image: _jpeg(_brightness(image, 0.7), 90),
    "watermark": lambda image: _jpeg(_watermark(image), 90),
    "flip": lambda image: _jpeg(np.ascontiguousarray(image[:, ::-1]), 90),
}


def build_dataset() -> list[Sample]:
    """Every base image (as JPEG quality 95) followed by its transformed copies."""
    samples = []
    for base, image in base_images():
        samples.append(Sample(f"{base}/original", base, "original", _jpeg(image, 95)))
        for name, transform in TRANSFORMS.items():
            samples.append(Sample(f"{base}/{name}", base, name, transform(image)))
    return samples
