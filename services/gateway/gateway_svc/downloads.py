"""Job files served from the blob store: a short-lived signed URL where the backend signs them
(S3, GCS, Azure: the bytes then travel from the bucket, never through the gateway), else streamed
by the gateway with single-range ``Range`` support (the folder backend).

Every key served is built here from the caller's tenant and a job the job store already found for
that tenant, so no request can name another tenant's object; a signed URL grants one key only (a
URL re-targeted to another key fails its signature at the bucket)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC
from typing import Annotated
from urllib.parse import quote

from fastapi import HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from clipsift_common.blobkeys import job_prefix, owns
from clipsift_common.errors import InvalidArgument, NotFound
from clipsift_common.objectstore import ObjectBlobStore, check_key

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


# ``?redirect=false``: the bytes through the gateway even where the backend signs URLs, for clients
# that may only talk to this origin (the web UI's Content-Security-Policy allows no bucket).
Redirect = Annotated[
    bool,
    Query(description="false: stream the file through the gateway instead of a 307 to a signed URL"),
]


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # exclusive


def job_file_key(tenant_id: str, job_id: str, relative: str) -> str:
    """The key of a file a job's manifest names (relative to the job's prefix): refused unless it
    stays inside the tenant's job (no ``..``, no absolute path: ``check_key``)."""
    try:
        key = check_key(f"{job_prefix(tenant_id, job_id)}/{relative}")
    except InvalidArgument:
        raise NotFound(f"job {job_id} has no file {relative!r}") from None
    if not owns(tenant_id, key):  # defence in depth: job_prefix already starts with the tenant's
        raise NotFound(f"job {job_id} has no file {relative!r}")
    return key


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range ``header`` asks for within ``size`` bytes; None for the whole file
    (no header, several ranges or one that is not a byte range: RFC 9110 lets a server answer
    those with the whole file). Raises 416 when the range lies past the end."""
    match = _RANGE.fullmatch(header.strip()) if header is not None else None
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise _unsatisfiable(size)
        return ByteRange(max(size - length, 0), size)
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    if start >= size or end <= start:
        raise _unsatisfiable(size)
    return ByteRange(start, end)


def _unsatisfiable(size: int) -> HTTPException:
    return HTTPException(416, "requested range not satisfiable", headers={"Content-Range": f"bytes */{size}"})


def _disposition(filename: str, attachment: bool) -> str:
    kind = "attachment" if attachment else "inline"
    return f"{kind}; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"


async def serve_blob(
    request: Request,
    blobs: ObjectBlobStore,
    key: str,
    *,
    media_type: str,
    filename: str,
    url_seconds: int,
    attachment: bool = True,
    redirect: bool = True,
) -> Response:
    """``key`` for the caller: 307 to a signed URL valid ``url_seconds`` when the backend signs,
    else the bytes (206 for a satisfiable single ``Range``, 416 past the end)."""
    info = await asyncio.to_thread(blobs.info, key)  # NotFound: 404 before any redirect
    url = await asyncio.to_thread(blobs.signed_url, key, url_seconds, "GET") if redirect else None
    if url is not None:
        # no-store: the URL expires; a cached redirect would outlive it.
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "private, no-store"})
    byte_range = parse_range(request.headers.get("range"), info.size)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": _disposition(filename, attachment),
        "Last-Modified": info.modified.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Cache-Control": "private",
    }
    if byte_range is None:
        headers["Content-Length"] = str(info.size)
        return StreamingResponse(blobs.stream(key), media_type=media_type, headers=headers)
    headers["Content-Length"] = str(byte_range.end - byte_range.start)
    headers["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end - 1}/{info.size}"
    return StreamingResponse(
        blobs.stream(key, byte_range.start, byte_range.end),
        status_code=206,
        media_type=media_type,
        headers=headers,
    )
