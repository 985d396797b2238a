"""The explainable virality score.

Every component is a number in [0, 1] computed from the transcript and the audio, with the
reasons that moved it; the total is their weighted mean on a 0-100 scale. Weights are settings.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from .candidates import Candidate
from .model import ScoreBreakdown, Sentence
from .transcript import normalise_word

_CONNECTIVES = {"and", "but", "so", "because", "or", "then", "also", "which", "plus", "anyway", "though"}
_DANGLING = {"it", "this", "that", "they", "he", "she", "these", "those", "them", "there"}
_HOOK_WORDS = {
    "secret",
    "mistake",
    "mistakes",
    "never",
    "always",
    "best",
    "worst",
    "why",
    "how",
    "truth",
    "nobody",
    "everyone",
    "lesson",
    "stop",
    "imagine",
    "surprising",
    "biggest",
    "most",
    "important",
    "wrong",
    "actually",
    "crazy",
    "love",
    "hate",
    "free",
    "fastest",
    "simple",
    "first",
}
_STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me
    more most my myself no nor not now of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they
    this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves um uh like really going get got know
    think yeah okay right well one also lot thing things way much many even still say said
    """.split()  # noqa: SIM905 - a word list reads better as text
)
_IDEAL_PACE = (2.3, 3.6)  # words per second that read as energetic but clear


@dataclass(frozen=True)
class ScoringContext:
    """Whole-video facts each candidate is compared against."""

    keywords: frozenset[str]
    loudness_db: Sequence[float]  # per window
    window_seconds: float
    speech_loudness_db: float  # median loudness of speech windows
    target_seconds: float
    min_seconds: float
    max_seconds: float


class Scorer:
    def __init__(self, weights: Mapping[str, float]) -> None:
        total = sum(weights.values())
        if total <= 0:
            raise ValueError("score weights must not all be zero")
        self.weights = {name: value / total for name, value in weights.items()}
        self._sentiment = SentimentIntensityAnalyzer()

    def emotion(self, text: str) -> float:
        """Sentiment magnitude in [0, 1] (VADER compound, sign dropped: anger sells like joy)."""
        return abs(float(self._sentiment.polarity_scores(text)["compound"]))

    def hook_strength(self, sentence: Sentence) -> tuple[float, list[str]]:
        words = [normalise_word(w.text) for w in sentence.words]
        text = sentence.text
        value, reasons = 0.0, []
        if text.rstrip().endswith("?"):
            value += 0.3
            reasons.append("opens with a question")
        if {"you", "your", "you're"} & set(words):
            value += 0.2
            reasons.append("speaks to the viewer")
        if any(ch.isdigit() for ch in text):
            value += 0.15
            reasons.append("concrete number")
        hooks = sorted(set(words) & _HOOK_WORDS)
        if hooks:
            value += min(0.3, 0.12 * len(hooks))
            reasons.append("curiosity words: " + ", ".join(hooks))
        if len(words) <= 14:
            value += 0.1
            reasons.append("short opening line")
        value += 0.2 * self.emotion(text)
        return min(1.0, value), reasons

    def score(self, candidate: Candidate, context: ScoringContext) -> ScoreBreakdown:
        components: dict[str, float] = {}
        reasons: list[str] = []

        components["hook"], hook_reasons = self.hook_strength(candidate.sentences[0])
        reasons += [f"hook: {r}" for r in hook_reasons]

        contained, contained_reasons = _self_containedness(candidate)
        components["self_contained"] = contained
        reasons += [f"self-contained: {r}" for r in contained_reasons]

        lengths = [len(s.words) for s in candidate.sentences]
        emotions = [self.emotion(s.text) for s in candidate.sentences]
        # Length-weighted mean, nudged towards the peak: one strong line carries a clip.
        mean = sum(e * n for e, n in zip(emotions, lengths, strict=True)) / max(1, sum(lengths))
        components["emotion"] = min(1.0, 0.6 * mean + 0.4 * max(emotions))
        if max(emotions) >= 0.6:
            reasons.append(f"emotion: strong sentiment (peak {max(emotions):.2f})")

        components["energy"], energy_reasons = _energy(candidate, context)
        reasons += [f"energy: {r}" for r in energy_reasons]

        content = [
            w
            for s in candidate.sentences
            for w in (normalise_word(x.text) for x in s.words)
            if w and w not in _STOPWORDS
        ]
        hits = [w for w in content if w in context.keywords]
        density = len(hits) / max(1, len(content))
        components["keywords"] = min(1.0, density / 0.25)
        if hits:
            top = [w for w, _ in Counter(hits).most_common(3)]
            reasons.append(f"keywords: on-topic ({', '.join(top)})")

        spread = max(1e-6, (context.max_seconds - context.min_seconds) / 2)
        components["duration_fit"] = math.exp(
            -(((candidate.duration - context.target_seconds) / spread) ** 2)
        )

        total = 100.0 * sum(self.weights[name] * components[name] for name in self.weights)
        return ScoreBreakdown(
            total=round(total, 2),
            components={k: round(v, 4) for k, v in components.items()},
            weights={k: round(v, 4) for k, v in self.weights.items()},
            reasons=reasons,
        )

    def title(self, candidate: Candidate) -> str:
        """The clip's strongest sentence: the best hook among its sentences."""
        best = max(candidate.sentences, key=lambda s: (self.hook_strength(s)[0], -s.start))
        return best.text.strip()


def topic_keywords(sentences: Sequence[Sentence], top: int = 20) -> frozenset[str]:
    """The transcript's most frequent content words: what the video is about."""
    counts = Counter(
        w
        for s in sentences
        for w in (normalise_word(x.text) for x in s.words)
        if len(w) > 2 and w not in _STOPWORDS
    )
    return frozenset(w for w, n in counts.most_common(top) if n >= 2)


def _self_containedness(candidate: Candidate) -> tuple[float, list[str]]:
    first = normalise_word(candidate.sentences[0].words[0].text)
    last_text = candidate.sentences[-1].words[-1].text
    value, reasons = 0.0, []
    if first not in _CONNECTIVES:
        value += 0.4
    else:
        reasons.append(f"starts mid-thought ('{first}')")
    if first not in _DANGLING:
        value += 0.25
    else:
        reasons.append(f"opens on a reference to earlier context ('{first}')")
    if re.search(r"[.!?]$", last_text):
        value += 0.35
        reasons.append("ends on a complete sentence")
    else:
        reasons.append("ending trails off")
    return value, reasons


def _energy(candidate: Candidate, context: ScoringContext) -> tuple[float, list[str]]:
    reasons = []
    words = sum(len(s.words) for s in candidate.sentences)
    pace = words / max(0.1, candidate.duration)
    low, high = _IDEAL_PACE
    pace_score = (
        1.0 if low <= pace <= high else math.exp(-(((pace - (low if pace < low else high)) / 0.8) ** 2))
    )
    reasons.append(f"pace {pace:.1f} words/s")
    loud_score = 0.5
    if context.loudness_db:
        first = int(candidate.start / context.window_seconds)
        last = max(first + 1, math.ceil(candidate.end / context.window_seconds))
        window = [v for v in context.loudness_db[first:last] if v > -60]
        if window:
            delta = sorted(window)[len(window) // 2] - context.speech_loudness_db
            loud_score = 1 / (1 + math.exp(-delta / 2.0))  # +-2 dB around the talk's median
            if delta > 1.5:
                reasons.append(f"louder than the talk's median by {delta:.1f} dB")
    return 0.5 * pace_score + 0.5 * loud_score, reasons
