from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ShingleOptions(_message.Message):
    __slots__ = ("shingle_size",)
    SHINGLE_SIZE_FIELD_NUMBER: _ClassVar[int]
    shingle_size: int
    def __init__(self, shingle_size: _Optional[int] = ...) -> None: ...

class SimilarityRequest(_message.Message):
    __slots__ = ("a", "b", "options")
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    a: str
    b: str
    options: ShingleOptions
    def __init__(self, a: _Optional[str] = ..., b: _Optional[str] = ..., options: _Optional[_Union[ShingleOptions, _Mapping]] = ...) -> None: ...

class SimilarityResponse(_message.Message):
    __slots__ = ("estimated_jaccard", "exact_jaccard", "shingles_a", "shingles_b", "num_perm")
    ESTIMATED_JACCARD_FIELD_NUMBER: _ClassVar[int]
    EXACT_JACCARD_FIELD_NUMBER: _ClassVar[int]
    SHINGLES_A_FIELD_NUMBER: _ClassVar[int]
    SHINGLES_B_FIELD_NUMBER: _ClassVar[int]
    NUM_PERM_FIELD_NUMBER: _ClassVar[int]
    estimated_jaccard: float
    exact_jaccard: float
    shingles_a: int
    shingles_b: int
    num_perm: int
    def __init__(self, estimated_jaccard: _Optional[float] = ..., exact_jaccard: _Optional[float] = ..., shingles_a: _Optional[int] = ..., shingles_b: _Optional[int] = ..., num_perm: _Optional[int] = ...) -> None: ...

