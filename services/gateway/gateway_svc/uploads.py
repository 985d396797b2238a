"""Request bodies streamed into the blob store, never held whole in memory."""

from __future__ import annotations

from fastapi import Request

from clipsift_common.errors import InvalidArgument, ResourceExhausted
from clipsift_common.objectstore import ObjectBlobStore


def check_declared_length(request: Request, limit: int) -> None:
    """Refuse early when Content-Length already says the body is over ``limit``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ResourceExhausted(f"upload of {declared} bytes exceeds the limit of {limit}")


async def stream_to_blob(request: Request, blobs: ObjectBlobStore, key: str, limit: int, what: str) -> int:
    """Write the body (``what`` it should hold: "corpus", "video") to ``key``; nothing appears
    under the key unless the whole body arrived within ``limit``. Returns the bytes written."""
    check_declared_length(request, limit)
    received = 0
    # The async writer: a multipart upload to a bucket must not block the event loop.
    async with blobs.async_writer(key) as out:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise ResourceExhausted(f"upload exceeds the limit of {limit} bytes")
            await out.write(chunk)
        if received == 0:
            raise InvalidArgument(f"the request body is empty: send the {what} as the body")
    return received
