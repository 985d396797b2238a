"""One request, one trace: spans from the gateway through NATS into the worker, and through gRPC.

The platform fixture runs the real gateway app, text gRPC server, dedup worker and analytics on
real NATS and PostgreSQL; spans go to an in-memory exporter on the process's tracer provider.
A trace is connected when it has one root and every other span's parent is in it.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from clipsift_common.logging import JsonFormatter
from clipsift_common.settings import ServiceSettings
from clipsift_common.telemetry import configure_telemetry

pytestmark = pytest.mark.integration

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """The in-memory exporter, attached once per process to the global tracer provider."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = configure_telemetry("clipsift-test", ServiceSettings())
    if not getattr(provider, "_clipsift_test_exporter", False):
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        provider._clipsift_test_exporter = True  # type: ignore[attr-defined]
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def _trace_of(spans: Sequence[ReadableSpan], trace_id: int) -> list[ReadableSpan]:
    return [s for s in spans if s.context is not None and s.context.trace_id == trace_id]


def _assert_connected(spans: Sequence[ReadableSpan]) -> ReadableSpan:
    """One root, and every other span's parent is a span of the same trace; returns the root."""
    ids = {s.context.span_id for s in spans if s.context is not None}
    roots = [s for s in spans if s.parent is None]
    assert len(roots) == 1, f"roots: {[s.name for s in roots]}"
    orphans = [s.name for s in spans if s.parent is not None and s.parent.span_id not in ids]
    assert not orphans, f"spans whose parent is missing from the trace: {orphans}"
    return roots[0]


def _one(spans: Sequence[ReadableSpan], name: str, kind: SpanKind | None = None) -> ReadableSpan:
    found = [s for s in spans if s.name == name and (kind is None or s.kind == kind)]
    assert len(found) == 1, f"{len(found)} spans named {name!r} in {sorted({s.name for s in spans})}"
    return found[0]


