from clipsift.vision.v1 import vision_pb2 as _vision_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NamedImage(_message.Message):
    __slots__ = ("id", "image")
    ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    image: _vision_pb2.Image
    def __init__(self, id: _Optional[str] = ..., image: _Optional[_Union[_vision_pb2.Image, _Mapping]] = ...) -> None: ...

class DuplicateThresholds(_message.Message):
    __slots__ = ("max_hash_distance", "min_hashes", "min_similarity", "min_similarity_with_hashes", "max_hash_sum", "use_embeddings")
    MAX_HASH_DISTANCE_FIELD_NUMBER: _ClassVar[int]
    MIN_HASHES_FIELD_NUMBER: _ClassVar[int]
    MIN_SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    MIN_SIMILARITY_WITH_HASHES_FIELD_NUMBER: _ClassVar[int]
    MAX_HASH_SUM_FIELD_NUMBER: _ClassVar[int]
    USE_EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    max_hash_distance: int
    min_hashes: int
    min_similarity: float
    min_similarity_with_hashes: float
    max_hash_sum: int
    use_embeddings: bool
    def __init__(self, max_hash_distance: _Optional[int] = ..., min_hashes: _Optional[int] = ..., min_similarity: _Optional[float] = ..., min_similarity_with_hashes: _Optional[float] = ..., max_hash_sum: _Optional[int] = ..., use_embeddings: _Optional[bool] = ...) -> None: ...

class MatchEvidence(_message.Message):
    __slots__ = ("phash_distance", "dhash_distance", "whash_distance", "mirrored", "similarity", "rule")
    PHASH_DISTANCE_FIELD_NUMBER: _ClassVar[int]
    DHASH_DISTANCE_FIELD_NUMBER: _ClassVar[int]
    WHASH_DISTANCE_FIELD_NUMBER: _ClassVar[int]
    MIRRORED_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    phash_distance: int
    dhash_distance: int
    whash_distance: int
    mirrored: bool
    similarity: float
    rule: str
    def __init__(self, phash_distance: _Optional[int] = ..., dhash_distance: _Optional[int] = ..., whash_distance: _Optional[int] = ..., mirrored: _Optional[bool] = ..., similarity: _Optional[float] = ..., rule: _Optional[str] = ...) -> None: ...

class DuplicatePair(_message.Message):
    __slots__ = ("a", "b", "evidence")
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    a: str
    b: str
    evidence: MatchEvidence
    def __init__(self, a: _Optional[str] = ..., b: _Optional[str] = ..., evidence: _Optional[_Union[MatchEvidence, _Mapping]] = ...) -> None: ...

class ImageCluster(_message.Message):
    __slots__ = ("image_ids", "pairs")
    IMAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    image_ids: _containers.RepeatedScalarFieldContainer[str]
    pairs: _containers.RepeatedCompositeFieldContainer[DuplicatePair]
    def __init__(self, image_ids: _Optional[_Iterable[str]] = ..., pairs: _Optional[_Iterable[_Union[DuplicatePair, _Mapping]]] = ...) -> None: ...

class FindDuplicateImagesRequest(_message.Message):
    __slots__ = ("images", "thresholds")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[NamedImage]
    thresholds: DuplicateThresholds
    def __init__(self, images: _Optional[_Iterable[_Union[NamedImage, _Mapping]]] = ..., thresholds: _Optional[_Union[DuplicateThresholds, _Mapping]] = ...) -> None: ...

class FindDuplicateImagesResponse(_message.Message):
    __slots__ = ("clusters", "images", "thresholds")
    CLUSTERS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    clusters: _containers.RepeatedCompositeFieldContainer[ImageCluster]
    images: int
    thresholds: DuplicateThresholds
    def __init__(self, clusters: _Optional[_Iterable[_Union[ImageCluster, _Mapping]]] = ..., images: _Optional[int] = ..., thresholds: _Optional[_Union[DuplicateThresholds, _Mapping]] = ...) -> None: ...

class IndexImagesRequest(_message.Message):
    __slots__ = ("tenant_id", "images")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    images: _containers.RepeatedCompositeFieldContainer[NamedImage]
    def __init__(self, tenant_id: _Optional[str] = ..., images: _Optional[_Iterable[_Union[NamedImage, _Mapping]]] = ...) -> None: ...

class IndexImagesResponse(_message.Message):
    __slots__ = ("indexed", "replaced", "total")
    INDEXED_FIELD_NUMBER: _ClassVar[int]
    REPLACED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    indexed: int
    replaced: int
    total: int
    def __init__(self, indexed: _Optional[int] = ..., replaced: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class QueryImageRequest(_message.Message):
    __slots__ = ("tenant_id", "image", "thresholds", "limit")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    image: _vision_pb2.Image
    thresholds: DuplicateThresholds
    limit: int
    def __init__(self, tenant_id: _Optional[str] = ..., image: _Optional[_Union[_vision_pb2.Image, _Mapping]] = ..., thresholds: _Optional[_Union[DuplicateThresholds, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class IndexMatch(_message.Message):
    __slots__ = ("image_id", "evidence")
    IMAGE_ID_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    image_id: str
    evidence: MatchEvidence
    def __init__(self, image_id: _Optional[str] = ..., evidence: _Optional[_Union[MatchEvidence, _Mapping]] = ...) -> None: ...

class QueryImageResponse(_message.Message):
    __slots__ = ("matches", "searched", "thresholds")
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    SEARCHED_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    matches: _containers.RepeatedCompositeFieldContainer[IndexMatch]
    searched: int
    thresholds: DuplicateThresholds
    def __init__(self, matches: _Optional[_Iterable[_Union[IndexMatch, _Mapping]]] = ..., searched: _Optional[int] = ..., thresholds: _Optional[_Union[DuplicateThresholds, _Mapping]] = ...) -> None: ...

class RemoveIndexedImagesRequest(_message.Message):
    __slots__ = ("tenant_id", "image_ids")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    image_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tenant_id: _Optional[str] = ..., image_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveIndexedImagesResponse(_message.Message):
    __slots__ = ("removed",)
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    removed: int
    def __init__(self, removed: _Optional[int] = ...) -> None: ...
