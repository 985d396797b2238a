from clipsift.text.v1 import text_pb2 as _text_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IndexedDocument(_message.Message):
    __slots__ = ("id", "text", "title")
    ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    id: str
    text: str
    title: str
    def __init__(self, id: _Optional[str] = ..., text: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class IndexOptions(_message.Message):
    __slots__ = ("semantic",)
    SEMANTIC_FIELD_NUMBER: _ClassVar[int]
    semantic: bool
    def __init__(self, semantic: _Optional[bool] = ...) -> None: ...

class AddDocumentsRequest(_message.Message):
    __slots__ = ("tenant", "index", "documents", "options")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    index: str
    documents: _containers.RepeatedCompositeFieldContainer[IndexedDocument]
    options: IndexOptions
    def __init__(self, tenant: _Optional[str] = ..., index: _Optional[str] = ..., documents: _Optional[_Iterable[_Union[IndexedDocument, _Mapping]]] = ..., options: _Optional[_Union[IndexOptions, _Mapping]] = ...) -> None: ...

class AddDocumentsResponse(_message.Message):
    __slots__ = ("added", "replaced", "documents", "created")
    ADDED_FIELD_NUMBER: _ClassVar[int]
    REPLACED_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    added: int
    replaced: int
    documents: int
    created: bool
    def __init__(self, added: _Optional[int] = ..., replaced: _Optional[int] = ..., documents: _Optional[int] = ..., created: _Optional[bool] = ...) -> None: ...

class QueryRequest(_message.Message):
    __slots__ = ("tenant", "index", "text", "threshold", "limit", "semantic", "semantic_threshold")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SEMANTIC_FIELD_NUMBER: _ClassVar[int]
    SEMANTIC_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    index: str
    text: str
    threshold: float
    limit: int
    semantic: bool
    semantic_threshold: float
    def __init__(self, tenant: _Optional[str] = ..., index: _Optional[str] = ..., text: _Optional[str] = ..., threshold: _Optional[float] = ..., limit: _Optional[int] = ..., semantic: _Optional[bool] = ..., semantic_threshold: _Optional[float] = ...) -> None: ...

class IndexMatch(_message.Message):
    __slots__ = ("id", "title", "jaccard", "exact", "cosine")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    JACCARD_FIELD_NUMBER: _ClassVar[int]
    EXACT_FIELD_NUMBER: _ClassVar[int]
    COSINE_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    jaccard: float
    exact: bool
    cosine: float
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., jaccard: _Optional[float] = ..., exact: _Optional[bool] = ..., cosine: _Optional[float] = ...) -> None: ...

class QueryResponse(_message.Message):
    __slots__ = ("matches", "semantic_matches", "threshold", "semantic_threshold", "candidates", "documents", "vector_backend")
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    SEMANTIC_MATCHES_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    SEMANTIC_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    VECTOR_BACKEND_FIELD_NUMBER: _ClassVar[int]
    matches: _containers.RepeatedCompositeFieldContainer[IndexMatch]
    semantic_matches: _containers.RepeatedCompositeFieldContainer[IndexMatch]
    threshold: float
    semantic_threshold: float
    candidates: int
    documents: int
    vector_backend: str
    def __init__(self, matches: _Optional[_Iterable[_Union[IndexMatch, _Mapping]]] = ..., semantic_matches: _Optional[_Iterable[_Union[IndexMatch, _Mapping]]] = ..., threshold: _Optional[float] = ..., semantic_threshold: _Optional[float] = ..., candidates: _Optional[int] = ..., documents: _Optional[int] = ..., vector_backend: _Optional[str] = ...) -> None: ...

class CompareToIndexRequest(_message.Message):
    __slots__ = ("tenant", "index", "text", "limit", "min_words", "html")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    MIN_WORDS_FIELD_NUMBER: _ClassVar[int]
    HTML_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    index: str
    text: str
    limit: int
    min_words: int
    html: bool
    def __init__(self, tenant: _Optional[str] = ..., index: _Optional[str] = ..., text: _Optional[str] = ..., limit: _Optional[int] = ..., min_words: _Optional[int] = ..., html: _Optional[bool] = ...) -> None: ...

class IndexComparison(_message.Message):
    __slots__ = ("id", "title", "report")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    report: _text_pb2.CompareResponse
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., report: _Optional[_Union[_text_pb2.CompareResponse, _Mapping]] = ...) -> None: ...

class CompareToIndexResponse(_message.Message):
    __slots__ = ("matches", "coverage", "words", "candidates")
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    COVERAGE_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    matches: _containers.RepeatedCompositeFieldContainer[IndexComparison]
    coverage: float
    words: int
    candidates: int
    def __init__(self, matches: _Optional[_Iterable[_Union[IndexComparison, _Mapping]]] = ..., coverage: _Optional[float] = ..., words: _Optional[int] = ..., candidates: _Optional[int] = ...) -> None: ...

class DeleteDocumentRequest(_message.Message):
    __slots__ = ("tenant", "index", "id")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    index: str
    id: str
    def __init__(self, tenant: _Optional[str] = ..., index: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class DeleteDocumentResponse(_message.Message):
    __slots__ = ("documents",)
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    documents: int
    def __init__(self, documents: _Optional[int] = ...) -> None: ...

class DeleteIndexRequest(_message.Message):
    __slots__ = ("tenant", "index")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    index: str
    def __init__(self, tenant: _Optional[str] = ..., index: _Optional[str] = ...) -> None: ...

class DeleteIndexResponse(_message.Message):
    __slots__ = ("documents",)
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    documents: int
    def __init__(self, documents: _Optional[int] = ...) -> None: ...

class ListIndexesRequest(_message.Message):
    __slots__ = ("tenant",)
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    def __init__(self, tenant: _Optional[str] = ...) -> None: ...

class GetIndexRequest(_message.Message):
    __slots__ = ("tenant", "index")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    index: str
    def __init__(self, tenant: _Optional[str] = ..., index: _Optional[str] = ...) -> None: ...

class IndexInfo(_message.Message):
    __slots__ = ("name", "documents", "semantic", "num_perm", "bands", "rows", "shingle_size", "created_at", "updated_at", "vector_backend")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    SEMANTIC_FIELD_NUMBER: _ClassVar[int]
    NUM_PERM_FIELD_NUMBER: _ClassVar[int]
    BANDS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SHINGLE_SIZE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    VECTOR_BACKEND_FIELD_NUMBER: _ClassVar[int]
    name: str
    documents: int
    semantic: bool
    num_perm: int
    bands: int
    rows: int
    shingle_size: int
    created_at: str
    updated_at: str
    vector_backend: str
    def __init__(self, name: _Optional[str] = ..., documents: _Optional[int] = ..., semantic: _Optional[bool] = ..., num_perm: _Optional[int] = ..., bands: _Optional[int] = ..., rows: _Optional[int] = ..., shingle_size: _Optional[int] = ..., created_at: _Optional[str] = ..., updated_at: _Optional[str] = ..., vector_backend: _Optional[str] = ...) -> None: ...

class ListIndexesResponse(_message.Message):
    __slots__ = ("indexes",)
    INDEXES_FIELD_NUMBER: _ClassVar[int]
    indexes: _containers.RepeatedCompositeFieldContainer[IndexInfo]
    def __init__(self, indexes: _Optional[_Iterable[_Union[IndexInfo, _Mapping]]] = ...) -> None: ...
