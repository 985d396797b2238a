"""The index job: a canonical JSONL corpus in the blob store, added to a tenant's index in batches.

Every document is validated before the first batch is written, so a bad corpus adds nothing.
Batches commit one by one (progress is reported after each); a redelivered job adds them again,
which replaces the documents already stored under the same ids: the end state is the same.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from clipsift_common.blobkeys import job_prefix
from clipsift_common.errors import ClipsiftError
from clipsift_common.objectstore import ObjectBlobStore
from clipsift_common.worker import JobContext, JobFailed

from ..corpus import read_corpus
from .text_index import Document, TextIndex

KIND = "index"


def result_key(tenant_id: str, job_id: str) -> str:
    """Under the tenant's prefix; the completed event names it for the gateway."""
    return f"{job_prefix(tenant_id, job_id)}/result.json"


class IndexJob:
    def __init__(self, index: TextIndex, blobs: ObjectBlobStore, batch: int) -> None:
        self.index = index
        self.blobs = blobs
        self.batch = batch

    async def __call__(self, ctx: JobContext) -> Mapping[str, Any]:
        key = result_key(ctx.tenant_id, ctx.job_id)
        if await asyncio.to_thread(self.blobs.exists, key):
            return _summary(json.loads(await asyncio.to_thread(self.blobs.read_bytes, key)), key)
        input_key, name = ctx.options.get("input_key"), ctx.options.get("index")
        if not isinstance(input_key, str) or not isinstance(name, str):
            raise JobFailed("job request needs input_key and index")
        semantic = bool(ctx.options.get("semantic", False))
        await ctx.progress("parse", 0.01, "reading corpus")
        corpus = await asyncio.to_thread(
            read_corpus, self.blobs, input_key, self.index.settings.max_document_chars
        )
        documents = [Document(record.id, record.text, record.title) for record in corpus.records]
        try:
            self.index.validate_documents(documents, limit=None)
        except ClipsiftError as exc:
            raise JobFailed(str(exc)) from exc
        await ctx.progress("parse", 0.05, f"{len(documents)} documents")
        added = replaced = total = 0
        created = False
        for start in range(0, len(documents), self.batch):
            chunk = documents[start : start + self.batch]
            try:
                result = await self.index.add(ctx.tenant_id, name, chunk, semantic, limit=None)
            except ClipsiftError as exc:
                raise JobFailed(str(exc)) from exc
            created = created or result.created
            added += result.outcome.added
            replaced += result.outcome.replaced
            total = result.outcome.documents
            done = start + len(chunk)
            fraction = 0.05 + 0.94 * done / len(documents)
            await ctx.progress("add", fraction, f"{done}/{len(documents)} documents")
        document = {
            "job_id": ctx.job_id,
            "index": name,
            "added": added,
            "replaced": replaced,
            "documents": total,
            "created": created,
            "skipped": corpus.skipped,
        }
        await asyncio.to_thread(self.blobs.put_bytes, key, json.dumps(document).encode())
        await ctx.progress("store", 1.0, f"{added} added, {replaced} replaced")
        return _summary(document, key)


def _summary(document: Mapping[str, Any], key: str) -> dict[str, Any]:
    summary = {
        "result_key": key,
        "index": document["index"],
        "added": document["added"],
        "replaced": document["replaced"],
        "documents": document["documents"],
    }
    # Counted only when some were, so the summary of a clean corpus stays as it was.
    if skipped := len(document.get("skipped", [])):
        summary["skipped"] = skipped
    return summary
