"""Jobs: submit a corpus, follow it (REST or WebSocket), fetch its result."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Annotated, Any, Literal

from fastapi import HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response
from google.protobuf.message import DecodeError
from nats.errors import TimeoutError as NatsTimeout

from clipsift_common.events import TERMINAL_TYPES, event_to_dict, job_subject, parse_event
from clipsift_common.objectstore import ObjectBlobStore

from ..auth import Principal
from ..csv_export import duplicates_csv, wants_csv
from ..jobs import JobStore, job_view
from ..permissions import Permission, requires
from ..retention import JobUnfinished, remove_job
from ..submission import submit_corpus
from .deps import Blobs, Jobs
from .params import JobId
from .proto_models import Reply
from .schemas import JobView, ReplyRouter, alternatives, request_body

log = logging.getLogger(__name__)
router = ReplyRouter(prefix="/v1/jobs", tags=["jobs"])
CORPUS_BODY = request_body(
    "The corpus, streamed: a zip of .txt files (ids are their paths) or JSONL of {id, text}",
    binary=("application/zip", "application/jsonl"),
)
_RESULT_MEDIA = alternatives("application/json", "text/csv")
_RESULT_MEDIA[200]["content"]["application/json"] = {"schema": {"type": "object"}}


class JobList(Reply):
    jobs: list[JobView]


def _not_found(job_id: str) -> HTTPException:
    return HTTPException(404, f"job {job_id} not found")


@router.post("", status_code=202, response_model=JobView, openapi_extra=CORPUS_BODY)
async def submit_job(
    request: Request,
    principal: Annotated[Principal, requires(Permission.JOBS_WRITE)],
    kind: Annotated[Literal["dedup"], Query(description="Job kind")] = "dedup",
    threshold: Annotated[float | None, Query(gt=0, le=1, description="Minimum Jaccard")] = None,
    shingle_size: Annotated[int | None, Query(ge=1, le=32)] = None,
) -> dict[str, Any]:
    """Submit a corpus for near-duplicate detection.

    The request body is the corpus itself, streamed: ``Content-Type: application/zip`` (a zip
    of .txt files, ids are their paths) or ``application/jsonl`` (one ``{"id", "text"}`` per line).
    The corpus is validated completely before the job is created.
    """
    options: dict[str, Any] = {}
    if threshold is not None:
        options["threshold"] = threshold
    if shingle_size is not None:
        options["shingle_size"] = shingle_size
    return await submit_corpus(request, principal.tenant_id, kind, options)


@router.get("", response_model=JobList)
async def list_jobs(
    principal: Annotated[Principal, requires(Permission.JOBS_READ)],
    jobs: Jobs,
    status: Annotated[Literal["queued", "running", "completed", "failed"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    rows = await jobs.list(principal.tenant_id, limit, status)
    return {"jobs": [job_view(row) for row in rows]}


@router.get("/{job_id}", response_model=JobView)
async def get_job(
    job_id: JobId, principal: Annotated[Principal, requires(Permission.JOBS_READ)], jobs: Jobs
) -> dict[str, Any]:
    row = await jobs.get(job_id, principal.tenant_id)
    if row is None:
        raise _not_found(job_id)
    return job_view(row)


@router.delete("/{job_id}", status_code=204, response_class=Response)
async def delete_job(
    job_id: JobId,
    request: Request,
    principal: Annotated[Principal, requires(Permission.JOBS_WRITE)],
    blobs: Blobs,
) -> Response:
    """Delete a finished job: its record and every object it stored (upload, results, clips).
    404 for a job the tenant does not have; 409 while it is queued or running (wait for it to
    finish: its worker would write its results back)."""
    try:
        removed = await remove_job(request.app.state.pool, blobs, job_id, principal.tenant_id)
    except JobUnfinished as exc:
        raise HTTPException(409, f"job {job_id} is {exc.status}; delete it once it has finished") from None
    if removed is None:
        raise _not_found(job_id)
    # The audit line: who deleted what.
    log.info(
        "job deleted",
        extra={
            "job": removed.job_id,
            "tenant": removed.tenant_id,
            "key_id": principal.key_id,
            "objects": removed.objects,
        },
    )
    return Response(status_code=204)


@router.get("/{job_id}/result", response_class=Response, responses=_RESULT_MEDIA)
async def get_result(
    job_id: JobId,
    request: Request,
    principal: Annotated[Principal, requires(Permission.JOBS_READ)],
    jobs: Jobs,
    blobs: Blobs,
    format: Annotated[
        Literal["json", "csv"] | None, Query(description="json, or csv for a dedup job")
    ] = None,
) -> Response:
    """The job's result document (JSON), once the job has completed; a dedup job's pairs as CSV
    with ``?format=csv`` (or ``Accept: text/csv``)."""
    data = await completed_result(jobs, blobs, job_id, principal.tenant_id)
    if wants_csv(request, format):
        document = json.loads(data)
        if "clusters" not in document:
            raise HTTPException(400, f"job {job_id} has no CSV form (only dedup results do)")
        return duplicates_csv(document, f"{job_id}.csv")
    return Response(
        data,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{job_id}.json"'},
    )


async def completed_result(
    jobs: JobStore, blobs: ObjectBlobStore, job_id: str, tenant_id: str, kind: str | None = None
) -> bytes:
    """The stored result document of the tenant's completed job (of ``kind``, when given): 404 when
    there is no such job, 409 (with the failure reason, if any) while it is not completed."""
    row = await jobs.get(job_id, tenant_id)
    if row is None or kind not in (None, row["kind"]):
        raise _not_found(job_id)
    if row["status"] != "completed":
        reason = f": {row['message']}" if row["status"] == "failed" else ""
        raise HTTPException(409, f"job {job_id} is {row['status']}{reason}")
    key: str = row["result"]["result_key"]  # the worker names it in the completed event
    return await asyncio.to_thread(blobs.read_bytes, key)


@router.websocket("/{job_id}/events")
async def job_events(
    websocket: WebSocket, job_id: str, principal: Annotated[Principal, requires(Permission.JOBS_READ)]
) -> None:
    """Every event of the job from the first, then live ones, as JSON; closes after the final event.

    Authenticated at the edge by ``Authorization: Bearer <key>`` or ``?ticket=`` from
    ``POST /v1/ws-tickets`` (close 4401 without; 4403 for a key without jobs:read); messages from
    the client only keep it open."""
    state = websocket.app.state
    # Accept before refusing: a close sent during the handshake reaches the client as a bare
    # HTTP 403, and the 4404 close code would never arrive.
    await websocket.accept()
    row = await state.jobs.get(job_id, principal.tenant_id)
    if row is None:
        await websocket.close(code=4404, reason=f"job {job_id} not found")
        return
    # The stored id, not the path's spelling: subjects carry the canonical lowercase form.
    subscription = await state.bus.replay(job_subject(row["id"]))
    disconnected = asyncio.create_task(_wait_disconnect(websocket))
    try:
        while not disconnected.done():
            try:
                msg = await subscription.next_msg(timeout=1.0)
            except NatsTimeout:
                continue
            try:
                event = parse_event(msg)
            except DecodeError:
                continue
            if event.tenant_id != principal.tenant_id:  # the job's tenant: ``get`` checked it
                continue  # a forged event (the projector parks it): never shown, never folded in
            if event.type in TERMINAL_TYPES:
                # Fold the final event in before the client hears of it, so a GET that follows sees it.
                await state.jobs.apply(event)
            await websocket.send_text(json.dumps(event_to_dict(event)))
            if event.type in TERMINAL_TYPES:
                await websocket.close(code=1000)
                return
    except WebSocketDisconnect:
        return
    finally:
        disconnected.cancel()
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()


async def _wait_disconnect(websocket: WebSocket) -> None:
    with contextlib.suppress(Exception):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
