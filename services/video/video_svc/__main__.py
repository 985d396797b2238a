"""Run the video service until SIGTERM."""

from __future__ import annotations

from clipsift_common.service import serve

from .settings import VideoSettings
from .wiring import build

if __name__ == "__main__":
    settings = VideoSettings()  # type: ignore[call-arg]  # required values come from the environment
    serve("video", settings, lambda: build(settings))
