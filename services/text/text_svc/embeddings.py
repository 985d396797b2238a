"""Sentence embeddings for semantic duplicates: one model, loaded once, batched across callers.

``EmbeddingModel`` is the model itself (synchronous, loaded from a local directory, never from a
hub). ``Embedder`` is what the service calls: it puts every text through one
``MicroBatcher``, so texts from concurrent requests share model calls.

Each model call tokenises its texts once, sorts them by token count and cuts forward passes by a
token budget (``embedding_batch_tokens``, at most ``embedding_batch_size`` texts), each trimmed
to its longest text: short texts run in wide batches, long ones in narrow ones, and padding
(computed but thrown away) stays small whatever mix of lengths the callers sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from clipsift_common.batching import MicroBatcher
from clipsift_common.errors import Unavailable

from .settings import TextSettings

Vectors = npt.NDArray[np.float32]

# The batcher hands the model up to this many model batches at once. sentence-transformers sorts
# one call's texts by length before cutting them into batches, so texts from different requests
# (short and long mixed) then share batches with texts of their own length: less padding computed.
BATCHES_PER_CALL = 4
# Tokens per forward pass when ``embedding_batch_tokens`` is unset. On 2 CPU cores (all-MiniLM-L6-v2,
# paragraphs of ~90 tokens) 1-2k tokens per pass ran ~10% faster than sentence-transformers' best
# fixed batch size and 2x faster than 16k (bench/README.md); a GPU wants wide passes.
DEFAULT_BATCH_TOKENS = {"cpu": 2048, "cuda": 65536}


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when torch sees a GPU, else ``cpu``; ``cuda`` without a GPU is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("embedding_device is 'cuda' but torch sees no CUDA device")
    return device


class EmbeddingModel:
    """A sentence-transformers model loaded from a local directory.

    Loading takes about a second on a CPU; do it once per process. ``encode`` is synchronous and
    not meant to run on the event loop (``Embedder`` runs it in the batcher's thread).
    """

    def __init__(self, path: str, device: str = "auto") -> None:
        # Imported here so that importing the service (settings, tests of other parts) does not
        # pay for torch.
        from sentence_transformers import SentenceTransformer

        directory = Path(path)
        # A missing directory would otherwise be taken for a hub model id and fail on the network.
        if not (directory / "modules.json").is_file():
            raise FileNotFoundError(f"no sentence-transformers model in {directory} (modules.json missing)")
        self.device = resolve_device(device)
        self._model = SentenceTransformer(str(directory), device=self.device, local_files_only=True)
        dimensions = self._model.get_embedding_dimension()
        if dimensions is None:
            raise RuntimeError(f"model in {directory} does not report its embedding size")
        self.dimensions: int = dimensions
        self._model.eval()
        tokenizer = getattr(self._model, "tokenizer", None)
        self._pads_right = getattr(tokenizer, "padding_side", "right") == "right"
        # The packaged model lives in a folder called "model"; its package's name says more.
        self.name = directory.parent.name if directory.name == "model" else directory.name

    def encode(self, texts: Sequence[str], batch_size: int) -> Vectors:
        """Unit-length embeddings of ``texts``, one float32 row per text, in order."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_by_tokens(self, texts: Sequence[str], max_texts: int, max_tokens: int) -> Vectors:
        """``encode``'s embeddings, with forward passes of at most ``max_texts`` texts and
        ``max_tokens`` tokens (texts x longest text, padding included; a text longer than the
        budget runs alone). One tokenisation for all texts, then batches of similar length."""
        import torch
        from sentence_transformers.util import batch_to_device

        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        n = len(texts)
        out = np.empty((n, self.dimensions), dtype=np.float32)
        device = torch.device(self.device)
        with torch.inference_mode():
            features = self._model.preprocess(list(texts))
            lengths = features["attention_mask"].sum(dim=1).numpy()
            order = np.argsort(-lengths, kind="stable")
            start = 0
            while start < n:
                longest = max(int(lengths[order[start]]), 1)
                rows = order[start : start + max(1, min(max_texts, max_tokens // longest))]
                batch = {key: self._rows(value, rows, longest, n) for key, value in features.items()}
                embedded = self._model(batch_to_device(batch, device))["sentence_embedding"]
                embedded = torch.nn.functional.normalize(embedded, p=2, dim=1)
                out[rows] = embedded.float().cpu().numpy()
                start += len(rows)
        return out

    def _rows(self, value: Any, rows: npt.NDArray[np.intp], longest: int, n: int) -> Any:
        """``rows`` of one per-text feature, cut to ``longest`` tokens when the tokenizer pads on
        the right (the padding beyond is all the cut removes); other features pass through."""
        import torch

        if not isinstance(value, torch.Tensor) or value.ndim == 0 or value.shape[0] != n:
            return value
        picked = value[torch.from_numpy(rows)]
        if picked.ndim == 2 and self._pads_right:
            return picked[:, :longest]
        return picked


class Embedder:
    """Embeds texts for the service with in-process dynamic batching.

    Built before the model loads (the server exists before ``load`` runs); ``load`` is called by
    ``__main__``'s load callback so health turns SERVING only once the model is in memory. Tests
    share one loaded ``EmbeddingModel`` between embedders with ``model=``.

    The batcher belongs to the event loop that first uses it; an ``Embedder`` serves one loop.
    """

    def __init__(self, settings: TextSettings, model: EmbeddingModel | None = None) -> None:
        self.settings = settings
        self._model = model
        self._batcher: MicroBatcher[str, Vectors] = MicroBatcher(
            self._embed_batch,
            max_batch=settings.embedding_batch_size * BATCHES_PER_CALL,
            max_wait_ms=settings.embedding_max_wait_ms,
            name="text-embed",
        )

    def load(self) -> None:
        """Load the configured model (blocking; call it in a thread)."""
        if self._model is None:
            self._model = EmbeddingModel(self.settings.embedding_model, self.settings.embedding_device)

    @property
    def model(self) -> EmbeddingModel:
        if self._model is None:
            raise Unavailable("the embedding model is not loaded yet")
        return self._model

    def _embed_batch(self, texts: list[str]) -> list[Vectors]:
        # One model call for the whole batcher batch; each caller gets its own row back.
        model = self.model
        budget = self.settings.embedding_batch_tokens or DEFAULT_BATCH_TOKENS.get(model.device, 2048)
        vectors = model.encode_by_tokens(texts, self.settings.embedding_batch_size, budget)
        return list(vectors)

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit-length embeddings of ``texts`` (one row per text, in order).

        Every text is its own batcher item (queued together, without a task per text), so a
        request's texts and those of concurrent requests fill the same model calls. Texts go in
        sorted by length, so a request larger than one call splits into calls of similar lengths.
        """
        model = self.model  # fail fast, before queueing, when the model is not loaded
        if not texts:
            return np.zeros((0, model.dimensions), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        rows = await self._batcher.submit_many([texts[i] for i in order])
        vectors = np.empty((len(texts), model.dimensions), dtype=np.float32)
        vectors[order] = np.stack(rows)
        return vectors

    async def close(self) -> None:
        """Finish queued texts and stop the batcher's thread."""
        await self._batcher.close()
