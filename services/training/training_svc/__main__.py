"""Run the training service until SIGTERM."""

from __future__ import annotations

from clipsift_common.service import serve

from .settings import TrainingSettings
from .wiring import build

if __name__ == "__main__":
    settings = TrainingSettings()  # type: ignore[call-arg]  # required values come from the environment
    if settings.torch_threads:
        import torch

        torch.set_num_threads(settings.torch_threads)
    serve("training", settings, lambda: build(settings))
