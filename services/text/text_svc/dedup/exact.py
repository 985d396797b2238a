"""Exact duplicates: documents whose text is identical after normalisation.

Two texts are exact duplicates when they agree after NFKC, case folding and collapsing every run
of whitespace to one space. Such documents have identical shingle sets, so the near-duplicate
search only needs one representative per group: the others inherit its pairs without shingling,
MinHash or Jaccard work, which matters for corpora full of re-posted copies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .minhash import DuplicateResult, components
from .shingles import normalize


def content_digest(text: str) -> str:
    """SHA-1 (hex) of the normalised text: stable across runs, hosts and Python versions."""
    canonical = " ".join(normalize(text).split())
    # surrogatepass: a lone surrogate must hash, not crash (it cannot reach us over gRPC anyway).
    return hashlib.sha1(canonical.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class ExactGroups:
    """Documents grouped by normalised-text digest."""

    representatives: list[int]  # the first document of every distinct text, in document order
    members: list[list[int]]  # per representative, every document with that text (sorted)
    digests: list[str]  # per representative ("" where grouped by keys and the text is unique)

    def duplicated(self) -> list[int]:
        """Indices (into ``representatives``) of the groups with more than one document."""
        return [g for g, docs in enumerate(self.members) if len(docs) > 1]


def group_exact(texts: Sequence[str], keys: npt.NDArray[np.uint64] | None = None) -> ExactGroups:
    """Documents grouped by normalised text.

    With ``keys`` (``scan.CorpusScan.text_keys``, a 64-bit hash of the same canonical text), only
    documents whose key is shared are hashed with SHA-1, and they are grouped by that digest, so
    a key collision never merges different texts. Digests of documents without an exact
    duplicate are then left empty ("") rather than computed.
    """
    if keys is None:
        return _group_by_digest(range(len(texts)), [content_digest(text) for text in texts])
    if len(keys) != len(texts):
        raise ValueError(f"{len(keys)} keys for {len(texts)} texts")
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    shared = np.flatnonzero(counts[inverse] > 1).tolist()
    digest_of = dict(zip(shared, (content_digest(texts[i]) for i in shared), strict=True))
    return _group_by_digest(range(len(texts)), [digest_of.get(i, "") for i in range(len(texts))])


def _group_by_digest(indices: Iterable[int], digests_in_order: list[str]) -> ExactGroups:
    first_of: dict[str, int] = {}
    representatives: list[int] = []
    members: list[list[int]] = []
    digests: list[str] = []
    for index, digest in zip(indices, digests_in_order, strict=True):
        # "" is a document known to have no exact duplicate: always a group of its own.
        group = first_of.get(digest) if digest else None
        if group is None:
            if digest:
                first_of[digest] = len(representatives)
            representatives.append(index)
            members.append([index])
            digests.append(digest)
        else:
            members[group].append(index)
    return ExactGroups(representatives, members, digests)


def expand(on_representatives: DuplicateResult, groups: ExactGroups, documents: int) -> DuplicateResult:
    """Map a result computed over the representatives back onto every document.

    Each exact group contributes one pair per extra member (member with the group's first
    document, Jaccard 1.0): that links the group with n - 1 pairs rather than n(n-1)/2. A
    near-duplicate pair of representatives stands for every pair across the two groups, all with
    the same Jaccard since their shingle sets are identical.
    """
    pairs: list[tuple[int, int, float]] = []
    for docs in groups.members:
        pairs.extend((docs[0], other, 1.0) for other in docs[1:])
    exact_pairs = len(pairs)
    for i, j, similarity in on_representatives.pairs:
        for a in groups.members[i]:
            for b in groups.members[j]:
                pairs.append((min(a, b), max(a, b), similarity))
    pairs.sort()
    return DuplicateResult(
        clusters=list(components(documents, [(i, j) for i, j, _ in pairs])),
        pairs=pairs,
        candidate_pairs=on_representatives.candidate_pairs,
        bands=on_representatives.bands,
        rows=on_representatives.rows,
        exact_groups=[groups.members[g] for g in groups.duplicated()],
        exact_digests=[groups.digests[g] for g in groups.duplicated()],
        exact_pairs=exact_pairs,
    )
