from clipsift.vision.v1 import vision_pb2 as _vision_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Feature(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEATURE_UNSPECIFIED: _ClassVar[Feature]
    FEATURE_OBJECTS: _ClassVar[Feature]
    FEATURE_TEXT: _ClassVar[Feature]
    FEATURE_COLOURS: _ClassVar[Feature]
    FEATURE_QUALITY: _ClassVar[Feature]
    FEATURE_FACES: _ClassVar[Feature]
    FEATURE_HASHES: _ClassVar[Feature]
    FEATURE_EMBEDDING: _ClassVar[Feature]
FEATURE_UNSPECIFIED: Feature
FEATURE_OBJECTS: Feature
FEATURE_TEXT: Feature
FEATURE_COLOURS: Feature
FEATURE_QUALITY: Feature
FEATURE_FACES: Feature
FEATURE_HASHES: Feature
FEATURE_EMBEDDING: Feature

class AnalyzeImageRequest(_message.Message):
    __slots__ = ("images", "features", "min_confidence")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    MIN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[_vision_pb2.Image]
    features: _containers.RepeatedScalarFieldContainer[Feature]
    min_confidence: float
    def __init__(self, images: _Optional[_Iterable[_Union[_vision_pb2.Image, _Mapping]]] = ..., features: _Optional[_Iterable[_Union[Feature, str]]] = ..., min_confidence: _Optional[float] = ...) -> None: ...

class DetectedObject(_message.Message):
    __slots__ = ("label", "confidence", "box")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    BOX_FIELD_NUMBER: _ClassVar[int]
    label: str
    confidence: float
    box: _vision_pb2.Box
    def __init__(self, label: _Optional[str] = ..., confidence: _Optional[float] = ..., box: _Optional[_Union[_vision_pb2.Box, _Mapping]] = ...) -> None: ...

class Point(_message.Message):
    __slots__ = ("x", "y")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ...) -> None: ...

class TextLine(_message.Message):
    __slots__ = ("text", "confidence", "polygon")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    POLYGON_FIELD_NUMBER: _ClassVar[int]
    text: str
    confidence: float
    polygon: _containers.RepeatedCompositeFieldContainer[Point]
    def __init__(self, text: _Optional[str] = ..., confidence: _Optional[float] = ..., polygon: _Optional[_Iterable[_Union[Point, _Mapping]]] = ...) -> None: ...

class Colour(_message.Message):
    __slots__ = ("hex", "r", "g", "b", "fraction")
    HEX_FIELD_NUMBER: _ClassVar[int]
    R_FIELD_NUMBER: _ClassVar[int]
    G_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    hex: str
    r: int
    g: int
    b: int
    fraction: float
    def __init__(self, hex: _Optional[str] = ..., r: _Optional[int] = ..., g: _Optional[int] = ..., b: _Optional[int] = ..., fraction: _Optional[float] = ...) -> None: ...

class Quality(_message.Message):
    __slots__ = ("sharpness", "brightness", "contrast", "underexposed_fraction", "overexposed_fraction", "noise_sigma", "megapixels", "blurry", "exposure", "noisy", "low_resolution")
    SHARPNESS_FIELD_NUMBER: _ClassVar[int]
    BRIGHTNESS_FIELD_NUMBER: _ClassVar[int]
    CONTRAST_FIELD_NUMBER: _ClassVar[int]
    UNDEREXPOSED_FRACTION_FIELD_NUMBER: _ClassVar[int]
    OVEREXPOSED_FRACTION_FIELD_NUMBER: _ClassVar[int]
    NOISE_SIGMA_FIELD_NUMBER: _ClassVar[int]
    MEGAPIXELS_FIELD_NUMBER: _ClassVar[int]
    BLURRY_FIELD_NUMBER: _ClassVar[int]
    EXPOSURE_FIELD_NUMBER: _ClassVar[int]
    NOISY_FIELD_NUMBER: _ClassVar[int]
    LOW_RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    sharpness: float
    brightness: float
    contrast: float
    underexposed_fraction: float
    overexposed_fraction: float
    noise_sigma: float
    megapixels: float
    blurry: bool
    exposure: str
    noisy: bool
    low_resolution: bool
    def __init__(self, sharpness: _Optional[float] = ..., brightness: _Optional[float] = ..., contrast: _Optional[float] = ..., underexposed_fraction: _Optional[float] = ..., overexposed_fraction: _Optional[float] = ..., noise_sigma: _Optional[float] = ..., megapixels: _Optional[float] = ..., blurry: _Optional[bool] = ..., exposure: _Optional[str] = ..., noisy: _Optional[bool] = ..., low_resolution: _Optional[bool] = ...) -> None: ...

class ImageHashes(_message.Message):
    __slots__ = ("phash", "dhash", "whash")
    PHASH_FIELD_NUMBER: _ClassVar[int]
    DHASH_FIELD_NUMBER: _ClassVar[int]
    WHASH_FIELD_NUMBER: _ClassVar[int]
    phash: str
    dhash: str
    whash: str
    def __init__(self, phash: _Optional[str] = ..., dhash: _Optional[str] = ..., whash: _Optional[str] = ...) -> None: ...

class ImageAnalysis(_message.Message):
    __slots__ = ("width", "height", "analyzed_width", "analyzed_height", "format", "objects", "text_lines", "text", "colours", "quality", "faces", "hashes", "embedding")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    ANALYZED_WIDTH_FIELD_NUMBER: _ClassVar[int]
    ANALYZED_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    TEXT_LINES_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    COLOURS_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    FACES_FIELD_NUMBER: _ClassVar[int]
    HASHES_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    analyzed_width: int
    analyzed_height: int
    format: str
    objects: _containers.RepeatedCompositeFieldContainer[DetectedObject]
    text_lines: _containers.RepeatedCompositeFieldContainer[TextLine]
    text: str
    colours: _containers.RepeatedCompositeFieldContainer[Colour]
    quality: Quality
    faces: _containers.RepeatedCompositeFieldContainer[_vision_pb2.Face]
    hashes: ImageHashes
    embedding: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., analyzed_width: _Optional[int] = ..., analyzed_height: _Optional[int] = ..., format: _Optional[str] = ..., objects: _Optional[_Iterable[_Union[DetectedObject, _Mapping]]] = ..., text_lines: _Optional[_Iterable[_Union[TextLine, _Mapping]]] = ..., text: _Optional[str] = ..., colours: _Optional[_Iterable[_Union[Colour, _Mapping]]] = ..., quality: _Optional[_Union[Quality, _Mapping]] = ..., faces: _Optional[_Iterable[_Union[_vision_pb2.Face, _Mapping]]] = ..., hashes: _Optional[_Union[ImageHashes, _Mapping]] = ..., embedding: _Optional[_Iterable[float]] = ...) -> None: ...

class AnalysisModels(_message.Message):
    __slots__ = ("objects", "text", "faces", "embedding")
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    FACES_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    objects: str
    text: str
    faces: str
    embedding: str
    def __init__(self, objects: _Optional[str] = ..., text: _Optional[str] = ..., faces: _Optional[str] = ..., embedding: _Optional[str] = ...) -> None: ...

class AnalyzeImageResponse(_message.Message):
    __slots__ = ("images", "features", "models")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[ImageAnalysis]
    features: _containers.RepeatedScalarFieldContainer[Feature]
    models: AnalysisModels
    def __init__(self, images: _Optional[_Iterable[_Union[ImageAnalysis, _Mapping]]] = ..., features: _Optional[_Iterable[_Union[Feature, str]]] = ..., models: _Optional[_Union[AnalysisModels, _Mapping]] = ...) -> None: ...
