"""Duplicate results keyed by document id: one shape for the gRPC response and the job's JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .minhash import DuplicateResult


def clusters_by_id(ids: Sequence[str], result: DuplicateResult) -> list[dict[str, Any]]:
    """Clusters as id lists with their verified pairs, largest cluster first."""
    cluster_of = {member: index for index, members in enumerate(result.clusters) for member in members}
    exact_of = {member: index for index, members in enumerate(result.exact_groups) for member in members}
    pairs: list[list[dict[str, Any]]] = [[] for _ in result.clusters]
    for i, j, similarity in result.pairs:
        exact = i in exact_of and exact_of.get(i) == exact_of.get(j)
        pairs[cluster_of[i]].append(
            {"a": ids[i], "b": ids[j], "jaccard": round(similarity, 6), "exact": exact}
        )
    clusters = []
    for members, cluster_pairs in zip(result.clusters, pairs, strict=True):
        scores = [p["jaccard"] for p in cluster_pairs]
        clusters.append(
            {
                "document_ids": sorted(ids[m] for m in members),
                "pairs": cluster_pairs,
                "max_jaccard": max(scores),
                "min_jaccard": min(scores),
            }
        )
    clusters.sort(key=lambda c: (-len(c["document_ids"]), c["document_ids"][0]))
    return clusters


def exact_groups_by_id(ids: Sequence[str], result: DuplicateResult) -> list[dict[str, Any]]:
    """Groups of documents identical after normalisation, largest first, with their digest."""
    groups = [
        {"document_ids": sorted(ids[m] for m in members), "content_sha1": digest}
        for members, digest in zip(result.exact_groups, result.exact_digests, strict=True)
    ]
    groups.sort(key=lambda g: (-len(g["document_ids"]), g["document_ids"][0]))
    return groups
