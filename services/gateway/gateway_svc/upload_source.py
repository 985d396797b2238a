"""A job's source from a completed resumable upload (``{"upload_id": ...}`` as the JSON body).

The upload must be the tenant's (404 otherwise) and complete (409). The route probes the object
where it lies, then ``claim`` moves it to ``job_prefix/source.video`` (a server-side rename, so the
job's retention and deletion cover it) and marks the upload used, once: a second job from the same
upload gets 409. A job that fails to be created gives the object back (``release``), so the client
can try again without sending gigabytes anew."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import obstore
from fastapi import Request
from starlette.datastructures import State

from clipsift_common.blobkeys import job_prefix
from clipsift_common.errors import InvalidArgument, NotFound
from clipsift_common.objectstore import ObjectBlobStore

from .resumable import Upload, UploadStore, conflict
from .resumable_transfer import blob_store, multipart

log = logging.getLogger(__name__)
# S3's single-request CopyObject stops at 5 GiB.
_MAX_SERVER_COPY = 5 * 1024**3
_MAX_JSON_BYTES = 4096


async def json_upload_id(request: Request) -> str | None:
    """The ``"upload_id"`` of a small JSON body; None when it names none (another JSON source).
    Starlette keeps the body, so later readers of it get it again."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _MAX_JSON_BYTES:
        return None  # not a small source document: the route's other readers refuse it
    body = await request.body()
    try:
        value = json.loads(body).get("upload_id") if len(body) <= _MAX_JSON_BYTES else None
    except (ValueError, AttributeError):
        return None
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgument('"upload_id" must be the id POST /v1/uploads returned')
    return value


class UploadSource:
    def __init__(self, state: State, upload: Upload) -> None:
        self._uploads = UploadStore(state.pool)
        self._store: ObjectBlobStore = blob_store(state)
        self._s3 = multipart(state)
        self.upload = upload
        self.key = upload.object_key
        self._claimed_by: uuid.UUID | None = None

    @classmethod
    async def open(cls, state: State, tenant_id: str, upload_id: str) -> UploadSource:
        upload = await UploadStore(state.pool).get(upload_id, tenant_id)
        if upload.state == "used":
            raise conflict(f"upload {upload_id} already became job {upload.job_id}")
        if upload.state != "complete":
            raise conflict(f"upload {upload_id} is {upload.state}: complete it first")
        return cls(state, upload)

    async def claim(self, job_id: uuid.UUID) -> str:
        """Make the object job ``job_id``'s source; returns its key now."""
        if not await self._uploads.move(self.upload, "complete", "used", job_id):
            raise conflict(f"upload {self.upload.id} was used or removed meanwhile")
        self._claimed_by = job_id
        target = f"{job_prefix(self.upload.tenant_id, str(job_id))}/source.video"
        await asyncio.to_thread(self._move, self.key, target)
        self.key = target
        return self.key

    def _move(self, source: str, target: str) -> None:
        # S3's single-request copy (what obstore's rename is there) stops at 5 GiB; bigger
        # objects move by boto3's multipart copy.
        if self._s3 is not None and self._store.size(source) > _MAX_SERVER_COPY:
            self._s3.move(source, target)
        else:
            self._store.rename(source, target)

    async def release(self) -> None:
        """Undo ``claim`` after the job could not be created: the object and the upload as they were."""
        if self._claimed_by is None:
            return
        try:
            if self.key != self.upload.object_key:
                await asyncio.to_thread(self._move, self.key, self.upload.object_key)
                self.key = self.upload.object_key
            await self._uploads.move(self.upload, "used", "complete")
        except (NotFound, OSError, obstore.exceptions.BaseError):
            log.warning("could not give upload %s back", self.upload.id, exc_info=True)
