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
    __slots__ = ("a", "b", "jaccard")
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    JACCARD_FIELD_NUMBER: _ClassVar[int]
    a: str
    b: str
    jaccard: float
    def __init__(self, a: _Optional[str] = ..., b: _Optional[str] = ..., jaccard: _Optional[float] = ...) -> None: ...

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
    __slots__ = ("clusters", "documents", "candidate_pairs", "verified_pairs", "threshold", "bands", "rows")
    CLUSTERS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_PAIRS_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_PAIRS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    BANDS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    clusters: _containers.RepeatedCompositeFieldContainer[Cluster]
    documents: int
    candidate_pairs: int
    verified_pairs: int
    threshold: float
    bands: int
    rows: int
    def __init__(self, clusters: _Optional[_Iterable[_Union[Cluster, _Mapping]]] = ..., documents: _Optional[int] = ..., candidate_pairs: _Optional[int] = ..., verified_pairs: _Optional[int] = ..., threshold: _Optional[float] = ..., bands: _Optional[int] = ..., rows: _Optional[int] = ...) -> None: ...
