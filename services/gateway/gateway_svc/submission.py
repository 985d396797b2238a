"""Creating a job: record it, then announce it on the bus; undo the record if the bus refuses."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.datastructures import State

from clipsift.events.v1 import events_pb2
from clipsift_common.events import make_event
from clipsift_common.grpc_client import ServiceUnavailable

from .jobs import job_view


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
