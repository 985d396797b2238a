"""The summary of a video: its most informative sentences and its most representative keyframes."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .model import Sentence

# Function words carry no topic: they never make a sentence important.
_STOPWORDS_TEXT = """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves i'm it's don't that's you're we're
    there's let's can't won't isn't aren't also really one get got go going gonna like well yeah
    okay oh um uh know think thing things say said way lot
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
_WORD = re.compile(r"[a-z][a-z']+")
_MIN_WORDS = 5  # shorter sentences are fragments ("Thank you.") rather than content


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 2]


def extractive_summary(sentences: list[Sentence], count: int) -> list[Sentence]:
    """The ``count`` sentences that best cover the transcript's frequent content words, in spoken
    order (SumBasic: pick the sentence with the highest mean word probability, then square the
    probabilities of its words so the next pick covers something else)."""
    bags = [content_words(s.text) for s in sentences]
    frequency = Counter(w for bag in bags for w in bag)
    total = sum(frequency.values())
    if total == 0:
        return []
    probability = {w: c / total for w, c in frequency.items()}
    eligible = [i for i, bag in enumerate(bags) if bag and len(sentences[i].words) >= _MIN_WORDS]
    if not eligible:
        eligible = [i for i, bag in enumerate(bags) if bag]
    picked: list[int] = []
    while eligible and len(picked) < count:
        best = max(eligible, key=lambda i: (sum(probability[w] for w in bags[i]) / len(bags[i]), -i))
        picked.append(best)
        eligible.remove(best)
        for word in set(bags[best]):
            probability[word] **= 2
    return [sentences[i] for i in sorted(picked)]


@dataclass(frozen=True)
class KeyframeCandidate:
    index: int
    scene_seconds: float
    sharpness: float
    faces: int
    phash: int


def top_keyframes(candidates: list[KeyframeCandidate], count: int, min_distance: int = 10) -> list[int]:
    """Indexes of up to ``count`` keyframes that best stand for the video, in time order: long
    scenes first (they are most of what a viewer sees), sharp frames and faces next, and never two
    that look alike (pHash closer than ``min_distance`` bits)."""
    if not candidates:
        return []
    longest = max(c.scene_seconds for c in candidates) or 1.0
    crispest = max(c.sharpness for c in candidates) or 1.0

    def score(c: KeyframeCandidate) -> float:
        crisp = float(np.sqrt(c.sharpness / crispest))
        return 0.55 * c.scene_seconds / longest + 0.3 * crisp + 0.15 * float(c.faces > 0)

    chosen: list[KeyframeCandidate] = []
    for candidate in sorted(candidates, key=lambda c: (-score(c), c.index)):
        if len(chosen) == count:
            break
        if all(bin(candidate.phash ^ c.phash).count("1") >= min_distance for c in chosen):
            chosen.append(candidate)
    return sorted(c.index for c in chosen)
