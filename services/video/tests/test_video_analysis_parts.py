"""The analysis job's parts on real inputs: transcript sentences, real footage, real images."""

from __future__ import annotations

from pathlib import Path

import pytest
from clipsift_testing import footage
from clipsift_testing.talk import SCRIPT

from clipsift_common.errors import InvalidArgument
from video_svc.frame_analysis import FEATURES, feature_codes
from video_svc.keyframes import Scene, choose_keyframes, detect_scenes, sharpness
from video_svc.model import Word
from video_svc.summary import KeyframeCandidate, extractive_summary, top_keyframes
from video_svc.transcript import sentences


def _words(text: str) -> list[Word]:
    return [Word(w, i * 0.4, i * 0.4 + 0.3) for i, w in enumerate(text.split())]


def test_summary_picks_content_sentences_in_spoken_order() -> None:
    found = sentences(_words(" ".join(SCRIPT)))
    chosen = extractive_summary(found, 3)
    assert len(chosen) == 3
    assert [s.start for s in chosen] == sorted(s.start for s in chosen)
    texts = [s.text for s in chosen]
    # Fragments ("Thank you for watching." is short on content) and repeats are not chosen.
    assert all(len(s.words) >= 5 for s in chosen)
    assert len(set(texts)) == 3
    # The talk's topic words (ship, build, feedback ...) are what the picks carry.
    joined = " ".join(texts).lower()
    assert any(word in joined for word in ("build", "ship", "users", "startup", "feedback"))


def test_summary_of_no_content_is_empty() -> None:
    assert extractive_summary(sentences(_words("um uh the and")), 3) == []


def test_top_keyframes_prefer_long_sharp_scenes_and_skip_lookalikes() -> None:
    candidates = [
        KeyframeCandidate(0, 30.0, 100.0, 0, 0x0F0F0F0F0F0F0F0F),
        KeyframeCandidate(1, 29.0, 100.0, 0, 0x0F0F0F0F0F0F0F0E),  # looks like #0
        KeyframeCandidate(2, 2.0, 10.0, 0, 0xFFFF000000000000),
        KeyframeCandidate(3, 20.0, 80.0, 1, 0x00000000FFFFFFFF),
    ]
    assert top_keyframes(candidates, 2) == [0, 3]
    assert top_keyframes(candidates, 5) == [0, 2, 3]


def test_keyframe_features_always_include_faces_and_hashes() -> None:
    codes = feature_codes(["text"])
    assert set(codes) == {FEATURES["text"], FEATURES["faces"], FEATURES["hashes"]}
    with pytest.raises(InvalidArgument, match="unknown keyframe features"):
        feature_codes(["faces", "colour"])


def test_sharpness_ranks_a_blurred_frame_lower() -> None:
    import cv2

    grey = cv2.cvtColor(footage.load_image("camera"), cv2.COLOR_RGB2GRAY)
    assert sharpness(grey) > 4 * sharpness(cv2.GaussianBlur(grey, (9, 9), 3))


@pytest.mark.slow
def test_scenes_and_keyframes_of_a_two_shot_video(tmp_path: Path) -> None:
    video = footage.render(footage.distinct_shots(0, 8.0), tmp_path / "two.mp4", size=(320, 180))
    positions: list[float] = []
    scenes = detect_scenes(
        str(video), threshold=27.0, min_scene_seconds=1.0, duration=8.0, on_position=positions.append
    )
    assert [(round(s.start, 1), round(s.end, 1)) for s in scenes] == [(0.0, 4.0), (4.0, 8.0)]
    assert positions == sorted(positions)
    assert positions[-1] == pytest.approx(8.0, abs=0.1)
    samples = [(t / 2, 1.0 + (t % 5)) for t in range(16)]
    keyframes = choose_keyframes(scenes, samples, limit=10)
    assert [k.scene for k in keyframes] == [0, 1]
    assert keyframes[0].t == 2.0  # the sharpest sample inside scene 0 (value 5 at t=2.0)
    assert keyframes[1].t == 4.5  # first of the sharpest in scene 1 (samples at 4.5 and 7.0 tie)
    assert [k.scene for k in choose_keyframes([Scene(0, 1), Scene(1, 9)], samples, limit=1)] == [1]
