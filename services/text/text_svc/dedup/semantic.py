"""Semantic duplicates: pairs of unit-length embeddings above a cosine threshold, and their clusters.

The search is exact and vectorised: the similarity matrix is computed in row blocks
(``block x n`` matrix products), so memory stays at ``block x n`` floats while every pair is
scored. That is quadratic work — fine for request-sized inputs up to tens of thousands of
documents (10k x 10k at 384 dimensions is ~40 GFLOP, a few seconds on a CPU); a per-tenant index
with approximate search is the tool beyond that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from clipsift_common.errors import InvalidArgument

from ..embeddings import Embedder, Vectors
from .detector import Detector
from .minhash import components
from .report import scored_clusters

# Rows of the similarity matrix computed at once: 1024 x 50k float32 is 200 MB at the most.
BLOCK_ROWS = 1024


@dataclass(frozen=True)
class SemanticResult:
    """Index pairs ``(i, j, cosine)`` with ``i < j``, and the clusters they connect."""

    pairs: list[tuple[int, int, float]]
    clusters: list[list[int]]


def similar_pairs(
    vectors: npt.NDArray[np.float32], threshold: float, block_rows: int = BLOCK_ROWS
) -> list[tuple[int, int, float]]:
    """Every pair ``i < j`` whose cosine is at least ``threshold`` (rows must be unit length)."""
    n = len(vectors)
    found: list[tuple[int, int, float]] = []
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        # Only columns right of each row's own index matter (i < j), so a block needs the
        # columns from its first row on.
        scores = vectors[start:stop] @ vectors[start:].T
        rows, cols = np.nonzero(scores >= threshold)
        cols_abs = cols + start
        rows_abs = rows + start
        upper = cols_abs > rows_abs
        rows, cols, rows_abs, cols_abs = rows[upper], cols[upper], rows_abs[upper], cols_abs[upper]
        # Rounding can push a vector's cosine with its own copy a hair above 1.
        values = np.minimum(scores[rows, cols], 1.0)
        found.extend(zip(rows_abs.tolist(), cols_abs.tolist(), values.tolist(), strict=True))
    return found


def find_semantic_duplicates(vectors: npt.NDArray[np.float32], threshold: float) -> SemanticResult:
    """Pairs above ``threshold`` and the connected components they form (clusters of 2 or more)."""
    pairs = similar_pairs(vectors, threshold)
    clusters = list(components(len(vectors), [(i, j) for i, j, _ in pairs]))
    return SemanticResult(pairs=pairs, clusters=clusters)


def clusters_by_id(ids: Sequence[str], result: SemanticResult) -> list[dict[str, Any]]:
    """Clusters as id lists with their pairs and cosine range, largest cluster first."""
    return scored_clusters(ids, result.clusters, result.pairs, "cosine")


class SemanticDetector:
    """Request-level semantic duplicate search and embedding, with the service's input limits.

    Limits are the near-duplicate detector's (``max_documents_per_request``,
    ``max_document_chars``, non-empty unique ids and texts), so both searches accept the same
    requests.
    """

    def __init__(self, detector: Detector, embedder: Embedder) -> None:
        self.detector = detector
        self.embedder = embedder
        self.settings = detector.settings

    def threshold(self, requested: float) -> float:
        """The request's cosine threshold, or the configured default for 0 (unset in proto3)."""
        if requested == 0:
            return self.settings.semantic_threshold
        if not 0.0 < requested <= 1.0:
            raise InvalidArgument(f"threshold must be in (0, 1], got {requested}")
        return requested

    async def find(
        self, ids: Sequence[str], texts: Sequence[str], threshold: float = 0.0
    ) -> tuple[SemanticResult, float]:
        """Clusters of documents whose embeddings are at least ``threshold`` apart in cosine."""
        resolved = self.threshold(threshold)
        self.detector.validate_batch(ids, texts, limit=self.settings.max_documents_per_request)
        vectors = await self.embedder.embed(texts)
        # The pair search is numpy work: off the event loop, like the other detectors.
        result = await asyncio.to_thread(find_semantic_duplicates, vectors, resolved)
        return result, resolved

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """Unit-length embeddings, after the same limits as a duplicate search."""
        ids = [str(index) for index in range(len(texts))]
        self.detector.validate_batch(ids, texts, limit=self.settings.max_documents_per_request)
        return await self.embedder.embed(texts)
