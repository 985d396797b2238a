"""Tracing plumbing: OTLP export to a real OTLP/gRPC receiver, W3C propagation through message
headers and gRPC (unary and streaming), and trace ids in log lines."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from clipsift_common.grpc_client import ServiceClient
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from clipsift_common.logging import JsonFormatter
from clipsift_common.settings import GrpcServerSettings, ServiceSettings
from clipsift_common.telemetry import build_tracer_provider, extract_context, inject_headers

SERVICE = "test.Traced"


class _Receiver(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
    """An OTLP/gRPC trace receiver, as a collector runs one on :4317."""

    def __init__(self) -> None:
        self.requests: list[trace_service_pb2.ExportTraceServiceRequest] = []

    async def Export(self, request, context):
        self.requests.append(request)
        return trace_service_pb2.ExportTraceServiceResponse()


async def test_spans_are_exported_over_otlp_when_an_endpoint_is_set() -> None:
    receiver = _Receiver()
    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(receiver, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        provider = build_tracer_provider("text", ServiceSettings(otlp_endpoint=f"http://127.0.0.1:{port}"))
        tracer = provider.get_tracer("test")
        with tracer.start_as_current_span("outer") as outer, tracer.start_as_current_span("inner"):
            pass
        # The exporter is synchronous gRPC: flush from a thread so this loop can serve the receiver.
        assert await asyncio.to_thread(provider.force_flush, 10_000)
        provider.shutdown()
    finally:
        await server.stop(0)
    exported = [
        (resource_spans.resource, span)
        for request in receiver.requests
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]
    assert sorted(span.name for _, span in exported) == ["inner", "outer"]
    resource, _ = exported[0]
    assert {"key": "service.name", "value": "text"} in [
        {"key": a.key, "value": a.value.string_value} for a in resource.attributes
    ]
    trace_ids = {span.trace_id for _, span in exported}
    assert trace_ids == {outer.get_span_context().trace_id.to_bytes(16, "big")}


def test_no_endpoint_means_no_exporter_but_real_spans() -> None:
    provider = build_tracer_provider("text", ServiceSettings())
    assert not provider._active_span_processor._span_processors  # nothing leaves the process
    with provider.get_tracer("test").start_as_current_span("work") as span:
        assert span.get_span_context().is_valid


def test_trace_context_round_trips_through_message_headers() -> None:
    provider = TracerProvider()
    with provider.get_tracer("test").start_as_current_span("publish") as span:
        headers = inject_headers({"Nats-Msg-Id": "e1"})
    assert headers["Nats-Msg-Id"] == "e1"
    sent = span.get_span_context()
    version, trace_id, span_id, flags = headers["traceparent"].split("-")
    assert (version, trace_id, span_id) == ("00", f"{sent.trace_id:032x}", f"{sent.span_id:016x}")
    assert int(flags, 16) & 1  # sampled
    received = trace.get_current_span(extract_context(headers)).get_span_context()
    assert (received.trace_id, received.span_id, received.is_remote) == (sent.trace_id, sent.span_id, True)
    assert not trace.get_current_span(extract_context(None)).get_span_context().is_valid


def test_log_lines_carry_the_current_trace_and_span_ids() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("text"))
    logger = logging.getLogger("clipsift.test.telemetry")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with TracerProvider().get_tracer("test").start_as_current_span("work") as span:
            logger.warning("inside")
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    context = span.get_span_context()
    assert inside["trace_id"] == f"{context.trace_id:032x}"
    assert inside["span_id"] == f"{context.span_id:016x}"
    assert "trace_id" not in outside


class _Traced:
    """Unary and server-streaming handlers that report the trace they run in."""

    async def unary(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return f"{trace.get_current_span().get_span_context().trace_id:032x}".encode()

    async def stream(self, request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        for i in range(int(request)):
            yield f"{i}:{trace.get_current_span().get_span_context().trace_id:032x}".encode()


def _add(servicer: _Traced, server: grpc.aio.Server) -> None:
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                SERVICE,
                {
                    "Unary": grpc.unary_unary_rpc_method_handler(servicer.unary),
                    "Stream": grpc.unary_stream_rpc_method_handler(servicer.stream),
                },
            )
        ]
    )


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    """An in-memory exporter on the global provider (installed once per process)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = build_tracer_provider("clipsift-test", ServiceSettings())
        trace.set_tracer_provider(provider)
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return memory


async def test_grpc_calls_continue_the_callers_trace_unary_and_streaming(
    exporter: InMemorySpanExporter,
) -> None:
    server = GrpcServer(
        GrpcServerSettings(grpc_port=0, grpc_host="127.0.0.1", grpc_grace_seconds=0),
        [ServiceBinding(_add, _Traced(), SERVICE)],
    )
    port = await server.start()
    await server.set_serving()
    client = ServiceClient(f"127.0.0.1:{port}", deadline_seconds=5)
    tracer = trace.get_tracer("test")
    try:
        with tracer.start_as_current_span("caller") as caller:
            unary = await client.call(client.channel.unary_unary(f"/{SERVICE}/Unary"), b"")
            streamed = [
                item async for item in client.stream(client.channel.unary_stream(f"/{SERVICE}/Stream"), b"3")
            ]
    finally:
        await client.close()
        await server.stop()
    trace_id = f"{caller.get_span_context().trace_id:032x}"
    assert unary.decode() == trace_id
    assert [item.decode() for item in streamed] == [f"{i}:{trace_id}" for i in range(3)]
    spans = [s for s in exporter.get_finished_spans() if s.name.startswith(f"/{SERVICE}/")]
    by_kind = {(s.name.rsplit("/", 1)[1], s.kind): s for s in spans}
    assert set(by_kind) == {(m, k) for m in ("Unary", "Stream") for k in (SpanKind.CLIENT, SpanKind.SERVER)}
    for method in ("Unary", "Stream"):
        client_span, server_span = by_kind[(method, SpanKind.CLIENT)], by_kind[(method, SpanKind.SERVER)]
        assert client_span.parent is not None
        assert client_span.parent.span_id == caller.get_span_context().span_id
        assert server_span.parent is not None
        assert server_span.parent.span_id == client_span.context.span_id
