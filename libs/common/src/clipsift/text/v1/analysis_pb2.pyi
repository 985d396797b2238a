from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AnalyzeRequest(_message.Message):
    __slots__ = ("text", "language")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    text: str
    language: str
    def __init__(self, text: _Optional[str] = ..., language: _Optional[str] = ...) -> None: ...

class LanguageCandidate(_message.Message):
    __slots__ = ("language", "confidence")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    language: str
    confidence: float
    def __init__(self, language: _Optional[str] = ..., confidence: _Optional[float] = ...) -> None: ...

class LanguageResult(_message.Message):
    __slots__ = ("language", "confidence", "candidates", "from_hint")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    FROM_HINT_FIELD_NUMBER: _ClassVar[int]
    language: str
    confidence: float
    candidates: _containers.RepeatedCompositeFieldContainer[LanguageCandidate]
    from_hint: bool
    def __init__(self, language: _Optional[str] = ..., confidence: _Optional[float] = ..., candidates: _Optional[_Iterable[_Union[LanguageCandidate, _Mapping]]] = ..., from_hint: _Optional[bool] = ...) -> None: ...

class Sentiment(_message.Message):
    __slots__ = ("compound", "positive", "neutral", "negative", "sentiment_model", "language_supported")
    COMPOUND_FIELD_NUMBER: _ClassVar[int]
    POSITIVE_FIELD_NUMBER: _ClassVar[int]
    NEUTRAL_FIELD_NUMBER: _ClassVar[int]
    NEGATIVE_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_MODEL_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    compound: float
    positive: float
    neutral: float
    negative: float
    sentiment_model: str
    language_supported: bool
    def __init__(self, compound: _Optional[float] = ..., positive: _Optional[float] = ..., neutral: _Optional[float] = ..., negative: _Optional[float] = ..., sentiment_model: _Optional[str] = ..., language_supported: _Optional[bool] = ...) -> None: ...

class Keyword(_message.Message):
    __slots__ = ("keyword", "score")
    KEYWORD_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    keyword: str
    score: float
    def __init__(self, keyword: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class Readability(_message.Message):
    __slots__ = ("flesch_reading_ease", "flesch_kincaid_grade", "gunning_fog", "smog_index", "words", "sentences")
    FLESCH_READING_EASE_FIELD_NUMBER: _ClassVar[int]
    FLESCH_KINCAID_GRADE_FIELD_NUMBER: _ClassVar[int]
    GUNNING_FOG_FIELD_NUMBER: _ClassVar[int]
    SMOG_INDEX_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    SENTENCES_FIELD_NUMBER: _ClassVar[int]
    flesch_reading_ease: float
    flesch_kincaid_grade: float
    gunning_fog: float
    smog_index: float
    words: int
    sentences: int
    def __init__(self, flesch_reading_ease: _Optional[float] = ..., flesch_kincaid_grade: _Optional[float] = ..., gunning_fog: _Optional[float] = ..., smog_index: _Optional[float] = ..., words: _Optional[int] = ..., sentences: _Optional[int] = ...) -> None: ...

class Entity(_message.Message):
    __slots__ = ("text", "label", "start", "end")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    text: str
    label: str
    start: int
    end: int
    def __init__(self, text: _Optional[str] = ..., label: _Optional[str] = ..., start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class AnalyzeResponse(_message.Message):
    __slots__ = ("language", "sentiment", "keywords", "readability", "entities", "entities_supported", "models")
    class ModelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    SENTIMENT_FIELD_NUMBER: _ClassVar[int]
    KEYWORDS_FIELD_NUMBER: _ClassVar[int]
    READABILITY_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_SUPPORTED_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    language: LanguageResult
    sentiment: Sentiment
    keywords: _containers.RepeatedCompositeFieldContainer[Keyword]
    readability: Readability
    entities: _containers.RepeatedCompositeFieldContainer[Entity]
    entities_supported: bool
    models: _containers.ScalarMap[str, str]
    def __init__(self, language: _Optional[_Union[LanguageResult, _Mapping]] = ..., sentiment: _Optional[_Union[Sentiment, _Mapping]] = ..., keywords: _Optional[_Iterable[_Union[Keyword, _Mapping]]] = ..., readability: _Optional[_Union[Readability, _Mapping]] = ..., entities: _Optional[_Iterable[_Union[Entity, _Mapping]]] = ..., entities_supported: _Optional[bool] = ..., models: _Optional[_Mapping[str, str]] = ...) -> None: ...
