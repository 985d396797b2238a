"""Filler words: detection, cut spans, keep ranges and remapping onto the output timeline."""

from __future__ import annotations

import itertools

import pytest

from video_svc.fillers import (
    FILLER_WORDS,
    filler_cuts,
    is_filler,
    keep_ranges,
    remap_words,
    to_output_timeline,
)
from video_svc.model import KeepRange, Word


def spoken(text: str, start: float = 10.0, word: float = 0.3) -> list[Word]:
    """Words back to back (no pauses), ``word`` seconds each, from ``start``."""
    return [Word(token, start + i * word, start + (i + 1) * word) for i, token in enumerate(text.split())]


@pytest.mark.parametrize(
    "text", ["um", "Um,", "UH.", "uhm", "erm", "er", "ah", "hmm", "Hmmmm...", "mm", "ummmm"]
)
def test_fillers_are_recognised_ignoring_case_and_punctuation(text: str) -> None:
    assert is_filler(text)


@pytest.mark.parametrize("text", ["I", "umbrella", "hum", "m", "M.", "like", "her", "a", "", "so"])
def test_ordinary_words_are_not_fillers(text: str) -> None:
    assert not is_filler(text)


def test_filler_words_cover_the_common_hesitations() -> None:
    assert {"um", "uh", "erm", "er", "ah", "hmm", "mm", "uhm"} <= FILLER_WORDS


def test_fillers_spans_are_cut_and_words_remapped_contiguously_from_zero() -> None:
    words = spoken("so um I think uh this works")
    cuts = filler_cuts(words)

    assert cuts == [pytest.approx((10.3, 10.6)), pytest.approx((11.2, 11.5))]
    ranges = keep_ranges(10.0, 12.1, cuts)
    assert [(r.start, r.end) for r in ranges] == [
        pytest.approx((10.0, 10.3)),
        pytest.approx((10.6, 11.2)),
        pytest.approx((11.5, 12.1)),
    ]

    remapped = remap_words(words, ranges)
    assert [w.text for w in remapped] == ["so", "I", "think", "this", "works"]
    assert remapped[0].start == 0.0
    for before, after in itertools.pairwise(remapped):
        assert after.start == pytest.approx(before.end)
    assert remapped[-1].end == pytest.approx(1.5)
    assert all(w.end - w.start == pytest.approx(0.3) for w in remapped)


def test_consecutive_fillers_make_one_cut() -> None:
    assert filler_cuts(spoken("well um uh hmm right")) == [pytest.approx((10.3, 11.2))]


def test_cut_swallows_surrounding_silence_but_leaves_a_pause() -> None:
    words = [Word("so", 0.0, 0.5), Word("um", 0.7, 1.0), Word("yes", 1.1, 1.4), Word("uh", 3.0, 3.2)]
    cuts = filler_cuts(words, pad=0.05, absorb=0.3)
    # 0.2 s of silence before "um": 0.15 goes, 0.05 stays; 0.1 s after: 0.05 goes.
    # A trailing filler with nothing after it is cut to its end; the 1.6 s pause before it is
    # only absorbed up to 0.3 s.
    assert cuts == [pytest.approx((0.55, 1.05)), pytest.approx((2.7, 3.2))]


def test_no_fillers_no_cuts() -> None:
    assert filler_cuts(spoken("nothing to cut here")) == []


def test_keep_ranges_drop_slivers_and_clip_cuts_to_the_clip() -> None:
    cuts = [(-5.0, 1.0), (2.0, 3.0), (3.05, 4.0), (9.5, 20.0)]
    ranges = keep_ranges(0.0, 10.0, cuts, min_keep=0.08)
    # The 0.05 s between the middle cuts is too short to keep.
    assert ranges == [KeepRange(1.0, 2.0), KeepRange(4.0, 9.5)]


def test_keep_ranges_without_cuts_is_the_whole_clip() -> None:
    assert keep_ranges(5.0, 8.0, []) == [KeepRange(5.0, 8.0)]


def test_keep_ranges_rejects_an_empty_clip() -> None:
    with pytest.raises(ValueError, match="empty"):
        keep_ranges(3.0, 3.0, [])


def test_output_timeline_mapping() -> None:
    ranges = [KeepRange(10.0, 11.0), KeepRange(12.0, 13.0)]
    assert to_output_timeline(9.0, ranges) == 0.0
    assert to_output_timeline(10.5, ranges) == 0.5
    assert to_output_timeline(11.5, ranges) == 1.0  # inside the cut: where the cut joins
    assert to_output_timeline(12.25, ranges) == 1.25
    assert to_output_timeline(20.0, ranges) == 2.0


def test_remap_keeps_a_word_mostly_inside_the_ranges() -> None:
    ranges = [KeepRange(0.0, 1.0), KeepRange(2.0, 3.0)]
    words = [Word("edge", 0.8, 1.1), Word("gone", 1.2, 1.8), Word("late", 1.9, 2.3)]
    remapped = remap_words(words, ranges)
    assert [w.text for w in remapped] == ["edge", "late"]
    assert remapped[0] == Word("edge", pytest.approx(0.8), pytest.approx(1.0))
    assert remapped[1] == Word("late", pytest.approx(1.0), pytest.approx(1.3))
