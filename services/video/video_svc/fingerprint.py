"""A video's fingerprint: perceptual hashes of frames sampled at a fixed rate.

Each sampled frame is shrunk to a small grey square, the letterbox/pillarbox bars the video
shows throughout are trimmed, and only the centre (a margin cut on every side) is hashed: a
copy that is cropped a little, watermarked in a corner, or padded into another aspect ratio
still hashes its frames close to the original's. Two 64-bit hashes per frame (pHash: DCT
structure, dHash: gradients) fail differently, so their summed Hamming distance separates
copies from distinct footage better than either. Frames with almost no texture (black,
fades, flat colour) hash unstably and match anything flat: they are marked and never matched.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# Frames are decoded straight to this grey square (area-averaged): enough for a 32x32 pHash
# after trimming, 4 kB per frame (an hour at 2 fps is 29 MB).
SAMPLE_SIDE = 64
# Rows or columns darker than this in every frame of the video are letterbox bars.
_BAR_LEVEL = 28.0
# Never trim more than this share of a side as bars (a dark video is not all bars).
_MAX_BAR_SHARE = 0.35
BITS_PER_FRAME = 128

Hashes = npt.NDArray[np.uint64]


@dataclass(frozen=True)
class Fingerprint:
    """``hashes[i]`` = (pHash, dHash) of the frame at ``i / fps`` seconds; ``valid[i]`` says it has
    enough texture to be matched."""

    fps: float
    duration: float
    hashes: Hashes  # (n, 2) uint64
    valid: npt.NDArray[np.bool_]  # (n,)

    @property
    def frames(self) -> int:
        return int(self.hashes.shape[0])

    def to_bytes(self) -> tuple[bytes, bytes]:
        """(hashes, valid) as compact bytes for storage."""
        return self.hashes.astype("<u8").tobytes(), np.packbits(self.valid).tobytes()

    @classmethod
    def from_bytes(cls, fps: float, duration: float, hashes: bytes, valid: bytes) -> Fingerprint:
        decoded = np.frombuffer(hashes, dtype="<u8").astype(np.uint64).reshape(-1, 2)
        flags = np.unpackbits(np.frombuffer(valid, dtype=np.uint8))[: decoded.shape[0]].astype(bool)
        return cls(fps=fps, duration=duration, hashes=decoded, valid=flags)


def content_box(frames: npt.NDArray[np.uint8]) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the picture inside bars that stay dark in every frame."""
    side = frames.shape[1]
    limit = int(side * _MAX_BAR_SHARE)
    rows = frames.mean(axis=2).max(axis=0)  # brightest each row ever gets
    cols = frames.mean(axis=1).max(axis=0)

    def bars(profile: npt.NDArray[np.floating]) -> tuple[int, int]:
        dark = profile < _BAR_LEVEL
        head = int(np.argmin(dark)) if not dark.all() else 0
        tail = int(np.argmin(dark[::-1])) if not dark.all() else 0
        return min(head, limit), side - min(tail, limit)

    top, bottom = bars(rows)
    left, right = bars(cols)
    return top, bottom, left, right


def _bits(hash_bits: npt.NDArray[np.bool_]) -> int:
    return int.from_bytes(np.packbits(hash_bits.ravel()).tobytes(), "big")


def hash_frames(
    frames: npt.NDArray[np.uint8], *, margin: float, min_texture: float
) -> tuple[Hashes, npt.NDArray[np.bool_]]:
    """(pHash, dHash) of the centre of every frame inside the video's content box."""
    import imagehash
    from PIL import Image

    if frames.shape[0] == 0:
        return np.zeros((0, 2), dtype=np.uint64), np.zeros(0, dtype=bool)
    top, bottom, left, right = content_box(frames)
    dy, dx = round((bottom - top) * margin), round((right - left) * margin)
    centre = frames[:, top + dy : bottom - dy, left + dx : right - dx]
    hashes = np.empty((frames.shape[0], 2), dtype=np.uint64)
    for index, frame in enumerate(centre):
        image = Image.fromarray(frame)
        hashes[index, 0] = _bits(imagehash.phash(image).hash)
        hashes[index, 1] = _bits(imagehash.dhash(image).hash)
    valid = centre.reshape(centre.shape[0], -1).std(axis=1) >= min_texture
    return hashes, valid


async def fingerprint(
    frames: AsyncIterator[tuple[float, bytes]],
    *,
    fps: float,
    duration: float,
    margin: float,
    min_texture: float,
    max_frames: int,
) -> Fingerprint:
    """The fingerprint of grey ``SAMPLE_SIDE``-square frames sampled at ``fps``."""
    collected: list[npt.NDArray[np.uint8]] = []
    async for _, raw in frames:
        collected.append(np.frombuffer(raw, dtype=np.uint8).reshape(SAMPLE_SIDE, SAMPLE_SIDE))
        if len(collected) >= max_frames:
            break
    stack = np.stack(collected) if collected else np.zeros((0, SAMPLE_SIDE, SAMPLE_SIDE), np.uint8)
    hashes, valid = hash_frames(stack, margin=margin, min_texture=min_texture)
    return Fingerprint(fps=fps, duration=duration, hashes=hashes, valid=valid)
