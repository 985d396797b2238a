import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RangeRequest(_message.Message):
    __slots__ = ("tenant_id", "since", "until", "bucket", "job_kind")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    JOB_KIND_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    bucket: str
    job_kind: str
    def __init__(self, tenant_id: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., bucket: _Optional[str] = ..., job_kind: _Optional[str] = ...) -> None: ...

class UsageRow(_message.Message):
    __slots__ = ("bucket", "tenant_id", "jobs_finished", "jobs_completed", "jobs_failed", "media_seconds", "documents", "clips")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    JOBS_FINISHED_FIELD_NUMBER: _ClassVar[int]
    JOBS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    JOBS_FAILED_FIELD_NUMBER: _ClassVar[int]
    MEDIA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    CLIPS_FIELD_NUMBER: _ClassVar[int]
    bucket: _timestamp_pb2.Timestamp
    tenant_id: str
    jobs_finished: int
    jobs_completed: int
    jobs_failed: int
    media_seconds: float
    documents: int
    clips: int
    def __init__(self, bucket: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tenant_id: _Optional[str] = ..., jobs_finished: _Optional[int] = ..., jobs_completed: _Optional[int] = ..., jobs_failed: _Optional[int] = ..., media_seconds: _Optional[float] = ..., documents: _Optional[int] = ..., clips: _Optional[int] = ...) -> None: ...

