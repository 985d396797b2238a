"""Passage alignment: the stretches of text two documents share, with offsets into the originals.

Both texts are split into words where they stand (so offsets are into the ORIGINAL text, in
Unicode code points), each word is normalised (NFKC + case folding) and hashed, and every run of
``min_words`` consecutive words becomes one k-gram hash. Shared k-grams are found with one sort
and ``searchsorted``; shared k-grams on the same diagonal (same offset between the documents) at
consecutive positions form maximal matching runs. Runs are accepted longest first without
overlapping an accepted one in either document, then neighbours separated by a few edited words
in both documents are merged into one passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .shingles import _SHINGLE_MULT, U64, _mix, hash_tokens, normalize

I64 = npt.NDArray[np.int64]
_WORD = re.compile(r"\w+")
# A k-gram that occurs more often than this in the second document is boilerplate ("the the
# the", table rules): matching it everywhere would cost occurrences_a x occurrences_b pairs.
_MAX_REPEATS = 64
# Passages whose ends are at most this many words apart in both documents are one passage: a
# copied paragraph with a word changed here and there reads as one copy, not several.
_MAX_GAP_WORDS = 3


@dataclass(frozen=True)
class Words:
    """Word spans of one text (character offsets, end exclusive) and their normalised hashes."""

    starts: I64
    ends: I64
    hashes: U64

    def __len__(self) -> int:
        return len(self.starts)


def split_words(text: str) -> Words:
    spans = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]
    starts = np.fromiter((s for s, _, _ in spans), dtype=np.int64, count=len(spans))
    ends = np.fromiter((e for _, e, _ in spans), dtype=np.int64, count=len(spans))
    return Words(starts, ends, hash_tokens([normalize(w) for _, _, w in spans]))


def kgram_hashes(words: U64, k: int) -> U64:
    """Hash of every run of ``k`` consecutive words (empty when there are fewer than ``k``)."""
    count = len(words) - k + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    combined = words[:count].copy()
    with np.errstate(over="ignore"):
        for j in range(1, k):
            combined = combined * _SHINGLE_MULT + words[j : j + count]
        return _mix(combined)


@dataclass(frozen=True)
class Passage:
    """One shared passage: word ranges [a_word, a_word_end) and character ranges [start, end)."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    a_word: int
    a_word_end: int
    b_word: int
    b_word_end: int


@dataclass(frozen=True)
class Alignment:
    passages: list[Passage]  # ordered by position in the first document
    words_a: int
    words_b: int
    coverage_a: float  # share of the first document's words inside a passage
    coverage_b: float


def _matching_runs(ga: U64, gb: U64) -> list[tuple[int, int, int]]:
    """Maximal diagonal runs of equal k-grams as (a position, b position, k-gram count)."""
    order_b = np.argsort(gb, kind="stable")
    sorted_b = gb[order_b]
    lo = np.searchsorted(sorted_b, ga, side="left")
    counts = np.searchsorted(sorted_b, ga, side="right") - lo
    counts[counts > _MAX_REPEATS] = 0
    total = int(counts.sum())
    if total == 0:
        return []
    ia = np.repeat(np.arange(len(ga), dtype=np.int64), counts)
    # Position of each match inside its k-gram's block of equal values in sorted_b.
    within = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    jb = order_b[np.repeat(lo, counts) + within].astype(np.int64)
    diagonal = jb - ia
    order = np.lexsort((ia, diagonal))
    ia, diagonal = ia[order], diagonal[order]
    breaks = np.flatnonzero((np.diff(diagonal) != 0) | (np.diff(ia) != 1)) + 1
    firsts = np.concatenate([[0], breaks])
    lengths = np.diff(np.concatenate([firsts, [total]]))
    return list(
        zip(ia[firsts].tolist(), (ia[firsts] + diagonal[firsts]).tolist(), lengths.tolist(), strict=True)
    )


def _longest_true_run(mask: npt.NDArray[np.bool_]) -> tuple[int, int]:
    """[start, end) of the longest run of True (0, 0 when there is none)."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    if len(edges) == 0:
        return 0, 0
    starts, ends = edges[0::2], edges[1::2]
    best = int(np.argmax(ends - starts))
    return int(starts[best]), int(ends[best])


def align(text_a: str, text_b: str, min_words: int) -> Alignment:
    """Passages of at least ``min_words`` words that both texts contain, in the same word order."""
    words_a, words_b = split_words(text_a), split_words(text_b)
    runs = _matching_runs(kgram_hashes(words_a.hashes, min_words), kgram_hashes(words_b.hashes, min_words))
    covered_a = np.zeros(len(words_a), dtype=bool)
    covered_b = np.zeros(len(words_b), dtype=bool)
    spans: list[tuple[int, int, int, int]] = []  # word ranges: a0, a1, b0, b1
    # Longest first: a long copy wins over the short coincidences that overlap it.
    for a0, b0, kgrams in sorted(runs, key=lambda r: (-r[2], r[0], r[1])):
        length = kgrams + min_words - 1
        free = ~covered_a[a0 : a0 + length] & ~covered_b[b0 : b0 + length]
        start, end = _longest_true_run(free)
        if end - start < min_words:
            continue
        covered_a[a0 + start : a0 + end] = True
        covered_b[b0 + start : b0 + end] = True
        spans.append((a0 + start, a0 + end, b0 + start, b0 + end))
    merged = _merge(sorted(spans), min(_MAX_GAP_WORDS, min_words - 1))
    passages = [
        Passage(
            a_start=int(words_a.starts[a0]),
            a_end=int(words_a.ends[a1 - 1]),
            b_start=int(words_b.starts[b0]),
            b_end=int(words_b.ends[b1 - 1]),
            a_word=a0,
            a_word_end=a1,
            b_word=b0,
            b_word_end=b1,
        )
        for a0, a1, b0, b1 in merged
    ]
    return Alignment(
        passages=passages,
        words_a=len(words_a),
        words_b=len(words_b),
        coverage_a=_share(sum(p.a_word_end - p.a_word for p in passages), len(words_a)),
        coverage_b=_share(sum(p.b_word_end - p.b_word for p in passages), len(words_b)),
    )


def _merge(spans: list[tuple[int, int, int, int]], gap: int) -> list[tuple[int, int, int, int]]:
    """Join spans that follow each other in both documents with at most ``gap`` words between.
    ``gap`` stays below ``min_words``, so no other passage can lie inside a bridged gap."""
    merged: list[tuple[int, int, int, int]] = []
    for a0, a1, b0, b1 in spans:
        if merged:
            pa0, pa1, pb0, pb1 = merged[-1]
            if 0 <= a0 - pa1 <= gap and 0 <= b0 - pb1 <= gap:
                merged[-1] = (pa0, a1, pb0, b1)
                continue
        merged.append((a0, a1, b0, b1))
    return merged


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
