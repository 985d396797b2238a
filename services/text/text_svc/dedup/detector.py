"""The near-duplicate detector behind both the gRPC API and the corpus job."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from clipsift_common.errors import InvalidArgument, ResourceExhausted

from ..settings import TextSettings
from .align import Alignment, align
from .exact import expand, group_exact
from .minhash import DuplicateResult, estimated_jaccard, oph_signatures, search
from .scan import scan_corpus
from .shingles import ShingleSets, exact_jaccard, shingle_documents


@dataclass(frozen=True)
class Similarity:
    estimated: float
    exact: float
    shingles_a: int
    shingles_b: int
    num_perm: int


@dataclass(frozen=True)
class Comparison:
    alignment: Alignment
    exact_jaccard: float
    min_words: int


MIN_WORDS_RANGE = (3, 100)


class Detector:
    def __init__(self, settings: TextSettings) -> None:
        self.settings = settings

    def _shingle_size(self, requested: int) -> int:
        if requested and not 1 <= requested <= 32:
            raise InvalidArgument(f"shingle_size must be between 1 and 32, got {requested}")
        return requested or self.settings.shingle_size

    def _threshold(self, requested: float) -> float:
        if requested == 0:
            return self.settings.default_threshold
        if not 0.0 < requested <= 1.0:
            raise InvalidArgument(f"threshold must be in (0, 1], got {requested}")
        return requested

    def _check_text(self, label: str, text: str) -> None:
        if not text or text.isspace():
            raise InvalidArgument(f"{label} is empty")
        if len(text) > self.settings.max_document_chars:
            raise ResourceExhausted(
                f"{label} has {len(text)} characters; the limit is {self.settings.max_document_chars}"
            )

    def similarity(self, a: str, b: str, shingle_size: int = 0) -> Similarity:
        self._check_text("text a", a)
        self._check_text("text b", b)
        sets = self._shingle([a, b], self._shingle_size(shingle_size), ["text a", "text b"])
        sigs = oph_signatures(sets, self.settings.num_perm)
        return Similarity(
            estimated=estimated_jaccard(sigs[0], sigs[1]),
            exact=exact_jaccard(sets.of(0), sets.of(1)),
            shingles_a=len(sets.of(0)),
            shingles_b=len(sets.of(1)),
            num_perm=self.settings.num_perm,
        )

    def compare(self, a: str, b: str, min_words: int = 0) -> Comparison:
        """Shared passages of two texts, their coverage, and the exact Jaccard of the pair."""
        self._check_text("text a", a)
        self._check_text("text b", b)
        low, high = MIN_WORDS_RANGE
        if min_words and not low <= min_words <= high:
            raise InvalidArgument(f"min_words must be between {low} and {high}, got {min_words}")
        words = min_words or self.settings.compare_min_words
        sets = self._shingle([a, b], self.settings.shingle_size, ["text a", "text b"])
        return Comparison(align(a, b, words), exact_jaccard(sets.of(0), sets.of(1)), words)

    def validate_batch(self, ids: Sequence[str], texts: Sequence[str], *, limit: int | None) -> None:
        if not texts:
            raise InvalidArgument("no documents given")
        if limit is not None and len(texts) > limit:
            raise ResourceExhausted(
                f"{len(texts)} documents in one request; the limit is {limit} (submit a corpus job instead)"
            )
        seen: set[str] = set()
        for doc_id, text in zip(ids, texts, strict=True):
            if not doc_id:
                raise InvalidArgument("every document needs a non-empty id")
            if doc_id in seen:
                raise InvalidArgument(f"duplicate document id {doc_id!r}")
            seen.add(doc_id)
            self._check_text(f"document {doc_id!r}", text)

    def find_duplicates(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        threshold: float = 0.0,
        shingle_size: int = 0,
        progress: Callable[[str, float], None] | None = None,
        limit: int | None = None,
    ) -> tuple[DuplicateResult, float]:
        """Clusters of exact and near-duplicates. Documents identical after normalisation are
        grouped first; only one per group is searched (see ``exact``)."""
        self.validate_batch(ids, texts, limit=limit)
        resolved = self._threshold(threshold)
        size = self._shingle_size(shingle_size)
        num_perm = self.settings.num_perm
        # One compiled pass: shingle hashes, OPH signatures and exact-text keys of every document.
        corpus = scan_corpus(texts, size, num_perm)
        counts = corpus.shingle_counts()
        for index in np.flatnonzero(counts == 0)[:1].tolist():
            raise InvalidArgument(f"document {ids[index]!r} contains no words")
        if progress:
            progress("shingle", 1.0)
            progress("minhash", 1.0)
        groups = group_exact(texts, corpus.text_keys)
        reps = np.asarray(groups.representatives, dtype=np.int64)
        on_reps = search(corpus.signatures[reps], corpus.shingles, corpus.offsets, reps, resolved, progress)
        return expand(on_reps, groups, len(texts)), resolved

    @staticmethod
    def _shingle(texts: Sequence[str], size: int, labels: Sequence[str]) -> ShingleSets:
        sets = shingle_documents(texts, size)
        for index, count in enumerate(sets.sizes()):
            if count == 0:
                raise InvalidArgument(f"{labels[index]} contains no words")
        return sets
