"""Prometheus metrics shared by every service, defined once so names never drift.

Label names avoid the target labels Prometheus adds when it scrapes a Kubernetes pod (``job``,
``instance``, ``service``, ``pod``, ``namespace``, ``container``, ``endpoint``): a clash would
rename ours to ``exported_*``. gRPC labels therefore follow the go-grpc-prometheus convention
(``grpc_service``, ``grpc_method``, ``grpc_code``).

Process CPU and memory (``process_cpu_seconds_total``, ``process_resident_memory_bytes``) come
from prometheus_client's default collectors; GPU use comes from ``GpuCollector`` below.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, Info, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
# Jobs run from seconds (a small dedup) to an hour (a long video's clips).
JOB_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)
_GRPC_SERVER = ["grpc_service", "grpc_method"]
_GRPC_CLIENT = ["target", "grpc_method"]

SERVICE_INFO = Info("clipsift_service", "The clipsift service running in this process")

GRPC_SERVER_STARTED = Counter(
    "clipsift_grpc_server_started_total", "RPCs started on the server", _GRPC_SERVER
)
GRPC_SERVER_HANDLED = Counter(
    "clipsift_grpc_server_handled_total", "RPCs completed by the server", [*_GRPC_SERVER, "grpc_code"]
)
GRPC_SERVER_LATENCY = Histogram(
    "clipsift_grpc_server_handling_seconds", "Server-side RPC latency", _GRPC_SERVER, buckets=LATENCY_BUCKETS
)
GRPC_SERVER_IN_FLIGHT = Gauge(
    "clipsift_grpc_server_in_flight", "RPCs being handled by the server right now", _GRPC_SERVER
)
GRPC_CLIENT_HANDLED = Counter(
    "clipsift_grpc_client_handled_total", "RPCs completed by clients", [*_GRPC_CLIENT, "grpc_code"]
)
GRPC_CLIENT_LATENCY = Histogram(
    "clipsift_grpc_client_handling_seconds", "Client-side RPC latency", _GRPC_CLIENT, buckets=LATENCY_BUCKETS
)
CIRCUIT_BREAKER_STATE = Gauge(
    "clipsift_circuit_breaker_state",
    "Circuit breaker to a target: 0 closed, 1 half-open (probing), 2 open (failing fast)",
    ["target"],
)
CIRCUIT_BREAKER_TRANSITIONS = Counter(
    "clipsift_circuit_breaker_transitions_total", "Circuit breaker state changes", ["target", "state"]
)
JOB_STEP_SECONDS = Histogram(
    "clipsift_job_step_seconds", "Duration of one job step", ["kind", "step"], buckets=LATENCY_BUCKETS
)
JOB_SECONDS = Histogram(
    "clipsift_job_duration_seconds",
    "Duration of one job attempt, from pickup to its final event",
    ["kind", "outcome"],
    buckets=JOB_BUCKETS,
)
JOBS_STARTED = Counter("clipsift_jobs_started_total", "Job attempts picked up by workers", ["kind"])
JOBS_IN_PROGRESS = Gauge("clipsift_jobs_in_progress", "Jobs being run by this worker right now", ["kind"])
JOBS_FINISHED = Counter("clipsift_jobs_finished_total", "Jobs finished by workers", ["kind", "outcome"])
EVENTS_INGESTED = Counter("clipsift_events_ingested_total", "Job events written to PostgreSQL", ["result"])
EVENTS_PUBLISHED = Counter(
    "clipsift_events_published_total", "Job events published to JetStream", ["kind", "type"]
)
BATCH_SIZE = Histogram(
    "clipsift_batch_size",
    "Items per batch run by a micro-batcher",
    ["batcher"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
BATCH_QUEUE_DEPTH = Gauge(
    "clipsift_batch_queue_depth", "Items waiting for a micro-batcher's next batch", ["batcher"]
)
BATCH_SECONDS = Histogram(
    "clipsift_batch_seconds",
    "Time a micro-batcher's batch function takes",
    ["batcher"],
    buckets=LATENCY_BUCKETS,
)
BATCH_WAIT_SECONDS = Histogram(
    "clipsift_batch_wait_seconds",
    "Time an item waits in a micro-batcher's queue before its batch runs",
    ["batcher"],
    buckets=LATENCY_BUCKETS,
)
_CONSUMER = ["stream", "consumer"]
NATS_CONSUMER_PENDING = Gauge(
    "clipsift_nats_consumer_pending",
    "Messages on the stream not yet delivered to a durable consumer",
    _CONSUMER,
)
NATS_CONSUMER_ACK_PENDING = Gauge(
    "clipsift_nats_consumer_ack_pending",
    "Messages delivered to a consumer and not yet acknowledged",
    _CONSUMER,
)
NATS_CONSUMER_REDELIVERED = Gauge(
    "clipsift_nats_consumer_redelivered",
    "Messages a consumer got more than once and has not acked",
    _CONSUMER,
)


class GpuCollector(Collector):
    """GPU utilisation and memory per CUDA device, read from torch at scrape time.

    Registered by every process but yields samples only where torch is already imported and sees
    a GPU: the families are still described (with no samples), so dashboards and their test know
    the names on CPU-only machines too. Importing torch just for a scrape would cost seconds.
    """

    def collect(self) -> Iterator[GaugeMetricFamily]:
        utilization = GaugeMetricFamily(
            "clipsift_gpu_utilization_ratio",
            "Share of the last sample period a kernel ran on the GPU (NVML)",
            labels=["device"],
        )
        used = GaugeMetricFamily(
            "clipsift_gpu_memory_used_bytes", "GPU memory held by this process's tensors", labels=["device"]
        )
        reserved = GaugeMetricFamily(
            "clipsift_gpu_memory_reserved_bytes",
            "GPU memory reserved by torch's caching allocator",
            labels=["device"],
        )
        total = GaugeMetricFamily(
            "clipsift_gpu_memory_total_bytes", "GPU memory of the device", labels=["device"]
        )
        for index, name, cuda in _cuda_devices():
            label = [f"{index}:{name}"]
            used.add_metric(label, float(cuda.memory_allocated(index)))
            reserved.add_metric(label, float(cuda.memory_reserved(index)))
            total.add_metric(label, float(cuda.get_device_properties(index).total_memory))
            percent = _utilization(cuda, index)
            if percent is not None:
                utilization.add_metric(label, percent / 100.0)
        yield from (utilization, used, reserved, total)


def _cuda_devices() -> list[tuple[int, str, Any]]:
    import sys

    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return []
    cuda = torch.cuda
    return [(i, str(cuda.get_device_name(i)), cuda) for i in range(cuda.device_count())]


def _utilization(cuda: Any, index: int) -> float | None:
    """NVML's utilisation through torch; None where NVML (nvidia-ml-py) is not installed."""
    try:
        return float(cuda.utilization(index))
    except Exception:
        return None


REGISTRY.register(GpuCollector())


def serve_metrics(port: int) -> int:
    """Expose /metrics on its own port (gRPC services have no HTTP server of their own).

    ``port`` 0 disables the listener. Returns the bound port (0 when disabled).
    """
    if not port:
        return 0
    server, _ = start_http_server(port)
    return int(server.server_port)


@contextlib.contextmanager
def metrics_listener(port: int, host: str = "0.0.0.0") -> Iterator[int]:
    """/metrics on its own port while the block runs (the gateway: never on its public port).

    ``port`` 0 serves nothing. Yields the bound port (0 when disabled); closed on exit.
    """
    if not port:
        yield 0
        return
    server, thread = start_http_server(port, addr=host)
    try:
        yield int(server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
