"""Reframing: plan a fixed-size crop window that follows the active speaker through a clip, and
express it as an ffmpeg ``crop`` filter.

The active speaker's proxy is the dominant face (area x confidence), tracked from sample to
sample. The window cuts to a new speaker only after that face has dominated for a while, pans
smoothly after a moving speaker, and ignores small movements, so the result neither flickers
nor jitters.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from video_svc.model import Box, CropKeyframe, CropPath, FaceSample

FloatArray = npt.NDArray[np.float64]

# The path is planned densely at 25 Hz (a typical frame rate), then thinned to keyframes.
_GRID_STEP = 0.04
# Keyframe candidates every 0.2 s: a few per second is plenty for a smoothed path.
_KEYFRAME_STEP = 0.2
# A speaker switch is a cut: the old position holds until this long before the switch.
_CUT_EPSILON = 0.001
# Keyframes whose removal moves the window by less than this (pixels) are dropped.
_PLAN_TOLERANCE = 0.5
_FILTER_TOLERANCE = 1.0
# A face unseen for longer than this starts a new track when it reappears.
_TRACK_TTL = 1.0
_MIN_IOU = 0.3
# Window y such that the face centre sits 40% down the window: headroom above the eyes reads as
# natural framing (only matters when the window is shorter than the source).
_FACE_HEIGHT_IN_WINDOW = 0.4


def crop_size(src_width: int, src_height: int, aspect: tuple[int, int]) -> tuple[int, int]:
    """The largest window of ``aspect`` (width, height) that fits in the source, in even pixels
    (x264 with 4:2:0 chroma needs even sizes): 1920x1080 at 9:16 gives 608x1080."""
    aspect_w, aspect_h = aspect
    if src_width < 2 or src_height < 2 or aspect_w <= 0 or aspect_h <= 0:
        raise ValueError(f"bad source size {src_width}x{src_height} or aspect {aspect_w}:{aspect_h}")
    max_w, max_h = src_width - src_width % 2, src_height - src_height % 2
    if src_width * aspect_h >= src_height * aspect_w:  # the source is wider: use its full height
        return min(max_w, _even(max_h * aspect_w / aspect_h)), max_h
    return max_w, min(max_h, _even(max_w * aspect_h / aspect_w))


def plan_crop(
    samples: Sequence[FaceSample],
    src_width: int,
    src_height: int,
    aspect: tuple[int, int],
    clip_start: float,
    clip_end: float,
    switch_hold_seconds: float = 1.5,
    smoothing_seconds: float = 0.6,
    dead_zone_ratio: float = 0.06,
    scene_cuts: Sequence[float] = (),
) -> CropPath:
    """Plan the crop window for the clip ``[clip_start, clip_end]`` (source seconds).

    ``samples`` are face detections on the source timeline; those within ``smoothing_seconds``
    of the clip are used. The followed face changes only after another face has been the
    dominant one for ``switch_hold_seconds`` without interruption; the change is a cut. Between
    switches the target is smoothed with a centred moving average over ``smoothing_seconds`` and
    the window moves only once the target leaves a dead zone of ``dead_zone_ratio`` x the window
    size. Stretches without faces hold the last position; no face at all gives a centred window.
    At each of ``scene_cuts`` (source seconds) a new shot begins: the window cuts with it to the
    new shot's dominant face instead of panning across the edit.

    Keyframes are on the clip timeline (seconds since ``clip_start``).
    """
    if clip_end <= clip_start:
        raise ValueError(f"empty clip: start {clip_start} >= end {clip_end}")
    width, height = crop_size(src_width, src_height, aspect)
    max_x, max_y = src_width - width, src_height - height
    duration = clip_end - clip_start
    if max_x == 0 and max_y == 0:
        return CropPath(width, height, (CropKeyframe(0.0, 0.0, 0.0),), mode="full frame")
    nearby = sorted(
        (s for s in samples if clip_start - smoothing_seconds <= s.t <= clip_end + smoothing_seconds),
        key=lambda s: s.t,
    )
    targets, switches = _follow(_track(nearby), switch_hold_seconds, scene_cuts)
    if not targets:
        centre = CropKeyframe(0.0, max_x / 2, max_y / 2)
        return CropPath(width, height, (centre,), mode="centre: no face found")

    steps = max(1, math.ceil(duration / _GRID_STEP))
    grid = np.linspace(clip_start, clip_end, steps + 1)
    segment = np.searchsorted(np.asarray(switches, dtype=np.float64), grid, side="right")
    centre_x, centre_y = np.empty_like(grid), np.empty_like(grid)
    window = max(1, round(smoothing_seconds / _GRID_STEP))
    for seg in np.unique(segment):
        here = segment == seg
        points = [p for p in targets if p.segment == seg]
        t = np.asarray([p.t for p in points])
        centre_x[here] = _moving_average(np.interp(grid[here], t, [p.x for p in points]), window)
        centre_y[here] = _moving_average(np.interp(grid[here], t, [p.y for p in points]), window)

    x = np.clip(centre_x - width / 2, 0, max_x)
    y = np.clip(centre_y - _FACE_HEIGHT_IN_WINDOW * height, 0, max_y)
    x, y, cuts = _dead_zone(x, y, segment, dead_zone_ratio * width, dead_zone_ratio * height)
    return CropPath(width, height, _keyframes(grid - clip_start, x, y, cuts), mode="face")


def crop_at(path: CropPath, t: float) -> CropKeyframe:
    """The window's top-left corner at clip time ``t``, interpolated as ``crop_filter`` does."""
    times = [k.t for k in path.keyframes]
    x = float(np.interp(t, times, [k.x for k in path.keyframes]))
    y = float(np.interp(t, times, [k.y for k in path.keyframes]))
    return CropKeyframe(t, x, y)


