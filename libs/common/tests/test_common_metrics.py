"""The shared metrics move when the code they measure runs: job and step durations, consumer lag
read from a real JetStream server, gRPC server counters, micro-batcher timings, GPU families."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

import grpc
import pytest
from prometheus_client import REGISTRY, generate_latest

from clipsift.events.v1 import events_pb2
from clipsift_common.batching import MicroBatcher
from clipsift_common.events import EventBus, make_event, poll_consumer_lag, pull_loop
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from clipsift_common.settings import GrpcServerSettings, WorkerSettings
from clipsift_common.worker import JobContext, JobFailed, JobWorker

STREAM = "CLIPSIFT_JOBS"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def _request(bus: EventBus, kind: str) -> str:
    job_id = str(uuid.uuid4())
    await bus.publish(
        make_event(
            job_id=job_id,
            tenant_id="acme",
            kind=kind,
            event_type=events_pb2.EVENT_TYPE_REQUESTED,
            key="requested",
        )
    )
    return job_id


async def _until(check: Any, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


@pytest.mark.integration
async def test_consumer_lag_is_read_from_jetstream(bus: EventBus) -> None:
    durable = f"lag-{uuid.uuid4().hex[:8]}"
    subscription = await bus.durable_consumer(durable, "jobs.lagtest.requested.>", ack_wait_seconds=30)
    for _ in range(3):
        await _request(bus, "lagtest")
    poller = asyncio.create_task(poll_consumer_lag(subscription, 0.05))
    try:
        await _until(lambda: sample("clipsift_nats_consumer_pending", stream=STREAM, consumer=durable) == 3)
        fetched = await subscription.fetch(2, timeout=5)  # delivered, not acknowledged
        await _until(lambda: sample("clipsift_nats_consumer_pending", stream=STREAM, consumer=durable) == 1)
        assert sample("clipsift_nats_consumer_ack_pending", stream=STREAM, consumer=durable) == 2
        for msg in fetched:
            await msg.ack_sync()
        await _until(
            lambda: sample("clipsift_nats_consumer_ack_pending", stream=STREAM, consumer=durable) == 0
        )
    finally:
        poller.cancel()
        await subscription.unsubscribe()


@pytest.mark.integration
async def test_pull_loop_keeps_its_consumers_lag_current(bus: EventBus) -> None:
    durable = f"loop-{uuid.uuid4().hex[:8]}"
    subscription = await bus.durable_consumer(durable, "jobs.looptest.requested.>", ack_wait_seconds=30)
    stop = asyncio.Event()
    handled: list[int] = []

    async def handle(msgs: list[Any]) -> None:
        for msg in msgs:
            await msg.ack()
        handled.append(len(msgs))

    await _request(bus, "looptest")
    loop = asyncio.create_task(
        pull_loop(subscription, handle, stop, fetch_timeout=0.1, lag_poll_seconds=0.05)
    )
    try:
        await _until(lambda: sum(handled) == 1)
        await _until(
            lambda: (
                REGISTRY.get_sample_value(
                    "clipsift_nats_consumer_pending", {"stream": STREAM, "consumer": durable}
                )
                == 0
            )
        )
    finally:
        stop.set()
        await asyncio.wait_for(loop, 5)


@pytest.mark.integration
async def test_worker_records_job_and_step_durations(bus: EventBus) -> None:
    kind = f"metrics{uuid.uuid4().hex[:6]}"

    async def handler(ctx: JobContext) -> Mapping[str, Any]:
        if ctx.options.get("fail"):
            raise JobFailed("bad input")
        await ctx.progress("first", 0.2)
        await asyncio.sleep(0.05)
        await ctx.progress("second", 0.6)  # ends "first"
        await asyncio.sleep(0.02)
        return {"ok": True}  # the end of the job ends "second"

    worker = JobWorker(bus, kind, f"worker-{kind}", handler, WorkerSettings(worker_ack_wait_seconds=5))
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await _request(bus, kind)
        await _until(lambda: sample("clipsift_jobs_finished_total", kind=kind, outcome="completed") == 1)
        await bus.publish(
            make_event(
                job_id=str(uuid.uuid4()),
                tenant_id="acme",
                kind=kind,
                event_type=events_pb2.EVENT_TYPE_REQUESTED,
                key="requested",
                payload={"fail": True},
            )
        )
        await _until(lambda: sample("clipsift_jobs_finished_total", kind=kind, outcome="failed") == 1)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert sample("clipsift_jobs_started_total", kind=kind) == 2
    assert sample("clipsift_jobs_in_progress", kind=kind) == 0
    assert sample("clipsift_job_duration_seconds_count", kind=kind, outcome="completed") == 1
    assert sample("clipsift_job_duration_seconds_sum", kind=kind, outcome="completed") >= 0.07
    assert sample("clipsift_job_duration_seconds_count", kind=kind, outcome="failed") == 1
    assert sample("clipsift_job_step_seconds_count", kind=kind, step="first") == 1
    assert sample("clipsift_job_step_seconds_sum", kind=kind, step="first") >= 0.05
    assert sample("clipsift_job_step_seconds_count", kind=kind, step="second") == 1
    assert sample("clipsift_events_published_total", kind=kind, type="completed") == 1
    assert sample("clipsift_events_published_total", kind=kind, type="failed") == 1


class _Echo:
    async def call(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        if request == b"bad":
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad request")
        return request


def _add(servicer: _Echo, server: grpc.aio.Server) -> None:
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "test.Metrics", {"Call": grpc.unary_unary_rpc_method_handler(servicer.call)}
            )
        ]
    )


async def test_grpc_server_counts_started_handled_and_in_flight() -> None:
    server = GrpcServer(
        GrpcServerSettings(grpc_port=0, grpc_host="127.0.0.1", grpc_grace_seconds=0),
        [ServiceBinding(_add, _Echo(), "test.Metrics")],
    )
    port = await server.start()
    labels = {"grpc_service": "test.Metrics", "grpc_method": "Call"}
    before = {name: sample(name, **labels) for name in ("clipsift_grpc_server_started_total",)}
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary("/test.Metrics/Call")
            assert await call(b"hi") == b"hi"
            with pytest.raises(grpc.aio.AioRpcError):
                await call(b"bad")
    finally:
        await server.stop()
    assert (
        sample("clipsift_grpc_server_started_total", **labels) - before["clipsift_grpc_server_started_total"]
        == 2
    )
    assert sample("clipsift_grpc_server_in_flight", **labels) == 0
    assert sample("clipsift_grpc_server_handled_total", **labels, grpc_code="OK") >= 1
    assert sample("clipsift_grpc_server_handled_total", **labels, grpc_code="INVALID_ARGUMENT") >= 1


async def test_batcher_times_batches_and_queueing() -> None:
    def slow_double(items: list[int]) -> list[int]:
        import time

        time.sleep(0.05)
        return [2 * i for i in items]

    async with MicroBatcher(slow_double, max_batch=4, max_wait_ms=20, name="t-timing") as batcher:
        assert await asyncio.gather(*(batcher.submit(i) for i in range(4))) == [0, 2, 4, 6]
    assert sample("clipsift_batch_seconds_count", batcher="t-timing") == 1
    assert sample("clipsift_batch_seconds_sum", batcher="t-timing") >= 0.05
    assert sample("clipsift_batch_wait_seconds_count", batcher="t-timing") == 4


def test_gpu_families_are_exported_even_without_a_gpu() -> None:
    text = generate_latest().decode()
    for name in (
        "clipsift_gpu_utilization_ratio",
        "clipsift_gpu_memory_used_bytes",
        "clipsift_gpu_memory_total_bytes",
    ):
        assert f"# TYPE {name} gauge" in text


@pytest.mark.gpu
def test_gpu_collector_reports_each_cuda_device() -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU on this machine")
    tensor = torch.ones((1024, 1024), device="cuda")
    used = sample("clipsift_gpu_memory_used_bytes", device=f"0:{torch.cuda.get_device_name(0)}")
    assert used >= tensor.numel() * tensor.element_size()
    assert sample("clipsift_gpu_memory_total_bytes", device=f"0:{torch.cuda.get_device_name(0)}") > used
