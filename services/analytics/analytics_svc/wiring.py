"""The analytics service's one wiring, used by ``__main__`` and by the tests: migrate, connect,
then serve queries, ingest events and render scheduled reports."""

from __future__ import annotations

from datetime import timedelta

from clipsift.analytics.v1 import analytics_pb2_grpc
from clipsift_common.db import migrate, open_pool
from clipsift_common.events import EventBus
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from clipsift_common.objectstore import open_blob_store
from clipsift_common.service import Loop, Service

from .ingest import EventIngester
from .partitions import Partitions
from .queries import EventQueries, UsageQueries
from .report_store import ReportStore
from .reports import ReportRenderer
from .scheduler import ReportScheduler
from .servicer import AnalyticsServicer
from .settings import AnalyticsSettings

MIGRATIONS = "analytics_svc.migrations"


async def build(settings: AnalyticsSettings) -> Service:
    await migrate(settings.database_url, "analytics", MIGRATIONS)
    pool = await open_pool(settings)
    partitions = Partitions(pool, settings.partition_months_ahead)
    await partitions.ensure_ahead()
    bus = await EventBus.from_settings(settings, name="analytics")
    usage = UsageQueries(pool, settings.max_failure_rows)
    renderer = ReportRenderer(usage)
    reports = ReportStore(pool, open_blob_store(settings))
    servicer = AnalyticsServicer(
        EventQueries(pool),
        usage,
        renderer,
        reports,
        default_range=timedelta(days=settings.default_range_days),
        max_buckets=settings.max_buckets,
        max_report_list=settings.max_report_list,
    )
    server = GrpcServer(
        settings, [ServiceBinding(analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server, servicer)]
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
    background: dict[str, Loop] = {"ingest": ingester.run}
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
        background["reports"] = scheduler.run
    return Service(server, background=background, cleanup=[bus.close, pool.close])