def crop_filter(path: CropPath) -> str:
    """An ffmpeg ``crop=w:h:x:y`` filter for the path, ``x`` and ``y`` being expressions of the
    frame time ``t`` that interpolate linearly between keyframes (held before the first and
    after the last).

    Keyframes whose removal moves the window by less than a pixel are dropped, and the
    expression is a balanced tree of ``if(lt(t,T),..,..)``: its nesting grows with the log of the
    keyframe count, which keeps it well inside ffmpeg's expression depth limit (about 100) for
    clips of any length. The expressions are single-quoted, so the filter can go into a filter
    graph as it is.
    """
    if not path.keyframes:
        raise ValueError("a crop path needs at least one keyframe")
    times = np.asarray([k.t for k in path.keyframes])
    x_expr = _axis_expression(times, np.asarray([k.x for k in path.keyframes]))
    y_expr = _axis_expression(times, np.asarray([k.y for k in path.keyframes]))
    return f"crop={path.width}:{path.height}:'{x_expr}':'{y_expr}'"


@dataclass
class _Track:
    ident: int
    box: Box
    last_seen: float


@dataclass(frozen=True)
class _Target:
    t: float
    x: float
    y: float
    segment: int


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def _score(box: Box) -> float:
    return box.width * box.height * box.confidence


def _iou(a: Box, b: Box) -> float:
    overlap_w = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
    overlap_h = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
    if overlap_w <= 0 or overlap_h <= 0:
        return 0.0
    overlap = overlap_w * overlap_h
    return overlap / (a.width * a.height + b.width * b.height - overlap)


