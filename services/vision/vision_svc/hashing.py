"""Perceptual hashes: 64-bit pHash (DCT), dHash (gradient) and wHash (Haar wavelet) of an image.

All three start from the same grey image and are cheap next to decoding, so an image always gets
all three, plus the hashes of its mirror image (a horizontal flip), which near-duplicate search
compares too: a flipped copy shares almost nothing with the original's hashes.

- pHash: 32x32 grey (area-averaged), 2-D DCT, the 8x8 lowest frequencies without the DC term's
  influence on the threshold (median of the 63 AC terms), bit = coefficient > median.
- dHash: 9x8 grey, bit = pixel brighter than its right neighbour.
- wHash: 64x64 grey, Haar low-pass down to 8x8 (block means), bit = value > median; the same
  as imagehash's ``whash`` with the coarsest LL removed, which shifts all values equally.

Bits are packed row-major, first bit the most significant, into an unsigned 64-bit integer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Grey = npt.NDArray[np.uint8]
_BIT_WEIGHTS = (np.uint64(1) << np.arange(63, -1, -1, dtype=np.uint64)).astype(np.uint64)
# Popcount of every byte, for Hamming distances of packed hashes.
_POPCOUNT = np.array([bin(value).count("1") for value in range(256)], dtype=np.uint8)
HASH_NAMES = ("phash", "dhash", "whash")


@dataclass(frozen=True)
class HashSet:
    """The three hashes of one orientation of an image, as unsigned 64-bit integers."""

    phash: int
    dhash: int
    whash: int

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.phash, self.dhash, self.whash)

    def hex(self) -> dict[str, str]:
        return {name: f"{value:016x}" for name, value in zip(HASH_NAMES, self.as_tuple(), strict=True)}


@dataclass(frozen=True)
class ImageHashes:
    """Hashes of an image and of its mirror image."""

    original: HashSet
    mirrored: HashSet


def _pack(bits: npt.NDArray[np.bool_]) -> int:
    return int((bits.reshape(-1).astype(np.uint64) * _BIT_WEIGHTS).sum(dtype=np.uint64))


def _phash(grey: Grey) -> int:
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8]
    return _pack(low > np.median(low.reshape(-1)[1:]))


def _dhash(grey: Grey) -> int:
    small = cv2.resize(grey, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    return _pack(small[:, 1:] > small[:, :-1])


def _whash(grey: Grey) -> int:
    small = cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
    # Haar LL after three levels = mean of each 8x8 block (up to a constant factor).
    blocks = small.reshape(8, 8, 8, 8).mean(axis=(1, 3))
    return _pack(blocks > np.median(blocks))


def hash_set(grey: Grey) -> HashSet:
    return HashSet(_phash(grey), _dhash(grey), _whash(grey))


def hashes_of(rgb: npt.NDArray[np.uint8]) -> ImageHashes:
    """The hashes of an RGB image (any size) and of its horizontal mirror."""
    grey = to_grey(rgb)
    return ImageHashes(hash_set(grey), hash_set(np.ascontiguousarray(grey[:, ::-1])))


def to_grey(rgb: npt.NDArray[np.uint8]) -> Grey:
    # Shrink first (area averaging) when large: the hashes need at most 64x64, and converting a
    # 12-megapixel image to grey costs more than the hashes themselves.
    height, width = rgb.shape[:2]
    if min(height, width) > 256:
        scale = 256 / min(height, width)
        rgb = np.asarray(
            cv2.resize(
                rgb,
                (max(1, round(width * scale)), max(1, round(height * scale))),
                interpolation=cv2.INTER_AREA,
            ),
            dtype=np.uint8,
        )
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), dtype=np.uint8)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def hamming_matrix(left: npt.NDArray[np.uint64], right: npt.NDArray[np.uint64]) -> npt.NDArray[Any]:
    """Hamming distances between every hash of ``left`` (n) and every hash of ``right`` (m): n x m."""
    xor = np.ascontiguousarray(left[:, np.newaxis] ^ right[np.newaxis, :])
    as_bytes = xor.view(np.uint8).reshape(*xor.shape, 8)
    counts: npt.NDArray[Any] = _POPCOUNT[as_bytes].sum(axis=-1, dtype=np.uint8)
    return counts


def parse_hex(value: str) -> int:
    return int(value, 16)
