"""Analytics fixtures: a migrated database, an ingester on its own NATS connection, a gRPC server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import grpc
import pytest
from nats.js.errors import NotFoundError
from psycopg_pool import AsyncConnectionPool

from analytics_svc.ingest import EventIngester
from analytics_svc.servicer import AnalyticsServicer
from analytics_svc.settings import AnalyticsSettings
from clipsift.analytics.v1 import analytics_pb2_grpc
from clipsift.events.v1 import events_pb2
from clipsift_common.db import migrate, open_pool
from clipsift_common.events import EventBus, make_event
from clipsift_common.grpc_server import GrpcServer, ServiceBinding

STREAM = "CLIPSIFT_JOBS"
MIGRATIONS = "analytics_svc.migrations"


def analytics_settings(nats_url: str, database_url: str, blob_dir: Path) -> AnalyticsSettings:
    return AnalyticsSettings(
        nats_url=nats_url,
        database_url=database_url,
        blob_dir=blob_dir,
        grpc_port=0,
        grpc_host="127.0.0.1",
        grpc_grace_seconds=0,
    )


@pytest.fixture
async def pool(database_url: str, nats_url: str, tmp_path: Path) -> AsyncIterator[AsyncConnectionPool]:
    """A pool on a fresh database with the analytics migrations applied."""
    assert await migrate(database_url, "analytics", MIGRATIONS) == [1, 2]
    opened = await open_pool(analytics_settings(nats_url, database_url, tmp_path))
    yield opened
    await opened.close()


async def stored_ids(pool: AsyncConnectionPool) -> list[str]:
    """Every stored event id, duplicates included (the list, not a set)."""
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT event_id::text FROM job_events")
        return [row[0] for row in await cur.fetchall()]


def job_history(
    job_id: str,
    tenant: str,
    kind: str = "dedup",
    *,
    progress: tuple[float, ...] = (0.1, 0.5),
    terminal: str | None = "completed",
    created: datetime | None = None,
) -> list[events_pb2.JobEvent]:
    """The events a job goes through: requested, progress..., then completed/failed (or none)."""
    common = {"job_id": job_id, "tenant_id": tenant, "kind": kind, "job_created_at": created}
    events = [
        make_event(event_type=events_pb2.EVENT_TYPE_REQUESTED, key="requested", step="queued", **common)
    ]
    for fraction in progress:
        events.append(
            make_event(
                event_type=events_pb2.EVENT_TYPE_PROGRESS,
                key=f"progress/{int(fraction * 100)}",
                progress=fraction,
                step="minhash",
                **common,
            )
        )
    if terminal == "completed":
        events.append(
            make_event(
                event_type=events_pb2.EVENT_TYPE_COMPLETED,
                key="completed",
                progress=1.0,
                step="done",
                payload={"clusters": 2},
                **common,
            )
        )
    elif terminal == "failed":
        events.append(
            make_event(
                event_type=events_pb2.EVENT_TYPE_FAILED, key="failed", step="failed", message="boom", **common
            )
        )
    return events


@dataclass
class RunningIngester:
    """An EventIngester on its own NATS connection, as one analytics replica would run it."""

    bus: EventBus
    ingester: EventIngester
    stop_event: asyncio.Event
    task: asyncio.Task[None]
    batches: list[list[str]] = field(default_factory=list)

    async def stop(self) -> None:
        """Graceful stop: the loop finishes its current batch and returns."""
        self.stop_event.set()
        await asyncio.wait_for(self.task, 10)
        await self.bus.close()

    async def crash(self) -> None:
        """Kill it: cancel wherever it is and drop the connection without draining."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.bus.nc.close()


StoreWrapper = Callable[[Callable[..., Awaitable[None]]], Callable[..., Awaitable[None]]]


@pytest.fixture
async def start_ingester(
    nats_url: str, pool: AsyncConnectionPool, bus: EventBus
) -> AsyncIterator[Callable[..., Awaitable[RunningIngester]]]:
    """Factory: start an ingester on the durable ``durable``; ``wrap`` may intercept its ``store``."""
    started: list[RunningIngester] = []

    async def start(
        *,
        durable: str = "analytics-test",
        batch: int = 8,
        ack_wait: float = 1.0,
        wrap: StoreWrapper | None = None,
    ) -> RunningIngester:
        own_bus = await EventBus.connect(nats_url, name="analytics-test", stream=STREAM, max_age_seconds=3600)
        ingester = EventIngester(own_bus, pool, durable, batch, ack_wait)
        original = ingester.store
        batches: list[list[str]] = []

        async def recording_store(msgs: list[object]) -> None:
            batches.append([m.subject for m in msgs])  # type: ignore[attr-defined]
            await original(msgs)  # type: ignore[arg-type]

        ingester.store = wrap(recording_store) if wrap else recording_store  # type: ignore[method-assign]
        stop = asyncio.Event()
        running = RunningIngester(own_bus, ingester, stop, asyncio.create_task(ingester.run(stop)), batches)
        started.append(running)
        return running

    yield start
    for running in started:
        if not running.task.done():
            await running.crash()
        elif not running.bus.nc.is_closed:
            await running.bus.nc.close()


async def consumer_settled(bus: EventBus, durable: str, stream_messages: int) -> bool:
    """True once the durable has been delivered every stream message and has acked all of them."""
    try:
        info = await bus.js.consumer_info(STREAM, durable)
    except NotFoundError:  # the ingester has not created it yet
        return False
    return (
        info.num_pending == 0
        and info.num_ack_pending == 0
        and info.ack_floor is not None
        and info.ack_floor.stream_seq == stream_messages
    )


# Test modules cannot import this conftest (importlib import mode), so helpers travel as fixtures
# (``eventually`` is a clipsift_testing fixture).
@pytest.fixture(name="stored_ids")
def stored_ids_fixture() -> Callable[[AsyncConnectionPool], Awaitable[list[str]]]:
    return stored_ids


@pytest.fixture(name="job_history")
def job_history_fixture() -> Callable[..., list[events_pb2.JobEvent]]:
    return job_history


@pytest.fixture(name="consumer_settled")
def consumer_settled_fixture() -> Callable[[EventBus, str, int], Awaitable[bool]]:
    return consumer_settled


@pytest.fixture
async def serve_servicer(
    nats_url: str, database_url: str, tmp_path: Path
) -> AsyncIterator[Callable[[AnalyticsServicer], Awaitable[grpc.aio.Channel]]]:
    """Factory: a gRPC server (port 0) with only this servicer mounted, and a channel to it. Not
    wiring.build: the tests run their own ingester (durable, batch, wrapped store) and choose the
    servicer's parts and limits, so production's ingester and scheduler must not run beside them."""
    opened: list[tuple[GrpcServer, grpc.aio.Channel]] = []

    async def serve(servicer: AnalyticsServicer) -> grpc.aio.Channel:
        binding = ServiceBinding(analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server, servicer)
        server = GrpcServer(analytics_settings(nats_url, database_url, tmp_path), [binding])
        port = await server.start()
        await server.set_serving()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        opened.append((server, channel))
        return channel

    yield serve
    for server, channel in opened:
        await channel.close()
        await server.stop()
