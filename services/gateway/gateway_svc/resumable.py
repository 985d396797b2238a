"""Resumable uploads: one protocol (the S3 multipart shape), two transports.

A client declares the file (``POST /v1/uploads``: name, size, type) and gets a part size and count;
it sends parts 1..n in any order, asks which parts arrived after an interruption, sends the missing
ones and completes. ``presigned``: on an S3 blob store, parts go straight to the bucket through
presigned URLs into a real multipart upload (the gateway never sees a byte). ``gateway``: parts
stream through the gateway into ``upload_prefix/parts/NNNNN`` on any backend, and completion joins
them in order through the store's streaming writer (visible only when whole).

The completed object lives under the upload's own prefix (job-independent); a job made from it
moves it into the job's prefix. Rows in ``resumable_uploads`` say whose each upload is, and where
it stands; a tenant never sees another's (404)."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import HTTPException
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from clipsift_common.blobkeys import upload_prefix
from clipsift_common.errors import InvalidArgument, NotFound, ResourceExhausted

from .settings import GatewaySettings

Transport = Literal["presigned", "gateway"]
State = Literal["open", "complete", "used", "aborted"]
OBJECT_NAME = "object"


@dataclass(frozen=True)
class Plan:
    """How a file of ``size`` bytes is cut: ``part_count`` parts of ``part_size``, the last shorter."""

    size: int
    part_size: int
    part_count: int

    @classmethod
    def of(cls, size: int, settings: GatewaySettings) -> Plan:
        limit = settings.max_video_upload_bytes
        if size <= 0:
            raise InvalidArgument("size: the file's size in bytes, at least 1")
        if size > limit:
            raise ResourceExhausted(f"upload of {size} bytes exceeds the limit of {limit}")
        part_size = max(settings.upload_part_bytes, -(-size // settings.upload_max_parts))
        return cls(size, part_size, -(-size // part_size))

    def expected(self, number: int) -> int:
        """The byte count of part ``number`` (1-based); 400 for a number outside 1..part_count."""
        if not 1 <= number <= self.part_count:
            raise InvalidArgument(f"part number {number} is outside 1..{self.part_count} for this upload")
        return (
            self.size - (self.part_count - 1) * self.part_size
            if number == self.part_count
            else self.part_size
        )


@dataclass(frozen=True)
class Upload:
    id: uuid.UUID
    tenant_id: str
    filename: str
    content_type: str
    plan: Plan
    transport: Transport
    state: State
    backend_upload_id: str | None
    object_key: str
    job_id: uuid.UUID | None
    created_at: datetime.datetime
    expires_at: datetime.datetime

    @property
    def prefix(self) -> str:
        return upload_prefix(self.tenant_id, str(self.id))

    @property
    def expired(self) -> bool:
        return self.state == "open" and datetime.datetime.now(datetime.UTC) > self.expires_at

    def part_key(self, number: int) -> str:
        return f"{self.prefix}/parts/{number:05d}"

    def require_open(self) -> None:
        """Parts and completion need an upload still in progress: 409 otherwise."""
        if self.state != "open":
            raise conflict(f"upload {self.id} is {self.state}; it takes no more parts")
        if self.expired:
            raise conflict(f"upload {self.id} expired at {self.expires_at.isoformat()}")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Upload:
        return cls(
            id=row["id"],
            tenant_id=row["tenant_id"],
            filename=row["filename"],
            content_type=row["content_type"],
            plan=Plan(int(row["size"]), int(row["part_size"]), int(row["part_count"])),
            transport=row["transport"],
            state=row["state"],
            backend_upload_id=row["backend_upload_id"],
            object_key=row["object_key"],
            job_id=row["job_id"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
        )


def conflict(detail: str) -> HTTPException:
    """409: the upload is not in a state that allows this (incomplete, used, expired)."""
    return HTTPException(409, detail)


def object_key(tenant_id: str, upload_id: uuid.UUID) -> str:
    """Where the completed object lives until a job takes it."""
    return f"{upload_prefix(tenant_id, str(upload_id))}/{OBJECT_NAME}"


class UploadStore:
    """The ``resumable_uploads`` rows; every read is scoped to one tenant."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def insert(self, upload: Upload) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO resumable_uploads (id, tenant_id, filename, content_type, size, part_size, "
                "part_count, transport, state, backend_upload_id, object_key, created_at, expires_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    upload.id,
                    upload.tenant_id,
                    upload.filename,
                    upload.content_type,
                    upload.plan.size,
                    upload.plan.part_size,
                    upload.plan.part_count,
                    upload.transport,
                    upload.state,
                    upload.backend_upload_id,
                    upload.object_key,
                    upload.created_at,
                    upload.expires_at,
                ),
            )

    async def get(self, upload_id: uuid.UUID | str, tenant_id: str) -> Upload:
        """The tenant's upload; 404 for an unknown id and for another tenant's alike."""
        try:
            key = uuid.UUID(str(upload_id))
        except ValueError:
            raise NotFound(f"upload {upload_id} not found") from None
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT * FROM resumable_uploads WHERE id = %s AND tenant_id = %s", (key, tenant_id)
            )
            row = await cur.fetchone()
        if row is None:
            raise NotFound(f"upload {upload_id} not found")
        return Upload.from_row(row)

    async def move(
        self, upload: Upload, before: State, after: State, job_id: uuid.UUID | None = None
    ) -> bool:
        """Change the upload's state from ``before`` to ``after``; False when another request
        changed it first (two completions, two jobs from one upload: only one wins)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE resumable_uploads SET state = %s, job_id = coalesce(%s, job_id), "
                "completed_at = CASE WHEN %s = 'complete' THEN now() ELSE completed_at END "
                "WHERE id = %s AND tenant_id = %s AND state = %s",
                (after, job_id, after, upload.id, upload.tenant_id, before),
            )
            return cur.rowcount == 1