class Document(_message.Message):
    __slots__ = ("id", "text")
    ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    id: str
    text: str
    def __init__(self, id: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class FindDuplicatesRequest(_message.Message):
    __slots__ = ("documents", "threshold", "options")
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    documents: _containers.RepeatedCompositeFieldContainer[Document]
    threshold: float
    options: ShingleOptions
    def __init__(self, documents: _Optional[_Iterable[_Union[Document, _Mapping]]] = ..., threshold: _Optional[float] = ..., options: _Optional[_Union[ShingleOptions, _Mapping]] = ...) -> None: ...

class DuplicatePair(_message.Message):
    __slots__ = ("a", "b", "jaccard", "exact")
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    JACCARD_FIELD_NUMBER: _ClassVar[int]
    EXACT_FIELD_NUMBER: _ClassVar[int]
    a: str
    b: str
    jaccard: float
    exact: bool
    def __init__(self, a: _Optional[str] = ..., b: _Optional[str] = ..., jaccard: _Optional[float] = ..., exact: _Optional[bool] = ...) -> None: ...

class ExactGroup(_message.Message):
    __slots__ = ("document_ids", "content_sha1")
    DOCUMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SHA1_FIELD_NUMBER: _ClassVar[int]
    document_ids: _containers.RepeatedScalarFieldContainer[str]
    content_sha1: str
    def __init__(self, document_ids: _Optional[_Iterable[str]] = ..., content_sha1: _Optional[str] = ...) -> None: ...

class Cluster(_message.Message):
    __slots__ = ("document_ids", "pairs", "max_jaccard", "min_jaccard")
    DOCUMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    MAX_JACCARD_FIELD_NUMBER: _ClassVar[int]
    MIN_JACCARD_FIELD_NUMBER: _ClassVar[int]
    document_ids: _containers.RepeatedScalarFieldContainer[str]
    pairs: _containers.RepeatedCompositeFieldContainer[DuplicatePair]
    max_jaccard: float
    min_jaccard: float
    def __init__(self, document_ids: _Optional[_Iterable[str]] = ..., pairs: _Optional[_Iterable[_Union[DuplicatePair, _Mapping]]] = ..., max_jaccard: _Optional[float] = ..., min_jaccard: _Optional[float] = ...) -> None: ...

class FindDuplicatesResponse(_message.Message):
    __slots__ = ("clusters", "documents", "candidate_pairs", "verified_pairs", "threshold", "bands", "rows", "exact_groups", "exact_pairs")
    CLUSTERS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_PAIRS_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_PAIRS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    BANDS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    EXACT_GROUPS_FIELD_NUMBER: _ClassVar[int]
    EXACT_PAIRS_FIELD_NUMBER: _ClassVar[int]
    clusters: _containers.RepeatedCompositeFieldContainer[Cluster]
    documents: int
    candidate_pairs: int
    verified_pairs: int
    threshold: float
    bands: int
    rows: int
    exact_groups: _containers.RepeatedCompositeFieldContainer[ExactGroup]
    exact_pairs: int
    def __init__(self, clusters: _Optional[_Iterable[_Union[Cluster, _Mapping]]] = ..., documents: _Optional[int] = ..., candidate_pairs: _Optional[int] = ..., verified_pairs: _Optional[int] = ..., threshold: _Optional[float] = ..., bands: _Optional[int] = ..., rows: _Optional[int] = ..., exact_groups: _Optional[_Iterable[_Union[ExactGroup, _Mapping]]] = ..., exact_pairs: _Optional[int] = ...) -> None: ...

class CompareRequest(_message.Message):
    __slots__ = ("a", "b", "min_words", "html")
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    MIN_WORDS_FIELD_NUMBER: _ClassVar[int]
    HTML_FIELD_NUMBER: _ClassVar[int]
    a: str
    b: str
    min_words: int
    html: bool
    def __init__(self, a: _Optional[str] = ..., b: _Optional[str] = ..., min_words: _Optional[int] = ..., html: _Optional[bool] = ...) -> None: ...

class Passage(_message.Message):
    __slots__ = ("a_start", "a_end", "b_start", "b_end", "words_a", "words_b")
    A_START_FIELD_NUMBER: _ClassVar[int]
    A_END_FIELD_NUMBER: _ClassVar[int]
    B_START_FIELD_NUMBER: _ClassVar[int]
    B_END_FIELD_NUMBER: _ClassVar[int]
    WORDS_A_FIELD_NUMBER: _ClassVar[int]
    WORDS_B_FIELD_NUMBER: _ClassVar[int]
    a_start: int
    a_end: int
    b_start: int
    b_end: int
    words_a: int
    words_b: int
    def __init__(self, a_start: _Optional[int] = ..., a_end: _Optional[int] = ..., b_start: _Optional[int] = ..., b_end: _Optional[int] = ..., words_a: _Optional[int] = ..., words_b: _Optional[int] = ...) -> None: ...

class CompareResponse(_message.Message):
    __slots__ = ("passages", "coverage_a", "coverage_b", "exact_jaccard", "words_a", "words_b", "min_words", "html")
    PASSAGES_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_A_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_B_FIELD_NUMBER: _ClassVar[int]
    EXACT_JACCARD_FIELD_NUMBER: _ClassVar[int]
    WORDS_A_FIELD_NUMBER: _ClassVar[int]
    WORDS_B_FIELD_NUMBER: _ClassVar[int]
    MIN_WORDS_FIELD_NUMBER: _ClassVar[int]
    HTML_FIELD_NUMBER: _ClassVar[int]
    passages: _containers.RepeatedCompositeFieldContainer[Passage]
    coverage_a: float
    coverage_b: float
    exact_jaccard: float
    words_a: int
    words_b: int
    min_words: int
    html: str
    def __init__(self, passages: _Optional[_Iterable[_Union[Passage, _Mapping]]] = ..., coverage_a: _Optional[float] = ..., coverage_b: _Optional[float] = ..., exact_jaccard: _Optional[float] = ..., words_a: _Optional[int] = ..., words_b: _Optional[int] = ..., min_words: _Optional[int] = ..., html: _Optional[str] = ...) -> None: ...

class FindSemanticDuplicatesRequest(_message.Message):
    __slots__ = ("documents", "threshold")
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    documents: _containers.RepeatedCompositeFieldContainer[Document]
    threshold: float
    def __init__(self, documents: _Optional[_Iterable[_Union[Document, _Mapping]]] = ..., threshold: _Optional[float] = ...) -> None: ...

class SemanticPair(_message.Message):
    __slots__ = ("a", "b", "cosine")
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    COSINE_FIELD_NUMBER: _ClassVar[int]
    a: str
    b: str
    cosine: float
    def __init__(self, a: _Optional[str] = ..., b: _Optional[str] = ..., cosine: _Optional[float] = ...) -> None: ...

class SemanticCluster(_message.Message):
    __slots__ = ("document_ids", "pairs", "max_cosine", "min_cosine")
    DOCUMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    MAX_COSINE_FIELD_NUMBER: _ClassVar[int]
    MIN_COSINE_FIELD_NUMBER: _ClassVar[int]
    document_ids: _containers.RepeatedScalarFieldContainer[str]
    pairs: _containers.RepeatedCompositeFieldContainer[SemanticPair]
    max_cosine: float
    min_cosine: float
    def __init__(self, document_ids: _Optional[_Iterable[str]] = ..., pairs: _Optional[_Iterable[_Union[SemanticPair, _Mapping]]] = ..., max_cosine: _Optional[float] = ..., min_cosine: _Optional[float] = ...) -> None: ...

class FindSemanticDuplicatesResponse(_message.Message):
    __slots__ = ("clusters", "documents", "threshold", "model", "dimensions")
    CLUSTERS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    clusters: _containers.RepeatedCompositeFieldContainer[SemanticCluster]
    documents: int
    threshold: float
    model: str
    dimensions: int
    def __init__(self, clusters: _Optional[_Iterable[_Union[SemanticCluster, _Mapping]]] = ..., documents: _Optional[int] = ..., threshold: _Optional[float] = ..., model: _Optional[str] = ..., dimensions: _Optional[int] = ...) -> None: ...

class EmbedRequest(_message.Message):
    __slots__ = ("texts",)
    TEXTS_FIELD_NUMBER: _ClassVar[int]
    texts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, texts: _Optional[_Iterable[str]] = ...) -> None: ...

class Vector(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class EmbedResponse(_message.Message):
    __slots__ = ("vectors", "model", "dimensions")
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    vectors: _containers.RepeatedCompositeFieldContainer[Vector]
    model: str
    dimensions: int
    def __init__(self, vectors: _Optional[_Iterable[_Union[Vector, _Mapping]]] = ..., model: _Optional[str] = ..., dimensions: _Optional[int] = ...) -> None: ...
