"""Where a clip job's video comes from: the shared blob store, or a server path under an allowed root."""

from __future__ import annotations

import asyncio
from pathlib import Path

from clipsift_common.blobstore import LocalBlobStore
from clipsift_common.errors import ClipsiftError, InvalidArgument, NotFound
from clipsift_common.worker import JobFailed


def resolve_source(
    blobs: LocalBlobStore, allowed_roots: tuple[Path, ...], *, blob_key: str = "", path: str = ""
) -> Path:
    """The local file for ``blob_key`` or ``path`` (exactly one); refuse paths outside ``allowed_roots``."""
    if bool(blob_key) == bool(path):
        raise InvalidArgument("give exactly one of a blob key or a server path")
    if blob_key:
        resolved = blobs.local_path(blob_key)
    else:
        resolved = Path(path).resolve()
        if not any(resolved.is_relative_to(root.resolve()) for root in allowed_roots):
            raise InvalidArgument(f"{path} is outside the paths this server may read")
    if not resolved.is_file():
        raise NotFound(f"{blob_key or path} not found")
    return resolved


async def job_source(
    blobs: LocalBlobStore,
    allowed_roots: tuple[Path, ...],
    *,
    blob_key: str,
    path: str,
    name: str = "the source video",
) -> Path:
    """``resolve_source`` for a job: off the event loop, and a source that cannot be read fails the
    job (a redelivery would not make it readable)."""
    try:
        return await asyncio.to_thread(resolve_source, blobs, allowed_roots, blob_key=blob_key, path=path)
    except ClipsiftError as exc:
        raise JobFailed(f"{name} cannot be read: {exc}") from exc
