"""Fetching a job's source from an http(s) URL (a presigned GET of an object in a bucket the
tenant registered): streamed to disk chunk by chunk, never whole in memory, refused past a size
cap and a time limit. The URL's query string signs the request, so it is never logged or put in
an error message."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from clipsift_common.errors import InvalidArgument, ResourceExhausted

log = logging.getLogger(__name__)
_CHUNK = 1024 * 1024


class SourceUnavailable(Exception):
    """The URL's server could not be reached or failed: worth another attempt (not a ClipsiftError,
    so the job worker retries the job instead of failing it)."""


def redacted(url: str) -> str:
    """``url`` without its query string and credentials: what may appear in logs and errors."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidArgument(f"a source URL must be http(s)://host/...; got {redacted(url)!r}")


async def download(
    url: str,
    target: Path,
    *,
    max_bytes: int,
    timeout_seconds: float,
    read_timeout_seconds: float = 60.0,
) -> int:
    """Stream ``url`` into ``target``; returns the bytes written. A partial file is removed."""
    check_url(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_seconds):
            written = await _fetch(url, target, max_bytes, read_timeout_seconds)
    except TimeoutError:
        _discard(target)
        raise ResourceExhausted(
            f"downloading {redacted(url)} took longer than {timeout_seconds:g} s"
        ) from None
    except httpx.HTTPError as exc:
        _discard(target)
        raise SourceUnavailable(f"cannot download {redacted(url)}: {type(exc).__name__}") from None
    except BaseException:
        _discard(target)
        raise
    log.info(
        "source downloaded",
        extra={"url": redacted(url), "bytes": written, "seconds": round(time.perf_counter() - started, 3)},
    )
    return written


def _discard(partial: Path) -> None:
    partial.unlink(missing_ok=True)


async def _fetch(url: str, target: Path, max_bytes: int, read_timeout_seconds: float) -> int:
    timeout = httpx.Timeout(read_timeout_seconds, connect=min(30.0, read_timeout_seconds))
    # No redirects: a presigned URL answers itself, and a redirect could lead anywhere.
    async with (
        httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client,
        client.stream("GET", url) as response,
    ):
        if response.status_code >= 500:
            raise SourceUnavailable(f"{redacted(url)} answered HTTP {response.status_code}")
        if response.status_code != 200:
            raise InvalidArgument(f"{redacted(url)} answered HTTP {response.status_code}")
        declared = int(response.headers.get("content-length") or 0)
        if declared > max_bytes:
            raise ResourceExhausted(f"the source is {declared} bytes; the limit is {max_bytes}")
        written = 0
        with target.open("wb") as out:
            async for chunk in response.aiter_bytes(_CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise ResourceExhausted(f"the source is over the limit of {max_bytes} bytes")
                out.write(chunk)
        return written
