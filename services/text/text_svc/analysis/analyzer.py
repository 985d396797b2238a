"""Text analysis: language, sentiment, keywords, readability and named entities of one text.

Every part is a well-kept library (lingua, VADER, YAKE, textstat, spaCy); this module loads their
models once, in :meth:`Analyzer.load`, and runs them per request as plain functions of the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyphen
import spacy
import yake
from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder
from textstat.textstat import textstatistics
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from clipsift_common.errors import FailedPrecondition, InvalidArgument, ResourceExhausted

from ..settings import TextSettings

LANGUAGE_MODEL = "lingua-language-detector"
# No transformer sentiment weights are packaged for offline use, so VADER it is: a lexicon and
# rules tuned on English; on other languages it mostly sees unknown words and scores them neutral.
SENTIMENT_MODEL = "vaderSentiment (English-only lexicon)"
KEYWORD_MODEL = "yake"
READABILITY_MODEL = "textstat"
# How many language candidates a response lists.
CANDIDATES = 3


@dataclass(frozen=True)
class LanguageGuess:
    language: str  # ISO 639-1; "" when nothing could be told (no letters, say)
    confidence: float
    candidates: list[tuple[str, float]]
    from_hint: bool


@dataclass(frozen=True)
class SentimentScores:
    compound: float
    positive: float
    neutral: float
    negative: float
    language_supported: bool


@dataclass(frozen=True)
class ReadabilityScores:
    flesch_reading_ease: float
    flesch_kincaid_grade: float
    gunning_fog: float
    smog_index: float
    words: int
    sentences: int


@dataclass(frozen=True)
class EntitySpan:
    text: str
    label: str
    start: int  # character offsets into the analysed text, end exclusive
    end: int


@dataclass(frozen=True)
class Analysis:
    language: LanguageGuess
    sentiment: SentimentScores
    keywords: list[tuple[str, float]]
    readability: ReadabilityScores
    entities: list[EntitySpan]
    entities_supported: bool
    models: dict[str, str] = field(default_factory=dict)


def _lingua_language(code: str) -> Language:
    try:
        return Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper()))
    except AttributeError:
        raise ValueError(f"{code!r} is not an ISO 639-1 code lingua knows") from None


def detect_language(detector: LanguageDetector, text: str, hint: str = "") -> LanguageGuess:
    """The most likely language and the runners-up; a hint replaces the winner, not the ranking."""
    values = detector.compute_language_confidence_values(text)
    candidates = [
        (v.language.iso_code_639_1.name.lower(), float(v.value)) for v in values[:CANDIDATES] if v.value > 0
    ]
    if hint:
        confidence = next(
            (float(v.value) for v in values if v.language.iso_code_639_1.name.lower() == hint), 0.0
        )
        return LanguageGuess(hint, confidence, candidates, from_hint=True)
    if not candidates:
        return LanguageGuess("", 0.0, [], from_hint=False)
    return LanguageGuess(candidates[0][0], candidates[0][1], candidates, from_hint=False)


def sentiment(vader: SentimentIntensityAnalyzer, text: str, language: str) -> SentimentScores:
    scores = vader.polarity_scores(text)
    return SentimentScores(
        compound=scores["compound"],
        positive=scores["pos"],
        neutral=scores["neu"],
        negative=scores["neg"],
        language_supported=language == "en",
    )


def keywords(extractor: yake.KeywordExtractor, text: str) -> list[tuple[str, float]]:
    """YAKE keywords, most relevant first (YAKE's score: lower is more relevant)."""
    return [(str(word), float(score)) for word, score in extractor.extract_keywords(text)]


def readability(stats: textstatistics, english: textstatistics, text: str) -> ReadabilityScores:
    """Flesch reading ease in the text's language where textstat adapts it (de, es, fr, it, nl, ru);
    the grade-level formulas are calibrated on English school grades, so they use the English rules."""
    return ReadabilityScores(
        flesch_reading_ease=float(stats.flesch_reading_ease(text)),
        flesch_kincaid_grade=float(english.flesch_kincaid_grade(text)),
        gunning_fog=float(english.gunning_fog(text)),
        smog_index=float(english.smog_index(text)),
        words=int(stats.lexicon_count(text)),
        sentences=int(stats.sentence_count(text)),
    )


def entities(nlp: Any, text: str) -> list[EntitySpan]:
    # Only the entity recogniser and what it needs: the parser and lemmatiser would triple the time.
    doc = nlp(text)
    return [EntitySpan(e.text, e.label_, e.start_char, e.end_char) for e in doc.ents]


class Analyzer:
    """Holds the loaded models; :meth:`analyze` is safe to call from several threads."""

    def __init__(self, settings: TextSettings) -> None:
        self.settings = settings
        self.languages = tuple(dict.fromkeys(code.lower() for code in settings.analysis_languages))
        for code in self.languages:
            _lingua_language(code)  # a typo in the setting fails at start, not on a request
        self._detector: LanguageDetector | None = None
        self._vader: SentimentIntensityAnalyzer | None = None
        self._keywords: dict[str, yake.KeywordExtractor] = {}
        self._readability: dict[str, textstatistics] = {}
        self._nlp: Any = None

    def load(self) -> None:
        """Load every model (seconds, and a few hundred MB): call once, before serving."""
        builder = LanguageDetectorBuilder.from_languages(*(_lingua_language(c) for c in self.languages))
        if self.settings.analysis_low_accuracy:
            builder = builder.with_low_accuracy_mode()
        self._detector = builder.with_preloaded_language_models().build()
        self._vader = SentimentIntensityAnalyzer()
        top = self.settings.analysis_keywords
        # YAKE ships stopword lists per language and falls back to a language-neutral one itself.
        self._keywords = {code: yake.KeywordExtractor(lan=code, top=top) for code in ("", *self.languages)}
        self._readability = {code: self._textstat(code) for code in ("en", *self.languages)}
        nlp = spacy.load(self.settings.ner_model, exclude=["parser", "lemmatizer"])
        # spaCy refuses texts over max_length (1M characters by default); the request limit rules.
        nlp.max_length = max(nlp.max_length, self.settings.max_document_chars + 1)
        self._nlp = nlp

    @staticmethod
    def _textstat(code: str) -> textstatistics:
        # Syllables come from pyphen's hyphenation dictionaries; a language without one (ja, zh,
        # ar, hi) is scored with the English rules rather than failing.
        stats = textstatistics()
        stats.set_lang(code if pyphen.language_fallback(code) else "en")
        return stats

    @property
    def models(self) -> dict[str, str]:
        return {
            "language": LANGUAGE_MODEL,
            "sentiment": SENTIMENT_MODEL,
            "keywords": KEYWORD_MODEL,
            "readability": READABILITY_MODEL,
            "entities": self.settings.ner_model,
        }

    def check(self, text: str, hint: str = "") -> str:
        """Validate a request; return the normalised language hint."""
        if len(text) > self.settings.max_document_chars:
            raise ResourceExhausted(
                f"text has {len(text)} characters; the limit is {self.settings.max_document_chars}"
            )
        if not text.strip():
            raise InvalidArgument("text is empty")
        hint = hint.strip().lower()
        if hint and hint not in self.languages:
            raise InvalidArgument(
                f"language {hint!r} is not one this server analyses; it knows {', '.join(self.languages)}"
            )
        return hint

    def analyze(self, text: str, hint: str = "") -> Analysis:
        hint = self.check(text, hint)
        if self._detector is None or self._vader is None or self._nlp is None:
            raise FailedPrecondition("analysis models are not loaded yet")
        english = self._readability["en"]
        if english.lexicon_count(text) == 0:
            raise InvalidArgument("text contains no words")
        guess = detect_language(self._detector, text, hint)
        lang = guess.language
        entities_supported = self._nlp.lang in (lang, "xx")  # "xx": spaCy's multi-language pipelines
        return Analysis(
            language=guess,
            sentiment=sentiment(self._vader, text, lang),
            keywords=keywords(self._keywords.get(lang, self._keywords[""]), text),
            readability=readability(self._readability.get(lang, english), english, text),
            entities=entities(self._nlp, text) if entities_supported else [],
            entities_supported=entities_supported,
            models=self.models,
        )
