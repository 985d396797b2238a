"""Run the audio service until SIGTERM."""

from __future__ import annotations

from clipsift_common.service import serve

from .settings import AudioSettings
from .wiring import build

if __name__ == "__main__":
    settings = AudioSettings()  # type: ignore[call-arg]  # required values come from the environment
    serve("audio", settings, lambda: build(settings))
