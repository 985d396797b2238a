"""The explainable clip score: does this stretch of talk work on its own as a short clip?

It judges what is said, not which words are used. Sentences are embedded with a multilingual
model once per talk (``analyse``); every candidate is then scored from those vectors and a few
per-sentence counts. Each component is a number in [0, 1] with the reasons that moved it; the
total is their weighted mean on a 0-100 scale. Weights are settings; a genre reweighs them.

- substance: no talk about the talk (agenda, screen sharing, "where was I"), by meaning
- specificity: people, places, numbers, dates, and the arc of a story
- coherence: one thought throughout, no change of topic inside (topic segmentation)
- self_contained: starts and ends where a thought does, does not lean on what came before
- fluency: few hesitations, restarts and vague filler phrases
- energy: speech pace and loudness against the talk's own median
- duration_fit: close to one of the requested durations
- relevance: close to the request's prompt or topic keywords (only when one is given)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .candidates import Candidate
from .embeddings import SentenceEmbedder
from .languages import GENERIC, LanguageRules, fold
from .model import ScoreBreakdown, Sentence
from .prototypes import META_TALK, STORY
from .segmentation import boundary_strengths

_IDEAL_PACE = (2.3, 3.6)  # words per second that read as energetic but clear
# Cosine similarities (USE multilingual) where a sentence starts and stops resembling the anchors.
_META_RANGE = (0.22, 0.5)
_STORY_RANGE = (0.1, 0.38)
_LOW_CONFIDENCE = 0.5  # Whisper word probability below which a word was probably misheard

# A genre hint multiplies the configured weights: what makes a good clip differs by format.
GENRE_WEIGHTS: dict[str, dict[str, float]] = {
    "podcast": {"specificity": 1.2, "substance": 1.2, "energy": 0.8},
    "interview": {"specificity": 1.2, "substance": 1.2, "energy": 0.8},
    "talk": {"coherence": 1.2, "self_contained": 1.2},
    "education": {"coherence": 1.3, "self_contained": 1.3, "energy": 0.7},
    "news": {"specificity": 1.4, "fluency": 1.2},
    "vlog": {"energy": 1.5, "fluency": 0.7},
    "comedy": {"energy": 1.6, "specificity": 0.8, "fluency": 0.6},
    "gaming": {"energy": 1.8, "specificity": 0.7, "fluency": 0.5},
}


@dataclass(frozen=True)
class ScoringContext:
    """Whole-video facts each candidate is compared against."""

    loudness_db: Sequence[float]  # per window, from ``loudness_offset`` on the source timeline
    window_seconds: float
    speech_loudness_db: float  # median loudness of speech windows
    targets: tuple[float, ...]  # wanted clip durations
    min_seconds: float
    max_seconds: float
    loudness_offset: float = 0.0


@dataclass(frozen=True)
class SentenceSignals:
    meta: float  # 0..1: how much the sentence is talk about the talk
    story: float  # 0..1: how much it reads like a concrete story
    words: int
    concrete: tuple[str, ...]  # the numbers, names and dates it mentions
    sequence: bool  # a step of a story ("then", "later", ...)
    fillers: int
    vague: int
    repeats: int
    low_confidence: int
    opener: str  # first word, folded


@dataclass(frozen=True)
class TalkAnalysis:
    """Everything ``score`` needs that does not depend on the candidate, computed once per talk."""

    sentences: tuple[Sentence, ...]
    signals: tuple[SentenceSignals, ...]
    embeddings: np.ndarray  # (n, d), unit rows
    prefix: np.ndarray  # (n + 1, d): cumulative sums of the word-weighted embeddings
    adjacent: np.ndarray  # (n - 1,): similarity of each sentence with the next
    boundaries: np.ndarray  # (n - 1,): topic-change strength at each gap
    typical_adjacent: float  # the talk's median adjacent similarity
    relevance: np.ndarray | None  # (n,): similarity to the request's prompt and topic keywords
    query_terms: tuple[str, ...]
    rules: LanguageRules


class Scorer:
    def __init__(self, weights: Mapping[str, float], embedder: SentenceEmbedder) -> None:
        if sum(weights.values()) <= 0:
            raise ValueError("score weights must not all be zero")
        self.base_weights = dict(weights)
        self.embedder = embedder
        self._anchors: tuple[np.ndarray, np.ndarray] | None = None

    def weights(self, genre: str = "auto", with_relevance: bool = False) -> dict[str, float]:
        """Normalised weights for a job; relevance counts only when the request asked for something."""
        boost = GENRE_WEIGHTS.get(genre, {})
        raw = {
            name: value * boost.get(name, 1.0)
            for name, value in self.base_weights.items()
            if with_relevance or name != "relevance"
        }
        total = sum(raw.values()) or 1.0
        return {name: value / total for name, value in raw.items()}

    def _anchor_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        if self._anchors is None:
            self._anchors = (self.embedder.encode(META_TALK), self.embedder.encode(STORY))
        return self._anchors

    def analyse(
        self,
        sentences: Sequence[Sentence],
        rules: LanguageRules | None,
        *,
        prompt: str = "",
        topic_keywords: Sequence[str] = (),
    ) -> TalkAnalysis:
        rules = rules or GENERIC
        embeddings = self.embedder.encode([s.text for s in sentences])
        meta_anchors, story_anchors = self._anchor_vectors()
        meta = (embeddings @ meta_anchors.T).max(axis=1)
        story = np.sort(embeddings @ story_anchors.T, axis=1)[:, -2:].mean(axis=1)
        signals = tuple(
            _signals(s, rules, _ramp(float(m), *_META_RANGE), _ramp(float(t), *_STORY_RANGE))
            for s, m, t in zip(sentences, meta, story, strict=True)
        )
        weights = np.array([[max(1, len(s.words))] for s in sentences], dtype=np.float32)
        prefix = np.vstack(
            [np.zeros((1, embeddings.shape[1]), np.float32), np.cumsum(embeddings * weights, 0)]
        )
        adjacent = np.einsum("ij,ij->i", embeddings[:-1], embeddings[1:])
        relevance = None
        terms = tuple(t.strip() for t in topic_keywords if t.strip())
        query = " ".join([prompt.strip(), *terms]).strip()
        if query:
            relevance = embeddings @ self.embedder.encode([query])[0]
        return TalkAnalysis(
            sentences=tuple(sentences),
            signals=signals,
            embeddings=embeddings,
            prefix=prefix,
            adjacent=adjacent,
            boundaries=boundary_strengths(embeddings),
            typical_adjacent=float(np.median(adjacent)) if adjacent.size else 0.0,
            relevance=relevance,
            query_terms=tuple(fold(t) for t in terms),
            rules=rules,
        )

    def score(
        self, candidate: Candidate, talk: TalkAnalysis, context: ScoringContext, weights: Mapping[str, float]
    ) -> ScoreBreakdown:
        first, last = candidate.first, candidate.first + len(candidate.sentences) - 1
        signals = talk.signals[first : last + 1]
        parts = {
            "substance": _substance(signals, candidate),
            "specificity": _specificity(signals),
            "coherence": _coherence(talk, first, last),
            "self_contained": _self_contained(talk, candidate, first, last),
            "fluency": _fluency(signals),
            "energy": _energy(candidate, context),
            "duration_fit": _duration_fit(candidate, context),
        }
        if "relevance" in weights:
            parts["relevance"] = _relevance(talk, candidate, first, last)
        components = {name: value for name, (value, _) in parts.items()}
        reasons = [f"{name.replace('_', '-')}: {r}" for name, (_, why) in parts.items() for r in why]
        total = 100.0 * sum(weights[name] * components[name] for name in weights)
        return ScoreBreakdown(
            total=round(total, 2),
            components={k: round(v, 4) for k, v in components.items()},
            weights={k: round(v, 4) for k, v in weights.items()},
            reasons=reasons,
        )

    def headline(self, candidate: Candidate, talk: TalkAnalysis) -> Sentence:
        """The sentence that best stands for the clip: central to it, not meta-talk, not too long."""
        first = candidate.first
        centre = talk.prefix[first + len(candidate.sentences)] - talk.prefix[first]
        centre = centre / (np.linalg.norm(centre) or 1.0)

        def fitness(offset: int) -> float:
            sentence, signals = candidate.sentences[offset], talk.signals[first + offset]
            length = 1.0 if 5 <= signals.words <= 20 else 0.7
            centrality = float(talk.embeddings[first + offset] @ centre)
            return (
                centrality * (1.0 - signals.meta) * length * (1.0 + 0.5 * signals.story)
                - 1e-3 * sentence.start
            )

        return candidate.sentences[max(range(len(candidate.sentences)), key=fitness)]

    def title(self, candidate: Candidate, talk: TalkAnalysis, limit: int = 100) -> str:
        text = self.headline(candidate, talk).text.strip()
        if len(text) <= limit:
            return text
        return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _ramp(value: float, low: float, high: float) -> float:
    return min(1.0, max(0.0, (value - low) / (high - low)))


def _signals(sentence: Sentence, rules: LanguageRules, meta: float, story: float) -> SentenceSignals:
    raw = [w.text for w in sentence.words]
    folded = [fold(w) for w in raw]
    concrete = [
        _bare(w) for w, f in zip(raw, folded, strict=True) if _is_number(w, f, rules) or f in rules.time_words
    ]
    concrete += _names(raw, folded, rules)
    text = " " + " ".join(folded) + " "
    return SentenceSignals(
        meta=meta,
        story=story,
        words=len(raw),
        concrete=tuple(dict.fromkeys(concrete)),
        sequence=any(f in rules.sequence_words for f in folded),
        fillers=sum(1 for f in folded if f in rules.fillers),
        vague=sum(text.count(f" {phrase} ") for phrase in rules.vague),
        repeats=sum(1 for a, b in itertools.pairwise(folded) if a and a == b),
        low_confidence=sum(1 for w in sentence.words if w.probability < _LOW_CONFIDENCE),
        opener=folded[0] if folded else "",
    )


def _is_number(raw: str, folded: str, rules: LanguageRules) -> bool:
    return any(ch.isdigit() for ch in raw) or folded in rules.number_words


def _names(raw: Sequence[str], folded: Sequence[str], rules: LanguageRules) -> list[str]:
    """Capitalised words inside a sentence: people, places, organisations.

    In German every noun is capitalised, so there a capitalised word counts as a name only after
    a word that introduces one ("nach Wien", "aus Hamburg") or beside another capitalised word.
    """
    names = []
    for i in range(1, len(raw)):
        word = raw[i].strip("\"'¿¡(«")
        if not word[:1].isupper() or folded[i] in {"i", "i'm", "i've", "i'll", "i'd"}:
            continue
        if raw[i - 1].rstrip().endswith((".", "!", "?", ":")):
            continue  # a new sentence inside the transcript line
        if rules.nouns_capitalised:
            neighbour = (i > 1 and raw[i - 1][:1].isupper()) or (
                i + 1 < len(raw) and raw[i + 1][:1].isupper()
            )
            if folded[i - 1] not in rules.name_cues and not neighbour:
                continue
        names.append(_bare(word))
    return names


def _substance(signals: Sequence[SentenceSignals], candidate: Candidate) -> tuple[float, list[str]]:
    words = sum(s.words for s in signals) or 1
    meta = sum(s.meta * s.words for s in signals) / words
    reasons = []
    worst = max(range(len(signals)), key=lambda i: signals[i].meta)
    if signals[worst].meta >= 0.5:
        reasons.append(f"talk about the talk: «{_quote(candidate.sentences[worst].text)}»")
    elif meta < 0.15:
        reasons.append("all content, no talk about the talk")
    return 1.0 - meta, reasons


def _specificity(signals: Sequence[SentenceSignals]) -> tuple[float, list[str]]:
    words = sum(s.words for s in signals) or 1
    concrete = list(dict.fromkeys(c for s in signals for c in s.concrete))
    density = sum(len(s.concrete) for s in signals) / words
    detail = 1.0 - math.exp(-density / 0.06)  # one concrete detail per ~16 words scores ~0.65
    story = sum(s.story * s.words for s in signals) / words
    steps = sum(1 for s in signals if s.sequence)
    arc = min(1.0, steps / 2) if len(signals) >= 2 else 0.0
    value = 0.45 * detail + 0.4 * story + 0.15 * arc
    reasons = []
    if concrete:
        reasons.append("concrete details: " + ", ".join(concrete[:6]))
    else:
        reasons.append("no names, numbers or dates")
    if story >= 0.5:
        reasons.append("tells a concrete story")
    if arc >= 1.0 and story >= 0.3:
        reasons.append("the story moves on through several steps")
    return value, reasons


def _coherence(talk: TalkAnalysis, first: int, last: int) -> tuple[float, list[str]]:
    if last == first:
        return 0.5, ["a single sentence"]
    inner = float(talk.adjacent[first:last].mean())
    # Relative to the talk itself: some speakers (and languages) embed closer together than others.
    relative = 1 / (1 + math.exp(-(inner - talk.typical_adjacent) / 0.08))
    crossing = float(talk.boundaries[first:last].max())
    value = relative * (1.0 - 0.7 * crossing)
    reasons = []
    if crossing >= 0.5:
        gap = first + int(np.argmax(talk.boundaries[first:last]))
        reasons.append(f"changes topic after «{_quote(talk.sentences[gap].text)}»")
    elif relative >= 0.6:
        reasons.append("one topic throughout")
    return value, reasons


def _self_contained(
    talk: TalkAnalysis, candidate: Candidate, first: int, last: int
) -> tuple[float, list[str]]:
    count = len(talk.sentences)
    starts = 1.0 if first == 0 else float(talk.boundaries[first - 1])
    ends = 1.0 if last == count - 1 else float(talk.boundaries[last])
    opener = talk.signals[first].opener
    continues = opener in talk.rules.connectives
    refers = opener in talk.rules.references
    complete = candidate.sentences[-1].text.rstrip().endswith((".", "!", "?", "…", '"', "»"))
    value = 0.3 * starts + 0.25 * ends + 0.2 * (not continues) + 0.1 * (not refers) + 0.15 * complete
    reasons = []
    if starts >= 0.5:
        reasons.append("starts where a new thought begins")
    if ends >= 0.5:
        reasons.append("ends where the thought ends")
    if continues:
        reasons.append(f"starts mid-thought ('{opener}')")
    if refers:
        reasons.append(f"opens on a reference to earlier context ('{opener}')")
    if not complete:
        reasons.append("ending trails off")
    return value, reasons


def _fluency(signals: Sequence[SentenceSignals]) -> tuple[float, list[str]]:
    words = sum(s.words for s in signals) or 1
    fillers = sum(s.fillers for s in signals)
    vague = sum(s.vague for s in signals)
    repeats = sum(s.repeats for s in signals)
    unclear = sum(s.low_confidence for s in signals)
    penalty = (8 * fillers + 6 * vague + 6 * repeats + 1.5 * unclear) / words
    reasons = []
    if fillers:
        reasons.append(f"{fillers} hesitation{'s' if fillers > 1 else ''}")
    if vague:
        reasons.append(f"{vague} vague filler phrase{'s' if vague > 1 else ''}")
    if repeats:
        reasons.append(f"{repeats} repeated word{'s' if repeats > 1 else ''}")
    if unclear / words > 0.15:
        reasons.append("many words hard to make out")
    return math.exp(-penalty), reasons


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
        first = max(0, int((candidate.start - context.loudness_offset) / context.window_seconds))
        last = max(first + 1, math.ceil((candidate.end - context.loudness_offset) / context.window_seconds))
        window = [v for v in context.loudness_db[first:last] if v > -60]
        if window:
            delta = sorted(window)[len(window) // 2] - context.speech_loudness_db
            loud_score = 1 / (1 + math.exp(-delta / 2.0))  # +-2 dB around the talk's median
            if delta > 1.5:
                reasons.append(f"louder than the talk's median by {delta:.1f} dB")
    return 0.5 * pace_score + 0.5 * loud_score, reasons


def _duration_fit(candidate: Candidate, context: ScoringContext) -> tuple[float, list[str]]:
    spread = max(1e-6, (context.max_seconds - context.min_seconds) / 2)
    if len(context.targets) > 1:
        spread /= len(context.targets)  # several targets: each one is a narrower aim
    target = min(context.targets, key=lambda t: abs(candidate.duration - t))
    value = math.exp(-(((candidate.duration - target) / spread) ** 2))
    return value, [f"{candidate.duration:.0f}s against a {target:.0f}s target"]


def _relevance(talk: TalkAnalysis, candidate: Candidate, first: int, last: int) -> tuple[float, list[str]]:
    assert talk.relevance is not None
    best = float(talk.relevance[first : last + 1].max())
    meaning = _ramp(best, 0.1, 0.5)
    words = {fold(w.text) for s in candidate.sentences for w in s.words}
    hits = [t for t in talk.query_terms if t and (t in words or all(p in words for p in t.split()))]
    terms = min(1.0, len(hits) / max(1, min(3, len(talk.query_terms)))) if talk.query_terms else 0.0
    reasons = [f"closest sentence to the request: similarity {best:.2f}"]
    if hits:
        reasons.append("mentions " + ", ".join(hits[:5]))
    return max(meaning, 0.6 * meaning + 0.4 * terms), reasons


def _bare(word: str) -> str:
    return word.strip(".,;:!?¿¡\"'()«»…")


def _quote(text: str, limit: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"
