"""Moving a resumable upload's bytes: parts in, the parts that arrived, completion, abort.

``presigned`` uploads live in an S3 multipart upload (s3multipart.py); ``gateway`` uploads are
part objects under the upload's prefix on any backend, joined by completion. Memory stays flat:
a part streams from the request into the store; completion reads and writes one buffer at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from starlette.datastructures import State

from clipsift_common.errors import InvalidArgument
from clipsift_common.objectstore import ObjectBlobStore

from .resumable import Upload, UploadStore
from .s3multipart import Part, S3Multipart, is_s3

_COPY_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ClaimedPart:
    """A part as the client says it sent it (its number, and the ETag S3 answered with)."""

    number: int
    etag: str | None = None


def blob_store(state: State) -> ObjectBlobStore:
    """The gateway's object store."""
    store: ObjectBlobStore = state.blobs
    return store


def multipart(state: State) -> S3Multipart | None:
    """The S3 multipart client on an s3:// blob store (made once), else None."""
    if not is_s3(state.settings):
        return None
    client = getattr(state, "s3_multipart", None)
    if client is None:
        client = state.s3_multipart = S3Multipart(state.settings, state.settings.upload_presign_endpoint)
    return client


class Transfers:
    def __init__(self, store: ObjectBlobStore, s3: S3Multipart | None) -> None:
        self.store = store
        self.s3 = s3

    @classmethod
    def of(cls, state: State) -> Transfers:
        return cls(blob_store(state), multipart(state))

    def _s3(self, upload: Upload) -> tuple[S3Multipart, str]:
        if self.s3 is None or upload.backend_upload_id is None:
            raise InvalidArgument(
                "this upload's parts go through the gateway: PUT /v1/uploads/{id}/parts/{n}"
            )
        return self.s3, upload.backend_upload_id

    async def part_urls(self, upload: Upload, numbers: Sequence[int], expires_seconds: int) -> dict[int, str]:
        """Presigned PUT URLs for parts ``numbers`` of a presigned upload."""
        s3, backend_id = self._s3(upload)
        for number in numbers:
            upload.plan.expected(number)
        return {n: s3.part_url(upload.object_key, backend_id, n, expires_seconds) for n in numbers}

    async def received(self, upload: Upload) -> list[Part]:
        """The parts the backend holds, by number."""
        if upload.transport == "presigned":
            s3, backend_id = self._s3(upload)
            return await asyncio.to_thread(s3.parts, upload.object_key, backend_id)
        found = await asyncio.to_thread(self.store.list, f"{upload.prefix}/parts")
        parts = []
        for blob in found:
            name = blob.key.rsplit("/", 1)[-1]
            if name.isdigit():
                parts.append(Part(int(name), blob.size, ""))
        return sorted(parts, key=lambda p: p.number)

    async def receive(
        self, upload: Upload, number: int, body: AsyncIterator[bytes], declared: str | None
    ) -> int:
        """Stream part ``number`` into the store; it exists only if exactly its bytes arrived."""
        if upload.transport != "gateway":
            raise InvalidArgument(
                "this upload's parts go straight to S3: ask POST /v1/uploads/{id}/parts for URLs"
            )
        expected = upload.plan.expected(number)
        if declared is not None and declared.isdigit() and int(declared) != expected:
            raise InvalidArgument(f"part {number} must be {expected} bytes; Content-Length says {declared}")
        received = 0
        async with self.store.async_writer(upload.part_key(number)) as out:
            async for chunk in body:
                received += len(chunk)
                if received > expected:
                    raise InvalidArgument(f"part {number} must be {expected} bytes; more arrived")
                await out.write(chunk)
            if received != expected:
                raise InvalidArgument(f"part {number} must be {expected} bytes; {received} arrived")
        return received

    def check_complete(self, upload: Upload, parts: list[Part], claimed: list[ClaimedPart] | None) -> None:
        """Every part 1..n there with its size, and the client's ETags (if sent) those S3 holds."""
        have = {p.number: p for p in parts}
        missing = [n for n in range(1, upload.plan.part_count + 1) if n not in have]
        if missing:
            shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
            raise InvalidArgument(f"{len(missing)} parts missing: {shown}; send them, then complete")
        for part in parts:
            expected = upload.plan.expected(part.number)
            if part.size != expected:
                raise InvalidArgument(
                    f"part {part.number} has {part.size} bytes; expected {expected}: send it again"
                )
        for claim in claimed or []:
            held = have.get(claim.number)
            if held is None or (claim.etag is not None and _etag(claim.etag) != _etag(held.etag)):
                raise InvalidArgument(f"part {claim.number}: the ETag sent is not the part the store holds")

    async def complete(self, upload: Upload, claimed: list[ClaimedPart] | None) -> int:
        """Make the object from the parts; returns its size."""
        parts = await self.received(upload)
        self.check_complete(upload, parts, claimed)
        if upload.transport == "presigned":
            s3, backend_id = self._s3(upload)
            await asyncio.to_thread(s3.complete, upload.object_key, backend_id, parts)
        else:
            await asyncio.to_thread(self._join, upload)
        return await asyncio.to_thread(self.store.size, upload.object_key)

    def _join(self, upload: Upload) -> None:
        with self.store.writer(upload.object_key) as out:
            for number in range(1, upload.plan.part_count + 1):
                source = self.store.reader(upload.part_key(number))
                try:
                    while chunk := source.read(_COPY_BYTES):
                        out.write(chunk)
                finally:
                    source.close()
        self.store.delete_prefix(f"{upload.prefix}/parts")

    async def abort(self, upload: Upload) -> None:
        """Drop every byte of an unfinished upload."""
        if upload.transport == "presigned" and self.s3 is not None and upload.backend_upload_id:
            await asyncio.to_thread(self.s3.abort, upload.object_key, upload.backend_upload_id)
        await asyncio.to_thread(self.store.delete_prefix, upload.prefix)


def _etag(value: str) -> str:
    return value.strip().strip('"').lower()


async def abort_expired(pool: AsyncConnectionPool, transfers: Transfers, limit: int = 100) -> int:
    """Give up uploads still open past their expiry: their S3 multipart uploads aborted (those
    are no objects, so a sweep of old objects never finds them) and their parts deleted. For a
    periodic sweeper; returns how many were aborted."""
    async with pool.connection() as conn:
        cur = conn.cursor(row_factory=dict_row)
        await cur.execute(
            "SELECT * FROM resumable_uploads WHERE state = 'open' AND expires_at < now() "
            "ORDER BY expires_at LIMIT %s",
            (limit,),
        )
        rows = await cur.fetchall()
    store = UploadStore(pool)
    aborted = 0
    for row in rows:
        upload = Upload.from_row(row)
        if await store.move(upload, "open", "aborted"):
            await transfers.abort(upload)
            aborted += 1
    return aborted
