"""Where a job's video comes from, as a local file for ffmpeg: a blob of the tenant (the file
itself on the folder backend, else a copy streamed into the job's scratch folder), a presigned
http(s) URL of an object in a bucket the tenant registered (streamed into scratch, size-capped), or
a server path under an allowed root. Each job works in its own scratch folder, removed when the
job ends, however it ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clipsift_common.blobkeys import owns
from clipsift_common.errors import ClipsiftError, InvalidArgument, NotFound
from clipsift_common.objectstore import ObjectBlobStore
from clipsift_common.worker import JobFailed

from .downloads import check_url, download, redacted
from .settings import VideoSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceRef:
    """Exactly one of a blob key, a server path or an http(s) URL."""

    blob_key: str = ""
    path: str = ""
    url: str = ""

    def __post_init__(self) -> None:
        if sum(bool(v) for v in (self.blob_key, self.path, self.url)) != 1:
            raise InvalidArgument("give exactly one of a blob key, a server path or a URL")

    def __str__(self) -> str:
        return self.blob_key or self.path or redacted(self.url)


def job_source_ref(options: Mapping[str, Any], tenant_id: str, name: str = "the source video") -> SourceRef:
    """The source a job's payload names (``source_key``, ``source_path`` or ``source_url``); a
    blob key outside the job's tenant is refused."""
    values = {field: options.get(f"source_{field}", "") or "" for field in ("key", "path", "url")}
    if not all(isinstance(v, str) for v in values.values()):
        raise JobFailed(f"{name}: source_key, source_path and source_url must be strings")
    try:
        ref = SourceRef(blob_key=values["key"], path=values["path"], url=values["url"])
    except InvalidArgument as exc:
        raise JobFailed(f"{name}: {exc}") from exc
    if ref.blob_key and not owns(tenant_id, ref.blob_key):
        raise JobFailed(f"{name}: blob {ref.blob_key} is not the tenant's")
    return ref


def allowed_path(path: str, allowed_roots: tuple[Path, ...]) -> Path:
    """``path`` resolved, refused outside ``allowed_roots`` or when it is not a file."""
    resolved = Path(path).resolve()
    if not any(resolved.is_relative_to(root.resolve()) for root in allowed_roots):
        raise InvalidArgument(f"{path} is outside the paths this server may read")
    if not resolved.is_file():
        raise NotFound(f"{path} not found")
    return resolved


@contextlib.asynccontextmanager
async def open_source(
    blobs: ObjectBlobStore,
    settings: VideoSettings,
    ref: SourceRef,
    scratch: Path,
    name: str = "the source video",
) -> AsyncIterator[Path]:
    """The source as a local file while the block runs; a copy made for it (under ``scratch``) is
    removed afterwards. A source that cannot be read fails the job: a redelivery would not make
    it readable."""
    opened: contextlib.AbstractContextManager[Path]
    try:
        if ref.blob_key:
            opened = blobs.local_file(ref.blob_key, scratch)
            path = await asyncio.to_thread(opened.__enter__)
        elif ref.url:
            target = scratch / "source.download"
            await download(
                ref.url,
                target,
                max_bytes=settings.max_source_bytes,
                timeout_seconds=settings.source_download_timeout_seconds,
                read_timeout_seconds=settings.source_read_timeout_seconds,
            )
            opened = _removed_after(target)
            path = opened.__enter__()
        else:
            path = await asyncio.to_thread(allowed_path, ref.path, settings.allowed_source_roots)
            opened = contextlib.nullcontext(path)
    except ClipsiftError as exc:
        raise JobFailed(f"{name} cannot be read: {exc}") from exc
    try:
        yield path
    finally:
        await asyncio.to_thread(opened.__exit__, None, None, None)


# Long enough for ffprobe to read a header; the URL never leaves the service.
_PROBE_URL_SECONDS = 600


@contextlib.asynccontextmanager
async def probe_input(
    blobs: ObjectBlobStore, settings: VideoSettings, ref: SourceRef, scratch: Path
) -> AsyncIterator[Path | str]:
    """What ffprobe should read to probe ``ref`` without copying it: the file itself (folder
    backend, server path), a short-lived signed URL of the blob on object storage (ffprobe reads
    the header with ranged requests: a 30 GB upload is not downloaded to be probed), or the
    source URL. Raises ClipsiftError (NotFound, InvalidArgument) for a source it cannot read."""
    if ref.url:
        check_url(ref.url)
        yield ref.url
        return
    if ref.blob_key and blobs.local_root is None:
        await asyncio.to_thread(blobs.info, ref.blob_key)  # NotFound before ffprobe's 404
        try:
            signed = await asyncio.to_thread(blobs.signed_url, ref.blob_key, _PROBE_URL_SECONDS)
        except Exception:  # credentials that cannot sign (some workload identities): copy it instead
            log.warning("cannot sign a URL to probe a blob; probing a copy", exc_info=True)
            signed = None
        if signed is not None:
            yield signed
            return
    opened: contextlib.AbstractContextManager[Path]
    if ref.blob_key:
        opened = blobs.local_file(ref.blob_key, scratch)
        path = await asyncio.to_thread(opened.__enter__)
    else:
        path = await asyncio.to_thread(allowed_path, ref.path, settings.allowed_source_roots)
        opened = contextlib.nullcontext(path)
    try:
        yield path
    finally:
        await asyncio.to_thread(opened.__exit__, None, None, None)


@contextlib.contextmanager
def _removed_after(path: Path) -> Iterator[Path]:
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def job_workspace(settings: VideoSettings, job_id: str) -> AsyncIterator[Path]:
    """A fresh local folder for one job's files (an earlier attempt's leftovers removed first),
    removed when the job ends, also when it fails."""
    work = settings.scratch / "work" / job_id
    await asyncio.to_thread(shutil.rmtree, work, True)
    work.mkdir(parents=True)
    try:
        yield work
    finally:
        await asyncio.to_thread(shutil.rmtree, work, True)
