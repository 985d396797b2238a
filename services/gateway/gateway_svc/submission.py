"""Creating a job: record it, then announce it on the bus; undo the record if the bus refuses.
Corpus jobs (dedup, index) first stream and validate their upload into the blob store."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import Request
from starlette.datastructures import State

from clipsift.events.v1 import events_pb2
from clipsift_common.events import make_event
from clipsift_common.grpc_client import ServiceUnavailable

from .corpus import CorpusLimits, corpus_format, write_canonical
from .jobs import job_view
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
    """Insert the job row and publish ``jobs.<kind>.requested``; return the job's public view."""
    created_at = await state.jobs.create(job_id, tenant_id, kind, options, input_key)
    event = make_event(
        job_id=str(job_id),
        tenant_id=tenant_id,
        kind=kind,
        event_type=events_pb2.EVENT_TYPE_REQUESTED,
        key="requested",
        step="queued",
        message=message,
        payload=options,
        job_created_at=created_at,
    )
    try:
        await state.bus.publish(event)
    except Exception as exc:
        await state.jobs.delete(job_id)
        raise ServiceUnavailable("nats", f"could not queue the job: {type(exc).__name__}") from exc
    return job_view(await state.jobs.get(str(job_id), tenant_id))


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
    upload_key = f"uploads/{job_id}/corpus.{fmt}"
    input_key = f"jobs/{job_id}/corpus.jsonl"
    blobs = state.blobs
    try:
        await stream_to_blob(request, blobs, upload_key, settings.max_upload_bytes, "corpus")
        limits = CorpusLimits(settings.max_corpus_documents, settings.max_corpus_text_bytes)

        def canonicalize() -> Any:
            with blobs.writer(input_key) as out:
                return write_canonical(blobs.local_path(upload_key), fmt, out, limits)

        stats = await asyncio.to_thread(canonicalize)
        options = {"input_key": input_key, "documents": stats.documents, "format": fmt, **options}
        return await queue_job(
            state, job_id, tenant_id, kind, options, input_key, f"{stats.documents} documents queued"
        )
    except BaseException:
        await asyncio.to_thread(blobs.delete_prefix, f"jobs/{job_id}")
        raise
    finally:
        await asyncio.to_thread(blobs.delete_prefix, f"uploads/{job_id}")
