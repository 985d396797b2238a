"""Filler words: find the spans to cut ("um", "uh", ...), turn cuts into the stretches of the
source to keep, and move word timings onto the output timeline that those stretches make."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from video_svc.languages import ENGLISH, fold
from video_svc.model import KeepRange, Word

# Hesitation sounds that carry no meaning; callers pass the spoken language's set (languages.py),
# English is the default. Words such as "like" or "you know" are left alone: they are fillers
# only sometimes, and cutting them wrongly changes what was said.
FILLER_WORDS: frozenset[str] = ENGLISH.fillers


_REPEATS = re.compile(r"(.)\1+")


def _collapse(word: str) -> str:
    return _REPEATS.sub(r"\1", word)


@functools.cache
def _stems(fillers: frozenset[str]) -> frozenset[str]:
    """Drawn-out spellings ("ummmm", "ähhhm") reduce to these stems."""
    return frozenset(_collapse(w) for w in fillers)


def is_filler(text: str, fillers: frozenset[str] = FILLER_WORDS) -> bool:
    """Whether a transcribed word is a filler, ignoring case, punctuation and drawn-out letters."""
    word = "".join(ch for ch in fold(text) if ch.isalpha())
    if word in fillers:
        return True
    collapsed = _collapse(word)
    # Only a drawn-out spelling may match a stem: a lone "m" is a letter, "mmmm" is a filler.
    return collapsed != word and collapsed in _stems(fillers)


def filler_cuts(
    words: Sequence[Word], *, fillers: frozenset[str] = FILLER_WORDS, pad: float = 0.05, absorb: float = 0.3
) -> list[tuple[float, float]]:
    """The time spans to cut so that the filler words disappear.

    Consecutive fillers form one cut. A cut also swallows the silence around the fillers, up to
    ``absorb`` seconds on each side, but leaves ``pad`` seconds of it next to the neighbouring
    words: cutting only the filler itself would leave two pauses back to back, and cutting all
    of the silence would run the neighbours into each other.
    """
    ordered = sorted(words, key=lambda w: w.start)
    cuts: list[tuple[float, float]] = []
    i = 0
    while i < len(ordered):
        if not is_filler(ordered[i].text, fillers):
            i += 1
            continue
        j = i
        while j + 1 < len(ordered) and is_filler(ordered[j + 1].text, fillers):
            j += 1
        start, end = ordered[i].start, ordered[j].end
        if i > 0:
            silence = start - ordered[i - 1].end
            start -= min(absorb, max(0.0, silence - pad))
        if j + 1 < len(ordered):
            silence = ordered[j + 1].start - end
            end += min(absorb, max(0.0, silence - pad))
        if cuts and start <= cuts[-1][1]:
            cuts[-1] = (cuts[-1][0], max(cuts[-1][1], end))
        else:
            cuts.append((start, end))
        i = j + 1
    return cuts


def keep_ranges(
    start: float, end: float, cuts: Sequence[tuple[float, float]], min_keep: float = 0.08
) -> list[KeepRange]:
    """The parts of ``[start, end]`` outside every cut, in order.

    A kept part shorter than ``min_keep`` seconds is dropped too: a flash of a frame or two
    between two cuts looks like a glitch, not like content.
    """
    if end <= start:
        raise ValueError(f"empty range: start {start} >= end {end}")
    ranges: list[KeepRange] = []
    cursor = start
    for cut_start, cut_end in sorted(cuts):
        cut_start, cut_end = max(cut_start, start), min(cut_end, end)
        if cut_end <= cut_start:
            continue
        if cut_start - cursor >= min_keep:
            ranges.append(KeepRange(cursor, cut_start))
        cursor = max(cursor, cut_end)
    if end - cursor >= min_keep:
        ranges.append(KeepRange(cursor, end))
    return ranges


def to_output_timeline(t: float, ranges: Sequence[KeepRange]) -> float:
    """Where source time ``t`` lands in the output made of ``ranges`` (seconds since its start).

    A time inside a cut maps to the point where the cut joins the next kept part; a time before
    the first range maps to 0 and one after the last to the output's duration.
    """
    out = 0.0
    for r in ranges:
        if t <= r.start:
            return out
        if t < r.end:
            return out + (t - r.start)
        out += r.end - r.start
    return out


def remap_words(words: Sequence[Word], ranges: Sequence[KeepRange]) -> list[Word]:
    """The words that survive the cuts, with times on the output timeline.

    A word survives when at least half of it lies in kept ranges (a zero-length word, when its
    time does), so a word clipped a little by a cut's padding is kept and a filler is not.
    """
    survivors: list[Word] = []
    for word in words:
        duration = word.end - word.start
        if duration > 0:
            kept = sum(max(0.0, min(word.end, r.end) - max(word.start, r.start)) for r in ranges)
            survives = kept >= duration / 2
        else:
            survives = any(r.start <= word.start < r.end for r in ranges)
        if survives:
            start = to_output_timeline(word.start, ranges)
            end = max(start, to_output_timeline(word.end, ranges))
            survivors.append(Word(word.text, start, end, word.probability))
    return survivors
