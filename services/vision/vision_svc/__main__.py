"""Run the vision service until SIGTERM."""

from __future__ import annotations

from clipsift_common.service import serve

from .settings import VisionSettings
from .wiring import build

if __name__ == "__main__":
    settings = VisionSettings()
    serve("vision", settings, lambda: build(settings))
