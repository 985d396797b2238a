"""Run the analytics service until SIGTERM."""

from __future__ import annotations

from clipsift_common.service import serve

from .settings import AnalyticsSettings
from .wiring import build

if __name__ == "__main__":
    settings = AnalyticsSettings()  # type: ignore[call-arg]  # required values come from the environment
    serve("analytics", settings, lambda: build(settings))
