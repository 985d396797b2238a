"""Creating a job: checked against the tenant's quotas and recorded as queued; the dispatcher
(dispatch.py) announces it on the bus when the tenant's turn comes.
Corpus jobs (dedup, index) first stream and validate their upload into the blob store."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import Request
from psycopg.types.json import Jsonb
from starlette.datastructures import State

from clipsift_common.blobkeys import job_prefix, upload_prefix
from clipsift_common.grpc_client import ServiceUnavailable
from clipsift_common.objectstore import ObjectBlobStore
from clipsift_common.telemetry import inject_headers

from .corpus import CorpusLimits, corpus_format, write_canonical
from .jobs import job_view
from .quotas import JobCost, admit
from .uploads import stream_to_blob


async def queue_job(
    state: State,
    job_id: uuid.UUID,
    tenant_id: str,
    kind: str,
    options: dict[str, Any],
    input_key: str,
    message: str,
) -> dict[str, Any]:
    """Record the job as ``queued`` (inside the tenant's quotas) for the dispatcher, which
    publishes ``jobs.<kind>.requested`` when the tenant has a free slot; return its public view."""
    if not state.bus.nc.is_connected:
        # The dispatcher would publish it once NATS is back, but a caller is better told now.
        raise ServiceUnavailable("nats", "could not queue the job: the gateway is not connected to NATS")
    stored = await asyncio.to_thread(_stored_bytes, state.blobs, tenant_id, job_id)
    cost = JobCost(media_seconds=float(options.get("duration") or 0.0), stored_bytes=stored)
    async with state.pool.connection() as conn, conn.transaction():
        await admit(conn, tenant_id, cost, state.settings)
        await conn.execute(
            "INSERT INTO jobs (id, tenant_id, kind, status, options, input_key, message, dispatched_at, "
            "media_seconds, stored_bytes, trace_headers) "
            "VALUES (%s, %s, %s, 'queued', %s, %s, %s, NULL, %s, %s, %s)",
            (
                job_id,
                tenant_id,
                kind,
                Jsonb(options),
                input_key,
                message,
                cost.media_seconds,
                cost.stored_bytes,
                Jsonb(inject_headers({})),
            ),
        )
    state.dispatcher.wake()
    return job_view(await state.jobs.get(str(job_id), tenant_id))


def _stored_bytes(blobs: ObjectBlobStore, tenant_id: str, job_id: uuid.UUID) -> int:
    """Bytes the job's upload left in the blob store (what it counts against the storage quota)."""
    return sum(blob.size for blob in blobs.list(job_prefix(tenant_id, str(job_id))))


async def submit_corpus(
    request: Request, tenant_id: str, kind: str, options: dict[str, Any]
) -> dict[str, Any]:
    """Stream the request body (a zip of .txt files or JSONL, by Content-Type) into the blob store,
    validate it whole and rewrite it as canonical JSONL, then queue a ``kind`` job over it with
    ``options``. A bad upload leaves nothing behind: no blob, no job."""
    state = request.app.state
    settings = state.settings
    fmt = corpus_format(request.headers.get("content-type"))
    job_id = uuid.uuid4()
    uploads = upload_prefix(tenant_id, str(job_id))
    upload_key = f"{uploads}/corpus.{fmt}"
    job_keys = job_prefix(tenant_id, str(job_id))
    input_key = f"{job_keys}/corpus.jsonl"
    blobs = state.blobs
    try:
        await stream_to_blob(request, blobs, upload_key, settings.max_upload_bytes, "corpus")
        limits = CorpusLimits(
            max_documents=settings.max_corpus_documents,
            max_text_bytes=settings.max_corpus_text_bytes,
            max_document_bytes=settings.max_corpus_document_bytes,
            max_document_chars=settings.max_corpus_document_chars,
            max_zip_members=settings.max_zip_members,
            max_compression_ratio=settings.max_zip_compression_ratio,
        )

        def canonicalize() -> Any:
            # A local file for zipfile's seeks: the blob itself on the folder backend, else a
            # scratch copy (the upload is bounded by max_upload_bytes).
            with blobs.local_file(upload_key, settings.scratch) as source, blobs.writer(input_key) as out:
                return write_canonical(source, fmt, out, limits)

        stats = await asyncio.to_thread(canonicalize)
        skipped = len(stats.skipped)
        options = {"input_key": input_key, "documents": stats.documents, "format": fmt, **options}
        if skipped:
            options["skipped"] = skipped
        message = f"{stats.documents} documents queued" + (f", {skipped} skipped" if skipped else "")
        return await queue_job(state, job_id, tenant_id, kind, options, input_key, message)
    except BaseException:
        await asyncio.to_thread(blobs.delete_prefix, job_keys)
        raise
    finally:
        await asyncio.to_thread(blobs.delete_prefix, uploads)
