"""Duplicate results keyed by document id: one shape for the gRPC response and the job's JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .minhash import DuplicateResult


def scored_clusters(
    ids: Sequence[str],
    clusters: Sequence[Sequence[int]],
    pairs: Iterable[tuple[int, int, float]],
    score: str,
    pair_fields: Callable[[int, int], dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Clusters as id lists with their pairs and the range of ``score`` ("jaccard", "cosine")
    over those pairs, largest cluster first. ``pair_fields`` adds fields to each pair."""
    cluster_of = {member: index for index, members in enumerate(clusters) for member in members}
    grouped: list[list[dict[str, Any]]] = [[] for _ in clusters]
    for i, j, value in pairs:
        pair = {"a": ids[i], "b": ids[j], score: round(value, 6)}
        if pair_fields is not None:
            pair.update(pair_fields(i, j))
        grouped[cluster_of[i]].append(pair)
    result = []
    for members, cluster_pairs in zip(clusters, grouped, strict=True):
        values = [p[score] for p in cluster_pairs]
        result.append(
            {
                "document_ids": sorted(ids[m] for m in members),
                "pairs": cluster_pairs,
                f"max_{score}": max(values),
                f"min_{score}": min(values),
            }
        )
    result.sort(key=lambda c: (-len(c["document_ids"]), c["document_ids"][0]))
    return result


def clusters_by_id(ids: Sequence[str], result: DuplicateResult) -> list[dict[str, Any]]:
    """Near-duplicate clusters with their verified pairs, each flagged exact or not."""
    exact_of = {member: index for index, members in enumerate(result.exact_groups) for member in members}

    def exact(i: int, j: int) -> dict[str, Any]:
        return {"exact": i in exact_of and exact_of.get(i) == exact_of.get(j)}

    return scored_clusters(ids, result.clusters, result.pairs, "jaccard", exact)


def exact_groups_by_id(ids: Sequence[str], result: DuplicateResult) -> list[dict[str, Any]]:
    """Groups of documents identical after normalisation, largest first, with their digest."""
    groups = [
        {"document_ids": sorted(ids[m] for m in members), "content_sha1": digest}
        for members, digest in zip(result.exact_groups, result.exact_digests, strict=True)
    ]
    groups.sort(key=lambda g: (-len(g["document_ids"]), g["document_ids"][0]))
    return groups
