"""caption_lines: grouping timed words into short, non-overlapping caption lines."""

from __future__ import annotations

import itertools
import random

import pytest

from video_svc.captions import caption_lines
from video_svc.model import CaptionLine, Word


def timed(text: str, *, start: float = 0.0, word: float = 0.3, gap: float = 0.05) -> list[Word]:
    """Words of ``text`` spoken one after another, ``word`` seconds each, ``gap`` apart."""
    words = []
    t = start
    for token in text.split():
        words.append(Word(token, t, t + word))
        t += word + gap
    return words


def random_speech(seed: int, count: int = 300) -> list[Word]:
    rng = random.Random(seed)
    words, t = [], 0.0
    for _ in range(count):
        token = "".join(rng.choice("abcdefghij") for _ in range(rng.randint(1, 12)))
        if rng.random() < 0.1:
            token += rng.choice(".?!,")
        duration = rng.uniform(0.05, 0.7)
        words.append(Word(token, t, t + duration))
        t += duration + rng.choice([0.0, 0.02, 0.1, 0.3, 0.9])
    return words


@pytest.mark.parametrize("seed", range(5))
def test_lines_respect_limits_and_keep_every_word_whole(seed: int) -> None:
    words = random_speech(seed)
    lines = caption_lines(words, max_chars=28, max_seconds=2.2, max_gap=0.6)

    assert [w.text for line in lines for w in line.words] == [w.text for w in words]
    for line in lines:
        if len(line.words) > 1:
            assert len(line.text) <= 28
            assert line.words[-1].end - line.words[0].start <= 2.2 + 1e-9
        gaps = [b.start - a.end for a, b in itertools.pairwise(line.words)]
        assert all(gap <= 0.6 + 1e-9 for gap in gaps)
        assert line.start == line.words[0].start
        # Punctuation ends a line: only its last word may end a sentence.
        assert not any(w.text[-1] in ".?!" for w in line.words[:-1])


@pytest.mark.parametrize("seed", range(5))
def test_lines_are_ordered_and_never_overlap(seed: int) -> None:
    lines = caption_lines(random_speech(seed))
    for line, following in itertools.pairwise(lines):
        assert line.start < line.end <= following.start
        # Ends at the last word, or is held to the next line across a tiny gap.
        assert line.end == line.words[-1].end or (
            line.end == following.start and following.start - line.words[-1].end < 0.3
        )


def test_breaks_after_sentence_ending_punctuation() -> None:
    lines = caption_lines(timed("Hi there. How are you? Fine! Thanks"))
    assert [line.text for line in lines] == ["Hi there.", "How are you?", "Fine!", "Thanks"]


def test_breaks_after_closing_quote_following_a_full_stop() -> None:
    lines = caption_lines(timed('He said "stop." Then left'))
    assert [line.text for line in lines] == ['He said "stop."', "Then left"]


def test_breaks_at_a_long_pause() -> None:
    words = [Word("one", 0.0, 0.3), Word("two", 0.35, 0.6), Word("three", 1.5, 1.8)]
    assert [line.text for line in caption_lines(words, max_gap=0.6)] == ["one two", "three"]


def test_breaks_at_the_character_limit_without_splitting_words() -> None:
    lines = caption_lines(timed("aaaa bbbb cccc dddd eeee ffff gggg", word=0.1), max_chars=10)
    assert [line.text for line in lines] == ["aaaa bbbb", "cccc dddd", "eeee ffff", "gggg"]


def test_breaks_at_the_duration_limit() -> None:
    lines = caption_lines(timed("a b c d e f", word=0.5, gap=0.0), max_seconds=1.2)
    assert [line.text for line in lines] == ["a b", "c d", "e f"]


def test_a_word_over_the_limits_gets_a_line_of_its_own() -> None:
    words = [Word("hi", 0.0, 0.2), Word("supercalifragilisticexpialidocious", 0.2, 3.0), Word("ok", 3.0, 3.2)]
    lines = caption_lines(words, max_chars=10, max_seconds=2.0)
    assert [line.text for line in lines] == ["hi", "supercalifragilisticexpialidocious", "ok"]


def test_half_full_line_breaks_at_a_comma() -> None:
    lines = caption_lines(timed("well, I think that, in the end, it works", word=0.1), max_chars=28)
    assert [line.text for line in lines] == ["well, I think that,", "in the end, it works"]


def test_tiny_gap_is_bridged_and_a_real_pause_is_not() -> None:
    words = [Word("One.", 0.0, 0.5), Word("Two.", 0.6, 1.0), Word("Three.", 2.0, 2.5)]
    first, second, third = caption_lines(words)
    assert first.end == pytest.approx(0.6)  # held across the 0.1 s gap: no blink
    assert second.end == pytest.approx(1.0)  # a 1 s pause shows nothing
    assert third == CaptionLine(2.0, 2.5, (words[2],))


def test_overlapping_word_timings_do_not_overlap_lines() -> None:
    words = [Word("Yes.", 0.0, 0.8), Word("No.", 0.6, 1.0)]
    first, second = caption_lines(words)
    assert first.end <= second.start


def test_whitespace_is_normalised_and_empty_words_dropped() -> None:
    words = [Word(" a\nb ", 0.0, 0.2), Word("  ", 0.2, 0.3), Word("c", 0.3, 0.5)]
    assert [line.text for line in caption_lines(words)] == ["a b c"]


def test_unsorted_input_is_ordered_by_time() -> None:
    words = timed("one two three")
    assert caption_lines(list(reversed(words)))[0].text == "one two three"


def test_no_words_no_lines() -> None:
    assert caption_lines([]) == []


def test_bad_limits_are_rejected() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        caption_lines(timed("a"), max_chars=0)
