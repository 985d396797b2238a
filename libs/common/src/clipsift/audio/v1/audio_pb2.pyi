from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AudioSource(_message.Message):
    __slots__ = ("blob_key", "data")
    BLOB_KEY_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    blob_key: str
    data: bytes
    def __init__(self, blob_key: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class TranscribeRequest(_message.Message):
    __slots__ = ("audio", "language", "beam_size", "vad_filter")
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    BEAM_SIZE_FIELD_NUMBER: _ClassVar[int]
    VAD_FILTER_FIELD_NUMBER: _ClassVar[int]
    audio: AudioSource
    language: str
    beam_size: int
    vad_filter: bool
    def __init__(self, audio: _Optional[_Union[AudioSource, _Mapping]] = ..., language: _Optional[str] = ..., beam_size: _Optional[int] = ..., vad_filter: _Optional[bool] = ...) -> None: ...

class Word(_message.Message):
    __slots__ = ("text", "start", "end", "probability")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    text: str
    start: float
    end: float
    probability: float
    def __init__(self, text: _Optional[str] = ..., start: _Optional[float] = ..., end: _Optional[float] = ..., probability: _Optional[float] = ...) -> None: ...

class TranscriptSegment(_message.Message):
    __slots__ = ("index", "start", "end", "text", "words", "avg_logprob", "no_speech_prob", "language", "language_probability", "duration")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    AVG_LOGPROB_FIELD_NUMBER: _ClassVar[int]
    NO_SPEECH_PROB_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    index: int
    start: float
    end: float
    text: str
    words: _containers.RepeatedCompositeFieldContainer[Word]
    avg_logprob: float
    no_speech_prob: float
    language: str
    language_probability: float
    duration: float
    def __init__(self, index: _Optional[int] = ..., start: _Optional[float] = ..., end: _Optional[float] = ..., text: _Optional[str] = ..., words: _Optional[_Iterable[_Union[Word, _Mapping]]] = ..., avg_logprob: _Optional[float] = ..., no_speech_prob: _Optional[float] = ..., language: _Optional[str] = ..., language_probability: _Optional[float] = ..., duration: _Optional[float] = ...) -> None: ...

class LanguageResult(_message.Message):
    __slots__ = ("language", "probability", "candidates")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    language: str
    probability: float
    candidates: _containers.RepeatedCompositeFieldContainer[LanguageCandidate]
    def __init__(self, language: _Optional[str] = ..., probability: _Optional[float] = ..., candidates: _Optional[_Iterable[_Union[LanguageCandidate, _Mapping]]] = ...) -> None: ...

class LanguageCandidate(_message.Message):
    __slots__ = ("language", "probability")
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    language: str
    probability: float
    def __init__(self, language: _Optional[str] = ..., probability: _Optional[float] = ...) -> None: ...

class AudioFeaturesRequest(_message.Message):
    __slots__ = ("audio", "window_seconds", "silence_threshold_db", "min_silence_seconds")
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SILENCE_THRESHOLD_DB_FIELD_NUMBER: _ClassVar[int]
    MIN_SILENCE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    audio: AudioSource
    window_seconds: float
    silence_threshold_db: float
    min_silence_seconds: float
    def __init__(self, audio: _Optional[_Union[AudioSource, _Mapping]] = ..., window_seconds: _Optional[float] = ..., silence_threshold_db: _Optional[float] = ..., min_silence_seconds: _Optional[float] = ...) -> None: ...

class Region(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: float
    end: float
    def __init__(self, start: _Optional[float] = ..., end: _Optional[float] = ...) -> None: ...

class AudioFeaturesResponse(_message.Message):
    __slots__ = ("duration", "window_seconds", "loudness_db", "integrated_lufs", "silences", "speech")
    DURATION_FIELD_NUMBER: _ClassVar[int]
    WINDOW_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LOUDNESS_DB_FIELD_NUMBER: _ClassVar[int]
    INTEGRATED_LUFS_FIELD_NUMBER: _ClassVar[int]
    SILENCES_FIELD_NUMBER: _ClassVar[int]
    SPEECH_FIELD_NUMBER: _ClassVar[int]
    duration: float
    window_seconds: float
    loudness_db: _containers.RepeatedScalarFieldContainer[float]
    integrated_lufs: float
    silences: _containers.RepeatedCompositeFieldContainer[Region]
    speech: _containers.RepeatedCompositeFieldContainer[Region]
    def __init__(self, duration: _Optional[float] = ..., window_seconds: _Optional[float] = ..., loudness_db: _Optional[_Iterable[float]] = ..., integrated_lufs: _Optional[float] = ..., silences: _Optional[_Iterable[_Union[Region, _Mapping]]] = ..., speech: _Optional[_Iterable[_Union[Region, _Mapping]]] = ...) -> None: ...
