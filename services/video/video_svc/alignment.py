"""Near-duplicate videos by aligning fingerprints.

Both fingerprints are sampled at the same rate, so a copy that was trimmed, or that embeds the
original somewhere later, shows up as matching frames on one diagonal of the frame-distance
matrix (``j - i`` = the offset in frames). Matching pairs vote for their offset; the best
offsets are scanned along their diagonal (one frame of slack either side for sampling phase),
near runs are joined across short gaps (a flash, a transition, a frame too flat to hash), and
each long enough run becomes a segment: the time range in both videos and how alike they are.
Overlapping segments from neighbouring offsets (a still shot matches at many) are suppressed.

The distance matrix is never held whole: votes are counted in row blocks, and a diagonal's
distances are recomputed from the hashes when it is scanned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .fingerprint import BITS_PER_FRAME, Fingerprint, Hashes

_BLOCK_ROWS = 256
_NO_MATCH = 255


@dataclass(frozen=True)
class AlignParams:
    """Matching thresholds (from settings)."""

    max_distance: int = 36  # summed pHash + dHash Hamming distance (of 128) for two frames to match
    min_run_seconds: float = 4.0  # shortest matching stretch reported
    max_gap_seconds: float = 2.0  # non-matching stretch a run may bridge
    min_density: float = 0.6  # share of a run's frames that must match
    max_offsets: int = 24  # diagonals scanned per pair


@dataclass(frozen=True)
class Segment:
    """Matching time ranges (seconds) in video a and video b."""

    a_start: float
    a_end: float
    b_start: float
    b_end: float
    similarity: float  # 1 - mean distance / 128 of the matched frames
    matched_frames: int

    @property
    def seconds(self) -> float:
        return self.a_end - self.a_start


@dataclass(frozen=True)
class VideoMatch:
    segments: tuple[Segment, ...]
    coverage_a: float  # share of video a inside a segment
    coverage_b: float
    similarity: float

    @property
    def score(self) -> float:
        """How much of the more-covered video (usually the shorter) is in the other: 1.0 for a
        full copy or an excerpt, small for a short shared shot."""
        return max(self.coverage_a, self.coverage_b)


def _row_distances(a: Hashes, b: Hashes) -> npt.NDArray[np.uint8]:
    total: npt.NDArray[np.uint8] = np.bitwise_count(a[:, None, 0] ^ b[None, :, 0])
    total += np.bitwise_count(a[:, None, 1] ^ b[None, :, 1])
    return total


def _offset_votes(a: Fingerprint, b: Fingerprint, max_distance: int) -> npt.NDArray[np.int64]:
    """votes[o + n - 1] = number of matching frame pairs (i, i + o)."""
    n, m = a.frames, b.frames
    votes = np.zeros(n + m - 1, dtype=np.int64)
    b_rows = np.flatnonzero(b.valid)
    if b_rows.size == 0:
        return votes
    b_hashes = b.hashes[b_rows]
    for start in range(0, n, _BLOCK_ROWS):
        rows = np.arange(start, min(n, start + _BLOCK_ROWS))
        rows = rows[a.valid[rows]]
        if rows.size == 0:
            continue
        ii, jj = np.nonzero(_row_distances(a.hashes[rows], b_hashes) <= max_distance)
        votes += np.bincount(b_rows[jj] - rows[ii] + n - 1, minlength=votes.size)
    return votes


def _diagonal(a: Fingerprint, b: Fingerprint, offset: int) -> npt.NDArray[np.int64]:
    """For each frame i of a, the distance to the closest of b's frames i+offset-1 .. i+offset+1
    (_NO_MATCH where none exists or a frame is too flat to match)."""
    n, m = a.frames, b.frames
    i = np.arange(n)
    best = np.full(n, _NO_MATCH, dtype=np.int64)
    for slack in (-1, 0, 1):
        j = i + offset + slack
        inside = (j >= 0) & (j < m)
        jc = np.clip(j, 0, m - 1)
        d = np.bitwise_count(a.hashes[:, 0] ^ b.hashes[jc, 0]).astype(np.int64)
        d += np.bitwise_count(a.hashes[:, 1] ^ b.hashes[jc, 1])
        usable = inside & a.valid & b.valid[jc]
        best = np.minimum(best, np.where(usable, d, _NO_MATCH))
    return best


def _exact_diagonal_mean(a: Fingerprint, b: Fingerprint, offset: int, first: int, last: int) -> float:
    """Mean distance of frames i (first..last) of a to frames i + offset of b, over usable pairs."""
    i = np.arange(max(first, -offset), min(last + 1, b.frames - offset))
    if i.size == 0:
        return float(BITS_PER_FRAME)
    j = i + offset
    usable = a.valid[i] & b.valid[j]
    if not usable.any():
        return float(BITS_PER_FRAME)
    d = np.bitwise_count(a.hashes[i, 0] ^ b.hashes[j, 0]).astype(np.int64)
    d += np.bitwise_count(a.hashes[i, 1] ^ b.hashes[j, 1])
    return float(d[usable].mean())


def _refined_offset(a: Fingerprint, b: Fingerprint, offset: int, first: int, last: int) -> float:
    """The run's offset in (fractional) frames: the best exact diagonal near ``offset``, refined by
    a parabola through its neighbours (a trim rarely falls on a sampling instant)."""
    tried = {o: _exact_diagonal_mean(a, b, o, first, last) for o in range(offset - 2, offset + 3)}
    centre = min(range(offset - 1, offset + 2), key=lambda o: tried[o])
    left, mid, right = tried[centre - 1], tried[centre], tried[centre + 1]
    curvature = left - 2 * mid + right
    delta = 0.5 * (left - right) / curvature if curvature > 0 else 0.0
    return centre + float(np.clip(delta, -0.5, 0.5))


def _runs(
    hit: npt.NDArray[np.bool_], max_gap: int, min_length: int, min_density: float
) -> list[tuple[int, int]]:
    """[first, last] index pairs of runs of hits joined across gaps of at most ``max_gap``."""
    found: list[tuple[int, int]] = []
    positions = np.flatnonzero(hit)
    if positions.size == 0:
        return found
    breaks = np.flatnonzero(np.diff(positions) > max_gap + 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [positions.size - 1]))
    for s, e in zip(starts, ends, strict=True):
        first, last = int(positions[s]), int(positions[e])
        length = last - first + 1
        if length >= min_length and (e - s + 1) >= min_density * length:
            found.append((first, last))
    return found


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _union_seconds(ranges: list[tuple[float, float]]) -> float:
    total, reach = 0.0, float("-inf")
    for start, end in sorted(ranges):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


def align(a: Fingerprint, b: Fingerprint, params: AlignParams) -> VideoMatch | None:
    """The matching segments of two fingerprints taken at the same rate; None when nothing matches
    for at least ``params.min_run_seconds``."""
    if abs(a.fps - b.fps) > 1e-6:
        raise ValueError(f"fingerprints sampled at different rates ({a.fps} and {b.fps} fps)")
    if a.frames == 0 or b.frames == 0:
        return None
    fps, n = a.fps, a.frames
    min_length = max(2, round(params.min_run_seconds * fps))
    max_gap = round(params.max_gap_seconds * fps)
    votes = _offset_votes(a, b, params.max_distance)
    # Votes of a diagonal and its neighbours: a copy sampled at another phase splits between them.
    smoothed = np.convolve(votes, np.ones(3, dtype=np.int64), mode="same")
    order = np.argsort(-smoothed, kind="stable")[: params.max_offsets]
    candidates: list[Segment] = []
    for index in order:
        if smoothed[index] < min_length * params.min_density:
            break
        offset = int(index) - (n - 1)
        best = _diagonal(a, b, offset)
        hit = best <= params.max_distance
        for first, last in _runs(hit, max_gap, min_length, params.min_density):
            matched = best[first : last + 1][hit[first : last + 1]]
            shift = _refined_offset(a, b, offset, first, last) / fps
            a_start, a_end = first / fps, min(a.duration, (last + 1) / fps)
            # The run's ends in b, clipped to b; a's ends follow where b's were clipped.
            b_start, b_end = max(0.0, a_start + shift), min(b.duration, a_end + shift)
            a_start, a_end = b_start - shift, b_end - shift
            if a_end - a_start < params.min_run_seconds * params.min_density:
                continue
            candidates.append(
                Segment(
                    a_start=round(a_start, 2),
                    a_end=round(a_end, 2),
                    b_start=round(b_start, 2),
                    b_end=round(b_end, 2),
                    similarity=round(1.0 - float(matched.mean()) / BITS_PER_FRAME, 4),
                    matched_frames=int(matched.size),
                )
            )
    kept: list[Segment] = []
    for segment in sorted(candidates, key=lambda s: (-s.matched_frames, s.a_start)):
        # The same stretch found again on a nearby diagonal (slow motion and still shots look alike
        # a few seconds apart) overlaps a stronger segment. A shot repeated within one video is
        # therefore reported once.
        if any(
            _overlap(segment.a_start, segment.a_end, k.a_start, k.a_end) > 0.5 * segment.seconds
            or _overlap(segment.b_start, segment.b_end, k.b_start, k.b_end)
            > 0.5 * (segment.b_end - segment.b_start)
            for k in kept
        ):
            continue
        kept.append(segment)
    if not kept:
        return None
    kept.sort(key=lambda s: (s.a_start, s.b_start))
    weight = sum(s.matched_frames for s in kept)
    return VideoMatch(
        segments=tuple(kept),
        coverage_a=round(min(1.0, _union_seconds([(s.a_start, s.a_end) for s in kept]) / a.duration), 4),
        coverage_b=round(min(1.0, _union_seconds([(s.b_start, s.b_end) for s in kept]) / b.duration), 4),
        similarity=round(sum(s.similarity * s.matched_frames for s in kept) / weight, 4),
    )