def _parent_of(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> ReadableSpan:
    assert span.parent is not None, f"{span.name} has no parent"
    return next(s for s in spans if s.context is not None and s.context.span_id == span.parent.span_id)


@pytest.fixture
def worker_log() -> Iterator[io.StringIO]:
    """The worker's JSON log lines, formatted as in production."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("text"))
    logger = logging.getLogger("clipsift_common.worker")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous)


async def test_dedup_job_is_one_connected_trace_from_rest_through_nats_into_the_worker(
    platform, corpus, spans, worker_log, eventually: Callable[..., Awaitable[None]]
) -> None:
    documents = [
        {"id": "a", "text": corpus.original},
        {"id": "b", "text": corpus.near_copy},
        {"id": "c", "text": corpus.unrelated},
    ]
    body = "".join(json.dumps(d) + "\n" for d in documents).encode()
    submitted = await platform.submit("acme", body, "application/jsonl")
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["id"]
    assert (await platform.wait_job(job_id, "acme"))["status"] == "completed"

    def finished() -> list[ReadableSpan]:
        return [s for s in spans.get_finished_spans() if s.name == "POST /v1/jobs"]

    async def projected_completion() -> bool:
        # The projector's span for the completed event ends just after the job row turns completed.
        (post,) = finished()
        assert post.context is not None
        trace_spans = _trace_of(spans.get_finished_spans(), post.context.trace_id)
        return any(
            s.name == "process job event"
            and str(s.attributes.get("messaging.destination.name", "")).startswith("jobs.dedup.completed.")
            for s in trace_spans
        )

    await eventually(projected_completion, within=10, what="the projector's span of the completed event")
    everything = spans.get_finished_spans()
    (post,) = finished()
    assert post.context is not None
    job_trace = _trace_of(everything, post.context.trace_id)

    # One tree, rooted at the gateway's HTTP server span.
    assert _assert_connected(job_trace) is post
    assert post.kind == SpanKind.SERVER

    # gateway -> NATS: the request event is published inside the HTTP request.
    requested = _one(job_trace, "send jobs.dedup.requested", SpanKind.PRODUCER)
    assert requested.attributes["messaging.destination.name"] == f"jobs.dedup.requested.{job_id}"
    assert requested.attributes["clipsift.job.id"] == job_id
    ancestor = _parent_of(requested, job_trace)
    while ancestor is not post:
        ancestor = _parent_of(ancestor, job_trace)

    # NATS -> worker: the job runs in a consumer span whose parent is the publish span.
    job = _one(job_trace, "process jobs.dedup.requested", SpanKind.CONSUMER)
    assert _parent_of(job, job_trace) is requested
    assert job.attributes["clipsift.job.id"] == job_id
    assert job.status.is_ok

    # The worker's steps and every event it publishes hang under the job span.
    steps = [s for s in job_trace if s.name.startswith("step ")]
    assert {s.name for s in steps} >= {"step parse", "step store"}
    assert all(_parent_of(s, job_trace) is job for s in steps)
    published = [s for s in job_trace if s.kind == SpanKind.PRODUCER and s is not requested]
    assert {s.name for s in published} == {"send jobs.dedup.progress", "send jobs.dedup.completed"}
    assert all(_parent_of(s, job_trace) is job for s in published)

    # worker -> NATS -> gateway projector: each event's projection continues the trace.
    projections = [s for s in job_trace if s.name == "process job event"]
    assert projections
    assert all(_parent_of(s, job_trace).kind == SpanKind.PRODUCER for s in projections)

    # Nothing of this job lives in another trace.
    of_job = [
        s
        for s in everything
        if s.attributes.get("clipsift.job.id") == job_id
        or str(s.attributes.get("messaging.destination.name", "")).endswith(job_id)
    ]
    assert {s.context.trace_id for s in of_job if s.context is not None} == {post.context.trace_id}

    # The worker's log lines carry the same (OpenTelemetry) trace id.
    lines = [json.loads(line) for line in worker_log.getvalue().splitlines()]
    completed = [line for line in lines if line["msg"] == "job completed" and line.get("job_id") == job_id]
    assert completed, lines
    assert completed[0]["trace_id"] == f"{post.context.trace_id:032x}"


async def test_rest_call_through_grpc_is_one_trace(platform, corpus, spans) -> None:
    documents = [{"id": "a", "text": corpus.original}, {"id": "b", "text": corpus.near_copy}]
    response = await platform.client.post(
        "/v1/text/duplicates", json={"documents": documents}, headers=platform.auth("acme")
    )
    assert response.status_code == 200, response.text
    everything = spans.get_finished_spans()
    post = _one(everything, "POST /v1/text/duplicates", SpanKind.SERVER)
    assert post.context is not None
    call_trace = _trace_of(everything, post.context.trace_id)
    assert _assert_connected(call_trace) is post
    method = "/clipsift.text.v1.TextService/FindDuplicates"
    client = _one(call_trace, method, SpanKind.CLIENT)
    server = _one(call_trace, method, SpanKind.SERVER)
    assert _parent_of(server, call_trace) is client
    assert server.attributes["rpc.grpc.status_code"] == 0
    # Health checks of the readiness probe never show up as spans.
    assert not [s for s in everything if "grpc.health" in s.name]


async def test_grpc_error_is_recorded_in_the_trace(platform, spans) -> None:
    response = await platform.client.post(
        "/v1/text/analyze", json={"text": "... ?!"}, headers=platform.auth("acme")
    )
    assert response.status_code == 400, response.text
    assert "no words" in response.json()["detail"]
    everything = spans.get_finished_spans()
    post = _one(everything, "POST /v1/text/analyze", SpanKind.SERVER)
    assert post.context is not None
    call_trace = _trace_of(everything, post.context.trace_id)
    assert _assert_connected(call_trace) is post
    method = "/clipsift.text.v1.TextAnalysisService/Analyze"
    server = _one(call_trace, method, SpanKind.SERVER)
    client = _one(call_trace, method, SpanKind.CLIENT)
    assert _parent_of(server, call_trace) is client
    for span in (client, server):
        assert span.attributes["rpc.grpc.status_code"] == 3  # INVALID_ARGUMENT
    # OpenTelemetry's convention: a caller's error is an error of the client span; the server only
    # marks its span for its own faults (INTERNAL, UNAVAILABLE, ...), not for a bad request.
    assert not client.status.is_ok
