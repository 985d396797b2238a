"""plan_crop on synthetic face detections: following, smoothing, dead zone, hysteresis, bounds."""

from __future__ import annotations

import random

import numpy as np
import pytest

from video_svc.model import Box, CropPath, FaceSample
from video_svc.reframe import crop_at, crop_size, plan_crop

FRAME = 1 / 25
SRC_W, SRC_H = 1280, 720


def face(cx: float, cy: float = 300.0, size: float = 120.0, confidence: float = 0.9) -> Box:
    return Box(cx - size / 2, cy - size / 2, size, size, confidence)


def positions(path: CropPath, duration: float) -> np.ndarray:
    """Window x at every frame (25 fps) of the clip."""
    return np.asarray([crop_at(path, t).x for t in np.arange(0.0, duration + 1e-9, FRAME)])


def centre_of_window(path: CropPath, t: float) -> float:
    return crop_at(path, t).x + path.width / 2


@pytest.mark.parametrize(
    ("src", "aspect", "expected"),
    [
        ((1920, 1080), (9, 16), (608, 1080)),
        ((1280, 720), (9, 16), (404, 720)),
        ((1920, 1080), (1, 1), (1080, 1080)),
        ((1920, 1080), (16, 9), (1920, 1080)),
        ((1080, 1920), (16, 9), (1080, 608)),
        ((1281, 721), (9, 16), (404, 720)),
    ],
)
def test_crop_size_is_the_largest_even_window_of_the_aspect(
    src: tuple[int, int], aspect: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert crop_size(*src, aspect) == expected


def test_face_moving_left_to_right_is_followed_smoothly() -> None:
    # 100 px/s across the frame, detected 5 times a second.
    samples = [FaceSample(t, (face(250 + 100 * t),)) for t in np.arange(0.0, 8.01, 0.2)]
    path = plan_crop(samples, SRC_W, SRC_H, (9, 16), 0.0, 8.0)

    x = positions(path, 8.0)
    assert np.abs(np.diff(x)).max() <= 100 * FRAME + 1.0  # never faster than the face
    assert x[-1] - x[0] > 700  # it really followed
    for t in np.arange(0.0, 8.01, 0.5):
        # The face stays within the dead zone (6% of the width) of the window's centre.
        assert abs(centre_of_window(path, t) - (250 + 100 * t)) <= 0.06 * path.width + 2
    assert len(path.keyframes) <= 5 * 8 + 2  # a few keyframes per second at most


def test_jittery_detections_give_a_perfectly_still_window() -> None:
    rng = random.Random(7)
    samples = [
        FaceSample(t, (face(640 + rng.uniform(-5, 5), 300 + rng.uniform(-5, 5), 120 + rng.uniform(-5, 5)),))
        for t in np.arange(0.0, 10.0, 0.1)
    ]
    path = plan_crop(samples, SRC_W, SRC_H, (9, 16), 0.0, 10.0)
    assert len({(k.x, k.y) for k in path.keyframes}) == 1
    assert abs(centre_of_window(path, 5.0) - 640) <= 5


def test_alternating_dominance_does_not_switch_speakers() -> None:
    # Two people; each is the bigger face for 0.5 s in turn, for 10 s.
    samples = []
    for t in np.arange(0.0, 10.0, 0.1):
        left_bigger = int(t / 0.5) % 2 == 0
        samples.append(
            FaceSample(
                t, (face(250, size=130 if left_bigger else 110), face(1030, size=110 if left_bigger else 130))
            )
        )
    path = plan_crop(samples, SRC_W, SRC_H, (9, 16), 0.0, 10.0)
    x = positions(path, 10.0)
    assert np.ptp(x) == 0  # never left the first speaker
    assert abs(centre_of_window(path, 5.0) - 250) < 0.06 * path.width


def test_sustained_dominance_switches_with_a_cut() -> None:
    # The left person dominates for 3 s, then the right one for 3 s.
    samples = [
        FaceSample(t, (face(250, size=130 if t < 3 else 110), face(1030, size=110 if t < 3 else 130)))
        for t in np.arange(0.0, 6.0, 0.1)
    ]
    path = plan_crop(samples, SRC_W, SRC_H, (9, 16), 0.0, 6.0, switch_hold_seconds=1.5)
    assert abs(centre_of_window(path, 4.0) - 250) < 0.06 * path.width  # still holding
    assert abs(centre_of_window(path, 5.0) - 1030) < 0.06 * path.width  # switched after 1.5 s
    x = positions(path, 6.0)
    jumps = np.flatnonzero(np.abs(np.diff(x)) > 10)
    assert len(jumps) == 1  # one clean cut, no pan across the room
    assert 4.4 <= (jumps[0] + 1) * FRAME <= 4.7


def test_no_faces_gives_a_centred_window() -> None:
    path = plan_crop([FaceSample(t, ()) for t in range(5)], SRC_W, SRC_H, (9, 16), 0.0, 5.0)
    assert path.mode == "centre: no face found"
    assert crop_at(path, 2.0).x == (SRC_W - path.width) / 2
    assert crop_at(path, 2.0).y == 0


def test_same_aspect_as_source_is_the_full_frame() -> None:
    path = plan_crop([FaceSample(0.0, (face(100),))], SRC_W, SRC_H, (16, 9), 0.0, 5.0)
    assert (path.width, path.height, path.mode) == (SRC_W, SRC_H, "full frame")


def test_gap_without_faces_holds_the_last_position() -> None:
    samples = [FaceSample(t, (face(300),) if t < 2 else ()) for t in np.arange(0.0, 6.0, 0.2)]
    path = plan_crop(samples, SRC_W, SRC_H, (9, 16), 0.0, 6.0)
    assert np.ptp(positions(path, 6.0)) == 0
    assert abs(centre_of_window(path, 5.0) - 300) < 2


def test_lost_face_reappearing_elsewhere_is_picked_up_at_once() -> None:
    samples = [
        FaceSample(t, (face(300 if t < 2 else 1000),) if not 2 <= t < 3.5 else ())
        for t in np.arange(0.0, 8.0, 0.2)
    ]
    path = plan_crop(samples, SRC_W, SRC_H, (9, 16), 0.0, 8.0)
    assert abs(centre_of_window(path, 3.0) - 300) < 2  # holds through the gap
    assert (
        abs(centre_of_window(path, 4.0) - 1000) < 0.06 * path.width
    )  # no 1.5 s wait: nobody to flicker with


def test_keyframes_are_on_the_clip_timeline() -> None:
    samples = [FaceSample(100 + t, (face(250 + 100 * t),)) for t in np.arange(0.0, 6.01, 0.2)]
    path = plan_crop(samples, SRC_W, SRC_H, (9, 16), 101.0, 105.0)
    assert path.keyframes[0].t == 0.0
    assert path.keyframes[-1].t == pytest.approx(4.0)
    assert abs(centre_of_window(path, 2.0) - (250 + 100 * 3.0)) <= 0.06 * path.width + 2


@pytest.mark.parametrize("aspect", [(9, 16), (1, 1), (16, 9), (4, 5)])
@pytest.mark.parametrize("src", [(1920, 1080), (1280, 720), (1080, 1920), (1281, 721)])
def test_window_always_inside_the_frame_with_even_size(aspect: tuple[int, int], src: tuple[int, int]) -> None:
    rng = random.Random(hash((aspect, src)))
    width, height = src
    samples = [
        FaceSample(
            t,
            tuple(
                Box(
                    rng.uniform(-200, width),
                    rng.uniform(-200, height),
                    rng.uniform(20, 400),
                    rng.uniform(20, 400),
                    rng.random(),
                )
                for _ in range(rng.randint(0, 3))
            ),
        )
        for t in np.arange(0.0, 12.0, 0.25)
    ]
    path = plan_crop(samples, width, height, aspect, 0.0, 12.0)
    assert path.width % 2 == 0
    assert path.height % 2 == 0
    assert path.width / path.height == pytest.approx(aspect[0] / aspect[1], rel=0.01)
    for k in path.keyframes:
        assert 0 <= k.x <= width - path.width
        assert 0 <= k.y <= height - path.height
        assert 0.0 <= k.t <= 12.0


def test_empty_clip_is_rejected() -> None:
    with pytest.raises(ValueError, match="empty clip"):
        plan_crop([], SRC_W, SRC_H, (9, 16), 5.0, 5.0)


def test_scene_cut_moves_the_window_with_the_edit() -> None:
    # One shot with the speaker on the left, an edit at 3.0 s, then a shot with them on the right.
    samples = [FaceSample(t, (face(250 if t < 3.0 else 1030),)) for t in np.arange(0.0, 6.0, 0.25)]
    path = plan_crop(samples, SRC_W, SRC_H, (9, 16), 0.0, 6.0, scene_cuts=[3.0])
    assert abs(centre_of_window(path, 2.9) - 250) < 0.06 * path.width
    assert abs(centre_of_window(path, 3.05) - 1030) < 0.06 * path.width  # no pan, no hold time
    x = positions(path, 6.0)
    jumps = np.flatnonzero(np.abs(np.diff(x)) > 10)
    assert len(jumps) == 1
    assert abs((jumps[0] + 1) * FRAME - 3.0) <= FRAME


def test_scene_cut_with_the_same_face_in_place_keeps_the_window_still() -> None:
    samples = [FaceSample(t, (face(640),)) for t in np.arange(0.0, 6.0, 0.25)]
    path = plan_crop(samples, SRC_W, SRC_H, (9, 16), 0.0, 6.0, scene_cuts=[2.0, 4.0])
    assert np.ptp(positions(path, 6.0)) == 0
