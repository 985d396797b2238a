"""Exact duplicates: documents whose text is identical after normalisation.

Two texts are exact duplicates when they agree after NFKC, case folding and collapsing every run
of whitespace to one space. Such documents have identical shingle sets, so the near-duplicate
search only needs one representative per group: the others inherit its pairs without shingling,
MinHash or Jaccard work, which matters for corpora full of re-posted copies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

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
    digests: list[str]  # per representative

    def duplicated(self) -> list[int]:
        """Indices (into ``representatives``) of the groups with more than one document."""
        return [g for g, docs in enumerate(self.members) if len(docs) > 1]


def group_exact(texts: Sequence[str]) -> ExactGroups:
    first_of: dict[str, int] = {}
    representatives: list[int] = []
    members: list[list[int]] = []
    digests: list[str] = []
    for index, text in enumerate(texts):
        digest = content_digest(text)
        group = first_of.get(digest)
        if group is None:
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
