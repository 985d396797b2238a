"""Wiring only: migrate, connect, then serve queries and ingest events until SIGTERM."""

from __future__ import annotations

import asyncio

from clipsift.analytics.v1 import analytics_pb2_grpc
from clipsift_common.db import migrate, open_pool
from clipsift_common.events import EventBus
from clipsift_common.grpc_server import GrpcServer, ServiceBinding, run_service
from clipsift_common.logging import configure_logging
from clipsift_common.metrics import serve_metrics

from .ingest import EventIngester
from .queries import EventQueries
from .servicer import AnalyticsServicer
from .settings import AnalyticsSettings

MIGRATIONS = "analytics_svc.migrations"


async def main(settings: AnalyticsSettings) -> None:
    await migrate(settings.database_url, "analytics", MIGRATIONS)
    pool = await open_pool(settings)
    bus = await EventBus.from_settings(settings, name="analytics")
    server = GrpcServer(
        settings,
        [
            ServiceBinding(
                analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server,
                AnalyticsServicer(EventQueries(pool)),
                "clipsift.analytics.v1.AnalyticsService",
            )
        ],
    )
    ingester = EventIngester(
        bus, pool, settings.consumer_name, settings.ingest_batch_size, settings.ingest_ack_wait_seconds
    )

    async def load() -> None:
        return None

    await run_service(server, load, background=[ingester.run], cleanup=[bus.close, pool.close])


if __name__ == "__main__":
    settings = AnalyticsSettings()  # type: ignore[call-arg]  # required values come from the environment
    configure_logging("analytics", settings.log_level)
    serve_metrics(settings.metrics_port)
    asyncio.run(main(settings))