def _track(samples: Sequence[FaceSample]) -> list[tuple[float, list[tuple[int, Box]]]]:
    """Give every detection a track id: a face continues the live track it overlaps most (IoU),
    or whose centre is within a face width (faces move far between sparse samples); otherwise
    it starts a new track."""
    tracks: list[_Track] = []
    tracked: list[tuple[float, list[tuple[int, Box]]]] = []
    for sample in samples:
        live = [tr for tr in tracks if sample.t - tr.last_seen <= _TRACK_TTL]
        faces: list[tuple[int, Box]] = []
        for box in sorted(
            (b for b in sample.faces if b.width > 0 and b.height > 0), key=_score, reverse=True
        ):
            match = _best_match(box, live)
            if match is None:
                match = _Track(len(tracks), box, sample.t)
                tracks.append(match)
            else:
                live.remove(match)  # one detection per track per sample
                match.box, match.last_seen = box, sample.t
            faces.append((match.ident, box))
        tracked.append((sample.t, faces))
    return tracked


def _best_match(box: Box, candidates: Sequence[_Track]) -> _Track | None:
    best: _Track | None = None
    best_key = (0.0, -math.inf)
    for track in candidates:
        iou = _iou(box, track.box)
        distance = math.dist((box.center_x, box.center_y), (track.box.center_x, track.box.center_y))
        if iou < _MIN_IOU and distance > max(box.width, track.box.width):
            continue
        key = (iou, -distance)
        if best is None or key > best_key:
            best, best_key = track, key
    return best


def _follow(
    tracked: Sequence[tuple[float, list[tuple[int, Box]]]],
    switch_hold: float,
    scene_cuts: Sequence[float] = (),
) -> tuple[list[_Target], list[float]]:
    """Decide whom to follow: the first dominant face, then a challenger only once it has been
    dominant in every sample (with faces) for ``switch_hold`` seconds, or at once when the
    followed face has been lost (unseen for longer than a track lives). Returns the followed
    face centres, each tagged with its segment (the number of switches before it), and the
    switch times. After a scene cut the first dominant face is followed at once, switching at
    the cut itself."""
    targets: list[_Target] = []
    switches: list[float] = []
    followed: int | None = None
    challenger: int | None = None
    challenger_since = 0.0
    followed_seen = -math.inf
    cuts = sorted(scene_cuts)
    new_shot_at: float | None = None
    for t, faces in tracked:
        while cuts and cuts[0] <= t:
            new_shot_at = cuts.pop(0)
        if not faces:
            continue  # no evidence either way: keep following, keep the challenger's clock
        dominant = max(faces, key=lambda face: _score(face[1]))[0]
        if new_shot_at is not None:
            if followed is not None:
                switches.append(new_shot_at)
            followed, challenger, new_shot_at = dominant, None, None
        elif followed is None:
            followed = dominant
        elif dominant == followed:
            challenger = None
        elif t - followed_seen > _TRACK_TTL or (
            dominant == challenger and t - challenger_since >= switch_hold
        ):
            followed, challenger = dominant, None
            switches.append(t)
        elif dominant != challenger:
            challenger, challenger_since = dominant, t
        for ident, box in faces:
            if ident == followed:
                followed_seen = t
                targets.append(_Target(t, box.center_x, box.center_y, len(switches)))
    return targets, switches


def _moving_average(values: FloatArray, window: int) -> FloatArray:
    """Centred moving average. The ends are padded by point reflection, which continues a
    trend: a face already moving when the clip starts is followed from the first frame instead
    of the window lagging and then catching up."""
    if window <= 1 or values.size < 2:
        return values
    half = window // 2
    padded = np.pad(values, half, mode="reflect", reflect_type="odd")
    kernel = np.full(2 * half + 1, 1.0 / (2 * half + 1))
    return np.convolve(padded, kernel, mode="valid")


def _dead_zone(
    x: FloatArray, y: FloatArray, segment: npt.NDArray[np.intp], zone_x: float, zone_y: float
) -> tuple[FloatArray, FloatArray, list[int]]:
    """Hold the window still until the target is more than the dead zone away, then follow it at
    that distance (a backlash filter: continuous, so it never jumps). At a speaker switch whose
    target lies outside the dead zone the window cuts to centre the new face. Returns the new
    positions and the indices where cuts happen."""
    out_x, out_y = x.copy(), y.copy()
    cuts: list[int] = []
    for i in range(1, x.size):
        if segment[i] != segment[i - 1] and (
            abs(x[i] - out_x[i - 1]) > zone_x or abs(y[i] - out_y[i - 1]) > zone_y
        ):
            cuts.append(i)
            continue
        out_x[i] = min(max(out_x[i - 1], x[i] - zone_x), x[i] + zone_x)
        out_y[i] = min(max(out_y[i - 1], y[i] - zone_y), y[i] + zone_y)
    return out_x, out_y, cuts


