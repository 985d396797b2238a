"""Resumable uploads of any size (resumable.py has the protocol): declare, send parts, resume,
complete; then ``POST /v1/clips`` with ``{"upload_id": ...}`` makes a job from the object."""

from __future__ import annotations

import asyncio
import datetime
import uuid
from typing import Annotated, Any, Literal

from fastapi import Path, Request, Response
from pydantic import BaseModel, Field, field_validator

from clipsift_common.errors import InvalidArgument

from ..auth import Principal
from ..permissions import Permission, requires
from ..resumable import Plan, Upload, UploadStore, conflict, object_key
from ..resumable_transfer import ClaimedPart, Transfers
from .params import has_control_characters
from .schemas import ReplyRouter, request_body

router = ReplyRouter(tags=["uploads"])
UploadId = Annotated[uuid.UUID, Path(description="The id POST /v1/uploads returned")]
PartNumber = Annotated[int, Path(ge=1, le=10_000, description="1-based part number")]
_MAX_URLS = 1000


class UploadIn(BaseModel):
    filename: str = Field(min_length=1, max_length=255, description="The file's name, for people")
    size: int = Field(ge=1, description="The whole file's size in bytes")
    content_type: str = Field(default="application/octet-stream", max_length=127)
    transport: Literal["auto", "presigned", "gateway"] = Field(
        default="auto",
        description="presigned: parts go straight to S3 (S3 blob stores only); gateway: through the "
        "gateway (every backend); auto: presigned where possible",
    )

    @field_validator("filename", "content_type")
    @classmethod
    def _printable(cls, value: str) -> str:
        if has_control_characters(value):
            raise ValueError("must not contain control characters")
        return value


class PartView(BaseModel):
    number: int
    size: int
    etag: str | None = None


class UploadView(BaseModel):
    id: str
    filename: str
    size: int
    part_size: int
    part_count: int
    transport: Literal["presigned", "gateway"]
    state: str
    expires_at: datetime.datetime
    parts: list[PartView] | None = Field(default=None, description="Parts the store holds (GET only)")
    object_key: str | None = None
    job_id: str | None = None


class PartUrlsIn(BaseModel):
    numbers: list[int] = Field(min_length=1, max_length=_MAX_URLS)


class PartUrl(BaseModel):
    number: int
    url: str
    method: Literal["PUT"] = "PUT"


class PartUrlsView(BaseModel):
    urls: list[PartUrl]
    expires_at: datetime.datetime


class ClaimedPartIn(BaseModel):
    number: int = Field(ge=1, le=10_000)
    etag: str | None = Field(default=None, max_length=200)


class CompleteIn(BaseModel):
    parts: list[ClaimedPartIn] | None = Field(
        default=None, max_length=10_000, description="The parts with the ETags S3 answered (optional)"
    )


class CompletedView(BaseModel):
    id: str
    object_key: str
    size: int


class ReceivedPart(BaseModel):
    number: int
    size: int


def _view(upload: Upload, **extra: Any) -> dict[str, Any]:
    plan = upload.plan
    view: dict[str, Any] = {
        "id": str(upload.id),
        "filename": upload.filename,
        "size": plan.size,
        "part_size": plan.part_size,
        "part_count": plan.part_count,
        "transport": upload.transport,
        "state": "expired" if upload.expired else upload.state,
        "expires_at": upload.expires_at,
    }
    if upload.state in {"complete", "used"}:
        view["object_key"] = upload.object_key
    if upload.job_id is not None:
        view["job_id"] = str(upload.job_id)
    return view | extra


def _uploads(request: Request) -> UploadStore:
    return UploadStore(request.app.state.pool)


@router.post("/v1/uploads", status_code=201, response_model=UploadView)
async def create_upload(
    body: UploadIn, request: Request, principal: Annotated[Principal, requires(Permission.JOBS_WRITE)]
) -> dict[str, Any]:
    """Declare a file to send in parts: the reply says the part size and count, and how parts go
    (``presigned``: ask ``POST /v1/uploads/{id}/parts`` for S3 URLs; ``gateway``:
    ``PUT /v1/uploads/{id}/parts/{n}``). Up to the video upload limit."""
    state = request.app.state
    settings = state.settings
    plan = Plan.of(body.size, settings)
    transfers = Transfers.of(state)
    if body.transport == "presigned" and transfers.s3 is None:
        raise InvalidArgument(
            "transport: presigned needs an S3 blob store; this gateway takes parts itself (gateway)"
        )
    transport: Literal["presigned", "gateway"] = (
        "gateway" if body.transport == "gateway" or transfers.s3 is None else "presigned"
    )
    upload_id = uuid.uuid4()
    key = object_key(principal.tenant_id, upload_id)
    backend_id = None
    if transport == "presigned":
        assert transfers.s3 is not None
        backend_id = await asyncio.to_thread(transfers.s3.create, key, body.content_type)
    now = datetime.datetime.now(datetime.UTC)
    upload = Upload(
        id=upload_id,
        tenant_id=principal.tenant_id,
        filename=body.filename,
        content_type=body.content_type,
        plan=plan,
        transport=transport,
        state="open",
        backend_upload_id=backend_id,
        object_key=key,
        job_id=None,
        created_at=now,
        expires_at=now + datetime.timedelta(seconds=settings.upload_expiry_seconds),
    )
    try:
        await _uploads(request).insert(upload)
    except BaseException:
        await transfers.abort(upload)
        raise
    return _view(upload)


