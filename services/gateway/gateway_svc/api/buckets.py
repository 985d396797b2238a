"""Tenant buckets: register a bucket (with credentials, stored encrypted), list, delete. Jobs then
read objects from it by reference (``{"source": "s3://<name>/<key>"}`` on POST /v1/clips)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import HTTPException, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from clipsift_common.errors import InvalidArgument, NotFound, ResourceExhausted

from ..auth import Principal
from ..buckets import NAME, BucketExists, BucketRegistry
from ..permissions import Permission, requires
from ..uploads import check_declared_length
from .schemas import ReplyRouter

router = ReplyRouter(prefix="/v1/buckets", tags=["buckets"])
_MAX_JSON_BYTES = 4096
BucketName = Annotated[str, Path(max_length=63, pattern=NAME.pattern)]


class BucketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=63, description="How jobs name the bucket: s3://<name>/<key>")
    url: str = Field(
        max_length=1024, description="s3://bucket[/prefix], gs://bucket[/prefix] or az://container[/prefix]"
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        max_length=16,
        description="obstore config keys: aws_access_key_id, aws_secret_access_key, aws_region, "
        "aws_endpoint; "
        "google_service_account_key (the JSON); azure_storage_account_name, azure_storage_account_key "
        "or azure_storage_sas_key, azure_endpoint",
    )


class BucketView(BaseModel):
    name: str
    url: str
    options: dict[str, str] = Field(description="The options that are not secret (endpoint, region, account)")
    created_at: str = Field(json_schema_extra={"format": "date-time"})


class BucketList(BaseModel):
    buckets: list[BucketView]


def _registry(request: Request) -> BucketRegistry:
    registry: BucketRegistry = request.app.state.buckets
    return registry


@router.post("", status_code=201, response_model=BucketView)
async def register_bucket(
    body: BucketIn, request: Request, principal: Annotated[Principal, requires(Permission.BUCKETS_ADMIN)]
) -> dict[str, Any]:
    """Register a bucket of the caller's tenant (buckets:admin: its admins and owners). The gateway
    lists it with the given credentials first: wrong credentials, a missing bucket or an endpoint on a private
    address get a 400 saying so, and nothing is stored. The credentials are stored encrypted and
    never returned."""
    try:
        bucket = await _registry(request).register(principal.tenant_id, body.name, body.url, body.options)
    except BucketExists as exc:
        raise HTTPException(409, str(exc)) from None
    return bucket.view()


@router.get("", response_model=BucketList)
async def list_buckets(
    request: Request, principal: Annotated[Principal, requires(Permission.BUCKETS_READ)]
) -> dict[str, Any]:
    """The caller's tenant's buckets, without their secrets."""
    return {"buckets": [bucket.view() for bucket in await _registry(request).list(principal.tenant_id)]}


@router.delete("/{name}", status_code=204)
async def delete_bucket(
    name: BucketName, request: Request, principal: Annotated[Principal, requires(Permission.BUCKETS_ADMIN)]
) -> None:
    """Forget a bucket and its credentials (buckets:admin: the organisation's admins and owners);
    jobs already queued keep their signed URL until it expires."""
    await _registry(request).delete(principal.tenant_id, name)


async def json_source(request: Request) -> str | None:
    """The ``"source"`` of a small JSON body (``{"source": "s3://<bucket>/<key>"}``); None when the
    body names none (then it is some other JSON source, such as a server path)."""
    check_declared_length(request, _MAX_JSON_BYTES)
    body = await request.body()  # Starlette keeps it: a later reader of the body gets it again
    if len(body) > _MAX_JSON_BYTES:
        raise ResourceExhausted(f"a JSON body naming a source must be under {_MAX_JSON_BYTES} bytes")
    try:
        value = json.loads(body).get("source")
    except (ValueError, AttributeError):
        return None
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 2048:
        raise InvalidArgument('"source" must be a string such as s3://<bucket>/<key>')
    return value


async def signed_source(request: Request, tenant_id: str, reference: str) -> tuple[dict[str, str], str]:
    """For an object in one of the tenant's buckets: the job payload's source (a signed GET URL the
    worker reads the object through, valid for ``bucket_source_url_seconds``) and the reference to
    record as the job's input. The object must exist and fit the video size limit."""
    state = request.app.state
    settings = state.settings
    source = await _registry(request).resolve(tenant_id, reference)
    try:
        info = await asyncio.wait_for(
            asyncio.to_thread(source.store.info, source.key), settings.bucket_check_seconds
        )
    except NotFound:
        raise NotFound(f"{reference}: no such object in bucket {source.bucket.name!r}") from None
    except InvalidArgument:
        raise
    except TimeoutError:
        raise InvalidArgument(f"bucket {source.bucket.name!r} did not answer in time") from None
    except Exception as exc:  # obstore raises many kinds; each is one 400
        raise InvalidArgument(f"cannot read {reference}: {str(exc).strip()[:300]}") from None
    if info.size > settings.max_video_upload_bytes:
        raise ResourceExhausted(
            f"{reference} holds {info.size} bytes; the video limit is {settings.max_video_upload_bytes}"
        )
    url = source.store.signed_url(source.key, settings.bucket_source_url_seconds)
    if url is None:  # not reached: registered buckets are s3/gs/az, which all sign
        raise InvalidArgument(f"{reference} cannot be shared by a signed URL")
    return {"source_url": url}, source.reference