def _keyframes(
    times: FloatArray, x: FloatArray, y: FloatArray, cuts: Sequence[int]
) -> tuple[CropKeyframe, ...]:
    """Thin the dense path to keyframes: candidates every ``_KEYFRAME_STEP`` within each stretch
    between cuts, a hold-then-jump pair at each cut, then drop those that change nothing."""
    every = max(1, round(_KEYFRAME_STEP / _GRID_STEP))
    bounds = [0, *cuts, times.size]
    points: list[tuple[float, float, float]] = []
    for first, stop in itertools.pairwise(bounds):
        if first > 0:
            points.append((float(times[first]) - _CUT_EPSILON, float(x[first - 1]), float(y[first - 1])))
        indices = [*range(first, stop, every), stop - 1]
        points.extend((float(times[i]), float(x[i]), float(y[i])) for i in dict.fromkeys(indices))
    t = np.asarray([p[0] for p in points])
    values = np.asarray([[p[1], p[2]] for p in points])
    return tuple(
        CropKeyframe(round(points[i][0], 4), round(points[i][1], 2), round(points[i][2], 2))
        for i in _simplify(t, values, _PLAN_TOLERANCE)
    )


def _simplify(times: FloatArray, values: FloatArray, tolerance: float) -> list[int]:
    """Ramer-Douglas-Peucker on a piecewise-linear path over time: the indices to keep so that
    every dropped point lies within ``tolerance`` (on every axis) of the line through the kept
    ones. ``values`` has one row per time, one column per axis."""
    if times.size <= 2:
        return list(range(times.size))
    keep = {0, times.size - 1}
    stack = [(0, times.size - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        inner = np.arange(first + 1, last)
        span = times[last] - times[first]
        fraction = (times[inner] - times[first]) / span if span > 0 else np.zeros(inner.size)
        line = values[first] + np.outer(fraction, values[last] - values[first])
        error = np.abs(values[inner] - line).max(axis=1)
        worst = int(np.argmax(error))
        if error[worst] >= tolerance:
            split = int(inner[worst])
            keep.add(split)
            stack += [(first, split), (split, last)]
    return sorted(keep)


def _axis_expression(times: FloatArray, values: FloatArray) -> str:
    kept = _simplify(times, values.reshape(-1, 1), _FILTER_TOLERANCE)
    t, v = times[kept], values[kept]
    if np.ptp(v) < _FILTER_TOLERANCE:
        return _number(float(v[0]))
    # Piece 0 holds the first value before t[0]; piece i (1..n-1) runs from t[i-1] to t[i]; piece n
    # holds the last value from t[n-1] on.
    pieces = [_number(float(v[0]))]
    for i in range(1, t.size):
        slope = (v[i] - v[i - 1]) / (t[i] - t[i - 1])
        pieces.append(
            f"{_number(float(v[i - 1]))}+(t-{_number(float(t[i - 1]), 4)})*{_number(float(slope), 4)}"
        )
    pieces.append(_number(float(v[-1])))

    def tree(first: int, last: int) -> str:
        if first == last:
            return pieces[first]
        middle = (first + last + 1) // 2  # piece `middle` starts at t[middle - 1]
        return f"if(lt(t,{_number(float(t[middle - 1]), 4)}),{tree(first, middle - 1)},{tree(middle, last)})"

    return tree(0, len(pieces) - 1)


def _number(value: float, decimals: int = 2) -> str:
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
