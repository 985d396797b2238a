"""Tracing: one OpenTelemetry setup for every service, and trace context across HTTP, gRPC and NATS.

A request's trace starts in the gateway's HTTP span, follows gRPC calls (W3C ``traceparent`` in
the call metadata) and job events (the same header on each NATS message), and continues in the
worker that runs the job, whose own gRPC calls and events stay in it. Spans are always created
and propagated, so every log line carries a trace id shared across services; they leave the
process only when ``otlp_endpoint`` is set (OTLP over gRPC, batched off the request path).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from .metrics import SERVICE_INFO
from .settings import ServiceSettings

log = logging.getLogger(__name__)

VERSION = "0.1.0"
# Probes and scrapes would otherwise start a trace each every few seconds.
_UNTRACED_URLS = "/healthz,/readyz,/metrics"

tracer = trace.get_tracer("clipsift")


def configure_telemetry(
    service: str, settings: ServiceSettings, *, processors: tuple[SpanProcessor, ...] = ()
) -> TracerProvider:
    """Install the process's tracer provider and its service info; call once, from ``__main__``."""
    SERVICE_INFO.info({"name": service, "version": VERSION})
    provider = build_tracer_provider(service, settings, processors=processors)
    trace.set_tracer_provider(provider)
    return provider


def build_tracer_provider(
    service: str, settings: ServiceSettings, *, processors: tuple[SpanProcessor, ...] = ()
) -> TracerProvider:
    """A tracer provider whose spans carry ``service.name`` = ``service``.

    With ``settings.otlp_endpoint`` set, spans are exported there; ``processors`` adds more (tests
    pass an in-memory exporter's). A sampled-out trace is still propagated, so a downstream
    service never starts a trace of its own for it.
    """
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: service, SERVICE_VERSION: VERSION}),
        sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
    )
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(
            endpoint=settings.otlp_endpoint,
            insecure=settings.otlp_endpoint.startswith("http://"),
            timeout=settings.otlp_timeout_seconds,
        )
        provider.add_span_processor(BatchSpanProcessor(exporter))
        log.info("exporting traces", extra={"otlp_endpoint": settings.otlp_endpoint})
    for processor in processors:
        provider.add_span_processor(processor)
    return provider


def shutdown_telemetry() -> None:
    """Flush spans still queued for export (called on the way out of a service)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()


def inject_headers(headers: dict[str, str], context: otel_context.Context | None = None) -> dict[str, str]:
    """Add the W3C trace context (``traceparent``, ``tracestate``) of ``context`` (default: the
    current one) to message headers, and return them."""
    propagate.inject(headers, context=context)
    return headers


def extract_context(headers: Mapping[str, str] | None) -> otel_context.Context:
    """The trace context carried by message headers (an empty context when there is none)."""
    return propagate.extract(dict(headers or {}))


def grpc_server_interceptor() -> Any:
    """Server spans for every RPC except health checks, continuing the caller's trace."""
    from opentelemetry.instrumentation.grpc import aio_server_interceptor, filters

    return aio_server_interceptor(filter_=filters.negate(filters.health_check()))  # type: ignore[no-untyped-call]


def grpc_client_interceptors() -> list[Any]:
    """Client spans for every RPC except health checks; they put the trace context in the metadata."""
    from opentelemetry.instrumentation.grpc import aio_client_interceptors, filters

    interceptors = aio_client_interceptors(filter_=filters.negate(filters.health_check()))  # type: ignore[no-untyped-call]
    return list(interceptors)


def instrument_fastapi(app: Any) -> None:
    """Server spans for HTTP requests and WebSockets (probes and scrapes excepted)."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, excluded_urls=_UNTRACED_URLS, exclude_spans=["receive", "send"])


def current_trace_id() -> str | None:
    """The current span's trace id as 32 hex digits, or None outside any span."""
    span_context = trace.get_current_span().get_span_context()
    return f"{span_context.trace_id:032x}" if span_context.is_valid else None
