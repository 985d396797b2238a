"""Candidate clips: runs of whole sentences whose duration fits the requested range."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import Sentence


@dataclass(frozen=True)
class Candidate:
    sentences: tuple[Sentence, ...]
    first: int = 0  # index of the first sentence in the talk's sentence list

    @property
    def start(self) -> float:
        return self.sentences[0].start

    @property
    def end(self) -> float:
        return self.sentences[-1].end

    @property
    def duration(self) -> float:
        return self.end - self.start


def candidate_clips(sentences: Sequence[Sentence], min_seconds: float, max_seconds: float) -> list[Candidate]:
    """Every run of consecutive sentences lasting between ``min_seconds`` and ``max_seconds``.

    Clips start and end on sentence boundaries, so they never open or close mid-thought. A
    single sentence longer than ``max_seconds`` cannot be a clip on its own.
    """
    found: list[Candidate] = []
    for first in range(len(sentences)):
        for last in range(first, len(sentences)):
            duration = sentences[last].end - sentences[first].start
            if duration > max_seconds:
                break
            if duration >= min_seconds:
                found.append(Candidate(tuple(sentences[first : last + 1]), first))
    return found


def pick_non_overlapping(
    ranked: Sequence[tuple[float, Candidate]], count: int
) -> list[tuple[float, Candidate]]:
    """The best ``count`` candidates, greedily by score, none overlapping another."""
    chosen: list[tuple[float, Candidate]] = []
    for score, candidate in sorted(ranked, key=lambda item: (-item[0], item[1].start)):
        if all(candidate.end <= other.start or candidate.start >= other.end for _, other in chosen):
            chosen.append((score, candidate))
            if len(chosen) == count:
                break
    return sorted(chosen, key=lambda item: -item[0])