class UsageResponse(_message.Message):
    __slots__ = ("rows", "since", "until", "bucket")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[UsageRow]
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    bucket: str
    def __init__(self, rows: _Optional[_Iterable[_Union[UsageRow, _Mapping]]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., bucket: _Optional[str] = ...) -> None: ...

class ThroughputRow(_message.Message):
    __slots__ = ("bucket", "job_kind", "jobs_completed", "jobs_failed", "jobs_per_hour", "media_seconds_per_hour", "documents_per_hour")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    JOB_KIND_FIELD_NUMBER: _ClassVar[int]
    JOBS_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    JOBS_FAILED_FIELD_NUMBER: _ClassVar[int]
    JOBS_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    MEDIA_SECONDS_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    bucket: _timestamp_pb2.Timestamp
    job_kind: str
    jobs_completed: int
    jobs_failed: int
    jobs_per_hour: float
    media_seconds_per_hour: float
    documents_per_hour: float
    def __init__(self, bucket: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., job_kind: _Optional[str] = ..., jobs_completed: _Optional[int] = ..., jobs_failed: _Optional[int] = ..., jobs_per_hour: _Optional[float] = ..., media_seconds_per_hour: _Optional[float] = ..., documents_per_hour: _Optional[float] = ...) -> None: ...

class ThroughputResponse(_message.Message):
    __slots__ = ("rows", "since", "until", "bucket")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[ThroughputRow]
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    bucket: str
    def __init__(self, rows: _Optional[_Iterable[_Union[ThroughputRow, _Mapping]]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., bucket: _Optional[str] = ...) -> None: ...

class LatencyRow(_message.Message):
    __slots__ = ("bucket", "job_kind", "step", "samples", "p50_seconds", "p90_seconds", "p99_seconds", "mean_seconds", "max_seconds")
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    JOB_KIND_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    P50_SECONDS_FIELD_NUMBER: _ClassVar[int]
    P90_SECONDS_FIELD_NUMBER: _ClassVar[int]
    P99_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MEAN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    bucket: _timestamp_pb2.Timestamp
    job_kind: str
    step: str
    samples: int
    p50_seconds: float
    p90_seconds: float
    p99_seconds: float
    mean_seconds: float
    max_seconds: float
    def __init__(self, bucket: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., job_kind: _Optional[str] = ..., step: _Optional[str] = ..., samples: _Optional[int] = ..., p50_seconds: _Optional[float] = ..., p90_seconds: _Optional[float] = ..., p99_seconds: _Optional[float] = ..., mean_seconds: _Optional[float] = ..., max_seconds: _Optional[float] = ...) -> None: ...

class LatencyResponse(_message.Message):
    __slots__ = ("rows", "since", "until", "bucket")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    BUCKET_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[LatencyRow]
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    bucket: str
    def __init__(self, rows: _Optional[_Iterable[_Union[LatencyRow, _Mapping]]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., bucket: _Optional[str] = ...) -> None: ...

class FailureRow(_message.Message):
    __slots__ = ("job_kind", "reason", "jobs", "last_seen", "example_job_id", "example_message")
    JOB_KIND_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    job_kind: str
    reason: str
    jobs: int
    last_seen: _timestamp_pb2.Timestamp
    example_job_id: str
    example_message: str
    def __init__(self, job_kind: _Optional[str] = ..., reason: _Optional[str] = ..., jobs: _Optional[int] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., example_job_id: _Optional[str] = ..., example_message: _Optional[str] = ...) -> None: ...

class FailuresResponse(_message.Message):
    __slots__ = ("rows", "since", "until")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[FailureRow]
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    def __init__(self, rows: _Optional[_Iterable[_Union[FailureRow, _Mapping]]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RenderReportRequest(_message.Message):
    __slots__ = ("range", "format", "dataset")
    RANGE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    range: RangeRequest
    format: str
    dataset: str
    def __init__(self, range: _Optional[_Union[RangeRequest, _Mapping]] = ..., format: _Optional[str] = ..., dataset: _Optional[str] = ...) -> None: ...

class RenderedReport(_message.Message):
    __slots__ = ("filename", "content_type", "content")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    filename: str
    content_type: str
    content: bytes
    def __init__(self, filename: _Optional[str] = ..., content_type: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class StoredReport(_message.Message):
    __slots__ = ("id", "tenant_id", "period_start", "period_end", "format", "size_bytes", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    format: str
    size_bytes: int
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., format: _Optional[str] = ..., size_bytes: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListReportsRequest(_message.Message):
    __slots__ = ("tenant_id", "limit")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    limit: int
    def __init__(self, tenant_id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListReportsResponse(_message.Message):
    __slots__ = ("reports",)
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    reports: _containers.RepeatedCompositeFieldContainer[StoredReport]
    def __init__(self, reports: _Optional[_Iterable[_Union[StoredReport, _Mapping]]] = ...) -> None: ...

class GetReportRequest(_message.Message):
    __slots__ = ("tenant_id", "id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    id: str
    def __init__(self, tenant_id: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class SummaryRequest(_message.Message):
    __slots__ = ("tenant_id", "job_kind", "status", "since", "until")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    job_kind: str
    status: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    def __init__(self, tenant_id: _Optional[str] = ..., job_kind: _Optional[str] = ..., status: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SummaryRow(_message.Message):
    __slots__ = ("tenant_id", "job_kind", "status", "jobs", "events")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    job_kind: str
    status: str
    jobs: int
    events: int
    def __init__(self, tenant_id: _Optional[str] = ..., job_kind: _Optional[str] = ..., status: _Optional[str] = ..., jobs: _Optional[int] = ..., events: _Optional[int] = ...) -> None: ...

class SummaryResponse(_message.Message):
    __slots__ = ("rows", "total_jobs", "total_events")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_JOBS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_EVENTS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[SummaryRow]
    total_jobs: int
    total_events: int
    def __init__(self, rows: _Optional[_Iterable[_Union[SummaryRow, _Mapping]]] = ..., total_jobs: _Optional[int] = ..., total_events: _Optional[int] = ...) -> None: ...

class JobEventsRequest(_message.Message):
    __slots__ = ("tenant_id", "job_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    job_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., job_id: _Optional[str] = ...) -> None: ...

class StoredEvent(_message.Message):
    __slots__ = ("event_id", "type", "progress", "step", "message", "occurred_at")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: str
    progress: float
    step: str
    message: str
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[str] = ..., progress: _Optional[float] = ..., step: _Optional[str] = ..., message: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class JobEventsResponse(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[StoredEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[StoredEvent, _Mapping]]] = ...) -> None: ...
