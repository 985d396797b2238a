from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class ProbeRequest(_message.Message):
    __slots__ = ("blob_key", "path", "url", "require_audio")
    BLOB_KEY_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_AUDIO_FIELD_NUMBER: _ClassVar[int]
    blob_key: str
    path: str
    url: str
    require_audio: bool
    def __init__(self, blob_key: _Optional[str] = ..., path: _Optional[str] = ..., url: _Optional[str] = ..., require_audio: _Optional[bool] = ...) -> None: ...

class MediaInfo(_message.Message):
    __slots__ = ("duration", "width", "height", "fps", "video_codec", "audio_codec", "has_audio", "size_bytes", "container")
    DURATION_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    VIDEO_CODEC_FIELD_NUMBER: _ClassVar[int]
    AUDIO_CODEC_FIELD_NUMBER: _ClassVar[int]
    HAS_AUDIO_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_FIELD_NUMBER: _ClassVar[int]
    duration: float
    width: int
    height: int
    fps: float
    video_codec: str
    audio_codec: str
    has_audio: bool
    size_bytes: int
    container: str
    def __init__(self, duration: _Optional[float] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., fps: _Optional[float] = ..., video_codec: _Optional[str] = ..., audio_codec: _Optional[str] = ..., has_audio: _Optional[bool] = ..., size_bytes: _Optional[int] = ..., container: _Optional[str] = ...) -> None: ...
