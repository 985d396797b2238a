"""Results as CSV: asked for with ``?format=csv`` or ``Accept: text/csv``.

One row per pair (duplicates) or per match (index queries), so a spreadsheet can filter and
sort them; cluster numbers tie the pairs of one cluster together.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import Response

MEDIA_TYPE = "text/csv"


def wants_csv(request: Request, format: str | None) -> bool:
    """``?format=csv`` wins; without ``format``, an Accept header naming text/csv before JSON."""
    if format is not None:
        return format == "csv"
    accept = request.headers.get("accept", "")
    return MEDIA_TYPE in accept and "application/json" not in accept.split(MEDIA_TYPE)[0]


def safe_cell(value: Any) -> Any:
    # A cell starting with = + - @ is a formula to spreadsheet programs: document ids are user input.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return Response(
        buffer.getvalue(),
        media_type=f"{MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def cluster_pair_rows(clusters: Sequence[Mapping[str, Any]], score: str) -> list[list[Any]]:
    """``cluster, a, b, <score>[, exact]`` per pair; ``score`` is "jaccard" or "cosine"."""
    rows: list[list[Any]] = []
    for number, cluster in enumerate(clusters, start=1):
        for pair in cluster["pairs"]:
            row = [number, pair["a"], pair["b"], pair[score]]
            if score == "jaccard":
                row.append(str(bool(pair.get("exact", False))).lower())
            rows.append(row)
    return rows


def duplicates_csv(result: Mapping[str, Any], filename: str) -> Response:
    return csv_response(
        ["cluster", "a", "b", "jaccard", "exact"], cluster_pair_rows(result["clusters"], "jaccard"), filename
    )


def semantic_csv(result: Mapping[str, Any], filename: str) -> Response:
    return csv_response(
        ["cluster", "a", "b", "cosine"], cluster_pair_rows(result["clusters"], "cosine"), filename
    )


def index_query_csv(result: Mapping[str, Any], filename: str) -> Response:
    """``kind, rank, id, title, jaccard, exact, cosine``: near-duplicate matches, then semantic ones."""
    rows: list[list[Any]] = []
    for kind, key in (("near_duplicate", "matches"), ("semantic", "semantic_matches")):
        for rank, match in enumerate(result.get(key, []), start=1):
            rows.append(
                [
                    kind,
                    rank,
                    match["id"],
                    match["title"],
                    match["jaccard"],
                    str(match["exact"]).lower(),
                    match["cosine"],
                ]
            )
    return csv_response(["kind", "rank", "id", "title", "jaccard", "exact", "cosine"], rows, filename)
