"""One module per ``clipsift`` command; each registers its own subcommand (in ``clipsift --help`` order)."""

from __future__ import annotations

from types import ModuleType

from . import analyze, clip, compare, dedup, index, job, keys, models, predict, train, up, upload

COMMANDS: tuple[ModuleType, ...] = (
    up,
    keys,
    clip,
    upload,
    compare,
    analyze,
    train,
    predict,
    models,
    dedup,
    job,
    index,
)
