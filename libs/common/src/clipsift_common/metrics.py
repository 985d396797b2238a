"""Prometheus metrics shared by every service, defined once so names never drift."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

GRPC_SERVER_HANDLED = Counter(
    "clipsift_grpc_server_handled_total", "RPCs completed by the server", ["service", "method", "code"]
)
GRPC_SERVER_LATENCY = Histogram(
    "clipsift_grpc_server_handling_seconds",
    "Server-side RPC latency",
    ["service", "method"],
    buckets=LATENCY_BUCKETS,
)
GRPC_CLIENT_HANDLED = Counter(
    "clipsift_grpc_client_handled_total", "RPCs completed by clients", ["target", "method", "code"]
)
GRPC_CLIENT_LATENCY = Histogram(
    "clipsift_grpc_client_handling_seconds",
    "Client-side RPC latency",
    ["target", "method"],
    buckets=LATENCY_BUCKETS,
)
CIRCUIT_BREAKER_OPEN = Gauge(
    "clipsift_circuit_breaker_open", "1 while the circuit breaker to a target is open", ["target"]
)
JOB_STEP_SECONDS = Histogram(
    "clipsift_job_step_seconds", "Duration of one job step", ["kind", "step"], buckets=LATENCY_BUCKETS
)
JOBS_FINISHED = Counter("clipsift_jobs_finished_total", "Jobs finished by workers", ["kind", "outcome"])
EVENTS_INGESTED = Counter("clipsift_events_ingested_total", "Job events written to PostgreSQL", ["result"])
BATCH_SIZE = Histogram(
    "clipsift_batch_size",
    "Items per batch run by a micro-batcher",
    ["batcher"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
BATCH_QUEUE_DEPTH = Gauge(
    "clipsift_batch_queue_depth", "Items waiting for a micro-batcher's next batch", ["batcher"]
)


def serve_metrics(port: int) -> None:
    """Expose /metrics on its own port (gRPC services have no HTTP server of their own)."""
    if port:
        start_http_server(port)
