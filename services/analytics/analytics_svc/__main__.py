"""Wiring only: migrate, connect, then serve queries, ingest events and render scheduled reports
until SIGTERM."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from clipsift.analytics.v1 import analytics_pb2_grpc
from clipsift_common.blobstore import LocalBlobStore
from clipsift_common.db import migrate, open_pool
from clipsift_common.events import EventBus
from clipsift_common.grpc_server import GrpcServer, ServiceBinding, run_service
from clipsift_common.logging import configure_logging
from clipsift_common.metrics import serve_metrics
from clipsift_common.telemetry import configure_telemetry, shutdown_telemetry

from .ingest import EventIngester
from .partitions import Partitions
from .queries import EventQueries, UsageQueries
from .report_store import ReportStore
from .reports import ReportRenderer
from .scheduler import ReportScheduler
from .servicer import AnalyticsServicer
from .settings import AnalyticsSettings

MIGRATIONS = "analytics_svc.migrations"


async def main(settings: AnalyticsSettings) -> None:
    await migrate(settings.database_url, "analytics", MIGRATIONS)
    pool = await open_pool(settings)
    partitions = Partitions(pool, settings.partition_months_ahead)
    await partitions.ensure_ahead()
    bus = await EventBus.from_settings(settings, name="analytics")
    usage = UsageQueries(pool, settings.max_failure_rows)
    renderer = ReportRenderer(usage)
    reports = ReportStore(pool, LocalBlobStore(settings.blob_dir))
    server = GrpcServer(
        settings,
        [
            ServiceBinding(
                analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server,
                AnalyticsServicer(
                    EventQueries(pool),
                    usage,
                    renderer,
                    reports,
                    default_range=timedelta(days=settings.default_range_days),
                    max_buckets=settings.max_buckets,
                    max_report_list=settings.max_report_list,
                ),
                "clipsift.analytics.v1.AnalyticsService",
            )
        ],
    )
    ingester = EventIngester(
        bus,
        pool,
        settings.consumer_name,
        settings.ingest_batch_size,
        settings.ingest_ack_wait_seconds,
        partitions,
        settings.ingest_max_attempts,
    )
    background: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = [ingester.run]
    if settings.report_interval_seconds:
        scheduler = ReportScheduler(
            pool,
            renderer,
            reports,
            interval=timedelta(seconds=settings.report_interval_seconds),
            bucket=settings.report_bucket,
            formats=settings.report_formats,
            check_every=settings.report_check_seconds,
            partitions=partitions,
        )
        background.append(scheduler.run)

    async def load() -> None:
        return None

    await run_service(server, load, background=background, cleanup=[bus.close, pool.close])


if __name__ == "__main__":
    settings = AnalyticsSettings()  # type: ignore[call-arg]  # required values come from the environment
    configure_logging("analytics", settings.log_level)
    configure_telemetry("analytics", settings)
    serve_metrics(settings.metrics_port)
    try:
        asyncio.run(main(settings))
    finally:
        shutdown_telemetry()
