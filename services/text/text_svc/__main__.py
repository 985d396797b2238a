"""Run the text service until SIGTERM."""

from __future__ import annotations

from clipsift_common.service import serve

from .predict.settings import PredictSettings
from .settings import TextSettings
from .wiring import build

if __name__ == "__main__":
    settings = TextSettings()  # type: ignore[call-arg]  # required values come from the environment
    predict_settings = PredictSettings()  # type: ignore[call-arg]
    serve("text", settings, lambda: build(settings, predict_settings))
