"""Wiring only: settings, logging, uvicorn."""

from __future__ import annotations

import uvicorn

from clipsift_common.logging import configure_logging
from clipsift_common.telemetry import configure_telemetry, shutdown_telemetry

from .app import create_app
from .settings import GatewaySettings

if __name__ == "__main__":
    settings = GatewaySettings()  # type: ignore[call-arg]  # required values come from the environment
    configure_logging("gateway", settings.log_level)
    configure_telemetry("gateway", settings)
    try:
        uvicorn.run(
            create_app(settings),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            timeout_graceful_shutdown=10,
        )
    finally:
        shutdown_telemetry()
