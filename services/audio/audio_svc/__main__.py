"""Run the audio service until SIGTERM."""

from __future__ import annotations

from clipsift_common.service import serve

from .settings import AudioSettings
from .wiring import build

if __name__ == "__main__":
    settings = AudioSettings()  # every value from the environment (blob_url or blob_dir among them)
    serve("audio", settings, lambda: build(settings))