@router.get("/v1/uploads/{upload_id}", response_model=UploadView)
async def get_upload(
    upload_id: UploadId, request: Request, principal: Annotated[Principal, requires(Permission.JOBS_READ)]
) -> dict[str, Any]:
    """The upload and, while it is open, the parts the store holds: after an interruption a
    client sends only the parts missing here."""
    upload = await _uploads(request).get(upload_id, principal.tenant_id)
    if upload.state != "open":
        return _view(upload)
    parts = await Transfers.of(request.app.state).received(upload)
    return _view(upload, parts=[PartView(number=p.number, size=p.size, etag=p.etag or None) for p in parts])


@router.post("/v1/uploads/{upload_id}/parts", response_model=PartUrlsView)
async def part_urls(
    upload_id: UploadId,
    body: PartUrlsIn,
    request: Request,
    principal: Annotated[Principal, requires(Permission.JOBS_WRITE)],
) -> dict[str, Any]:
    """Presigned S3 URLs to ``PUT`` parts ``numbers`` to, each valid a short time (ask again
    after it passes). Keep each PUT reply's ``ETag`` header for completion."""
    upload = await _uploads(request).get(upload_id, principal.tenant_id)
    upload.require_open()
    seconds = request.app.state.settings.upload_url_seconds
    urls = await Transfers.of(request.app.state).part_urls(upload, sorted(set(body.numbers)), seconds)
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
    return {"urls": [{"number": n, "url": u} for n, u in urls.items()], "expires_at": expires}


@router.put(
    "/v1/uploads/{upload_id}/parts/{number}",
    response_model=ReceivedPart,
    openapi_extra=request_body(
        "The part's bytes, exactly part_size (the last: the rest)", binary=("application/octet-stream",)
    ),
)
async def put_part(
    upload_id: UploadId,
    number: PartNumber,
    request: Request,
    principal: Annotated[Principal, requires(Permission.JOBS_WRITE)],
) -> dict[str, Any]:
    """One part through the gateway (``gateway`` uploads): streamed into the store; sent again,
    it replaces the earlier copy. A part of the wrong size is refused and not kept."""
    upload = await _uploads(request).get(upload_id, principal.tenant_id)
    upload.require_open()
    transfers = Transfers.of(request.app.state)
    size = await transfers.receive(upload, number, request.stream(), request.headers.get("content-length"))
    return {"number": number, "size": size}


@router.post("/v1/uploads/{upload_id}/complete", response_model=CompletedView)
async def complete_upload(
    upload_id: UploadId,
    request: Request,
    principal: Annotated[Principal, requires(Permission.JOBS_WRITE)],
    body: CompleteIn | None = None,
) -> dict[str, Any]:
    """Join the parts into one object (visible only now, whole); 400 naming what is missing or
    wrong. Completing a completed upload answers the same again."""
    uploads = _uploads(request)
    upload = await uploads.get(upload_id, principal.tenant_id)
    transfers = Transfers.of(request.app.state)
    if upload.state != "complete":
        upload.require_open()
        claimed = [ClaimedPart(p.number, p.etag) for p in body.parts] if body and body.parts else None
        await transfers.complete(upload, claimed)
        if not await uploads.move(upload, "open", "complete"):
            upload = await uploads.get(upload_id, principal.tenant_id)
            if upload.state != "complete":
                raise conflict(f"upload {upload_id} is {upload.state}")
    size = await asyncio.to_thread(transfers.store.size, upload.object_key)
    return {"id": str(upload.id), "object_key": upload.object_key, "size": size}


@router.delete("/v1/uploads/{upload_id}", status_code=204)
async def abort_upload(
    upload_id: UploadId, request: Request, principal: Annotated[Principal, requires(Permission.JOBS_WRITE)]
) -> Response:
    """Give the upload up: its parts (or unused object) are deleted."""
    uploads = _uploads(request)
    upload = await uploads.get(upload_id, principal.tenant_id)
    if upload.state == "used":
        raise conflict(f"upload {upload_id} became job {upload.job_id}; delete the job instead")
    if upload.state != "aborted" and await uploads.move(upload, upload.state, "aborted"):
        await Transfers.of(request.app.state).abort(upload)
    return Response(status_code=204)
