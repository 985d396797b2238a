"""The corpus dedup job: canonical JSONL corpus in the blob store -> clusters JSON beside it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from clipsift_common.blobkeys import job_prefix
from clipsift_common.objectstore import ObjectBlobStore
from clipsift_common.worker import JobContext, JobFailed

from ..corpus import read_corpus
from .detector import Detector
from .report import clusters_by_id, exact_groups_by_id

KIND = "dedup"
# Share of overall progress at which each step ends.
_STEP_END = {"parse": 0.1, "shingle": 0.3, "minhash": 0.6, "lsh": 0.7, "verify": 0.95}


def result_key(tenant_id: str, job_id: str) -> str:
    """Under the tenant's prefix; the completed event names it for the gateway."""
    return f"{job_prefix(tenant_id, job_id)}/result.json"


class DedupJob:
    def __init__(self, detector: Detector, blobs: ObjectBlobStore) -> None:
        self.detector = detector
        self.blobs = blobs

    async def __call__(self, ctx: JobContext) -> Mapping[str, Any]:
        key = result_key(ctx.tenant_id, ctx.job_id)
        if await asyncio.to_thread(self.blobs.exists, key):
            # A redelivery after the result was stored: publish completion again, compute nothing.
            return _summary(json.loads(await asyncio.to_thread(self.blobs.read_bytes, key)), key)
        input_key = ctx.options.get("input_key")
        if not isinstance(input_key, str):
            raise JobFailed("job request has no input_key")
        await ctx.progress("parse", 0.01, "reading corpus")
        corpus = await asyncio.to_thread(
            read_corpus, self.blobs, input_key, self.detector.settings.max_document_chars
        )
        ids = [record.id for record in corpus.records]
        texts = [record.text for record in corpus.records]
        await ctx.progress("parse", _STEP_END["parse"], f"{len(ids)} documents")

        def progress(step: str, fraction: float) -> None:
            start = _previous_end(step)
            ctx.progress_threadsafe(step, start + (_STEP_END[step] - start) * fraction)

        try:
            result, threshold = await asyncio.to_thread(
                self.detector.find_duplicates,
                ids,
                texts,
                float(ctx.options.get("threshold", 0.0)),
                int(ctx.options.get("shingle_size", 0)),
                progress,
            )
        except ValueError as exc:
            raise JobFailed(str(exc)) from exc
        document: dict[str, Any] = {
            "job_id": ctx.job_id,
            "documents": len(ids),
            "threshold": threshold,
            "candidate_pairs": result.candidate_pairs,
            "verified_pairs": len(result.pairs),
            "lsh": {"bands": result.bands, "rows": result.rows, "num_perm": self.detector.settings.num_perm},
            "clusters": clusters_by_id(ids, result),
            "exact_pairs": result.exact_pairs,
            "exact_groups": exact_groups_by_id(ids, result),
            "skipped": corpus.skipped,
        }
        await asyncio.to_thread(self.blobs.put_bytes, key, json.dumps(document).encode())
        await ctx.progress("store", 1.0, f"{len(document['clusters'])} clusters")
        return _summary(document, key)


def _previous_end(step: str) -> float:
    order = list(_STEP_END)
    index = order.index(step)
    return _STEP_END[order[index - 1]] if index else 0.0


def _summary(document: Mapping[str, Any], key: str) -> dict[str, Any]:
    summary = {
        "result_key": key,
        "documents": document["documents"],
        "clusters": len(document["clusters"]),
        "duplicate_documents": sum(len(c["document_ids"]) for c in document["clusters"]),
    }
    # Counted only when some were, so the summary of a clean corpus stays as it was.
    if skipped := len(document.get("skipped", [])):
        summary["skipped"] = skipped
    return summary
