"""Blob store on object storage (S3-compatible, Google Cloud Storage, Azure Blob, local folder).

One class over ``obstore``, which speaks every backend's own protocol, streams (multipart
uploads, ranged reads) and signs URLs; the backend is chosen by the URL alone
(``s3://bucket/prefix``, ``gs://bucket``, ``az://container/prefix``, ``file:///path``).
Credentials come from ``options`` or, unset, from the backend's usual environment (AWS_*,
GOOGLE_*, AZURE_* variables, workload identity), so production needs no code change.

Publication is atomic on every backend: a writer's object appears only when its block ends
without an exception (S3/GCS/Azure complete the multipart upload then; the folder backend
renames a staged file), and an aborted writer leaves nothing visible.
"""

from __future__ import annotations

import contextlib
import datetime
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal, cast

import obstore
from obstore.store import AzureStore, GCSStore, S3Store, from_url

from .errors import InvalidArgument, NotFound
from .settings import BlobSettings

_KEY = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
# Multipart part size: S3 needs at least 5 MiB per part; memory use is about one part per writer.
PART_BYTES = 8 * 1024 * 1024


def check_key(key: str) -> str:
    # fullmatch: with match, "$" also matches before a trailing newline ("a\n" passed).
    if not _KEY.fullmatch(key) or any(part in {".", ".."} for part in key.split("/")):
        raise InvalidArgument(f"invalid blob key {key!r}")
    return key


def open_blob_store(settings: BlobSettings) -> ObjectBlobStore:
    """The blob store that ``settings`` name (``blob_url`` or ``blob_dir``)."""
    client_options = {"allow_http": True} if settings.blob_allow_http else None
    return ObjectBlobStore(settings.blob_location, settings.blob_options, client_options)


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    modified: datetime.datetime


class ObjectBlobStore:
    def __init__(
        self,
        url: str,
        options: dict[str, str] | None = None,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        self.url = url
        # The folder backend is also reachable as plain files (ffmpeg reads them in place).
        self.local_root = Path(url.removeprefix("file://")) if url.startswith("file://") else None
        if self.local_root is not None:
            self.local_root.mkdir(parents=True, exist_ok=True)
        try:
            # Keys differ per backend (aws_*, google_*, azure_*): obstore checks them, not mypy.
            self._store = from_url(
                url, config=cast(Any, options or None), client_options=cast(Any, client_options or None)
            )
        except (ValueError, obstore.exceptions.BaseError) as exc:
            raise InvalidArgument(f"cannot open blob store {url!r}: {exc}") from exc

    # -- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[obstore.WritableFile]:
        """A stream to write ``key``; the object becomes visible only if the block succeeds."""
        with obstore.open_writer(self._store, check_key(key), buffer_size=PART_BYTES) as handle:
            yield handle

    @contextlib.asynccontextmanager
    async def async_writer(self, key: str) -> AsyncIterator[obstore.AsyncWritableFile]:
        async with obstore.open_writer_async(self._store, check_key(key), buffer_size=PART_BYTES) as handle:
            yield handle

    def put_bytes(self, key: str, data: bytes) -> None:
        obstore.put(self._store, check_key(key), data)

    def put_file(self, key: str, path: Path) -> int:
        """Upload a local file, streamed in parts; returns its size."""
        with path.open("rb") as source:
            obstore.put(self._store, check_key(key), source, chunk_size=PART_BYTES)
        return path.stat().st_size

    def put_dir(self, prefix: str, directory: Path, last: str | None = None) -> int:
        """Upload every file under ``directory`` to ``prefix/<relative path>``; ``last`` (a relative
        path) goes up after all the others, so a reader that waits for it sees a complete set.
        Returns the number of files."""
        files = sorted(p for p in directory.rglob("*") if p.is_file())
        files.sort(key=lambda p: p.relative_to(directory).as_posix() == last)
        for path in files:
            self.put_file(f"{prefix.rstrip('/')}/{path.relative_to(directory).as_posix()}", path)
        return len(files)

    # -- reading ---------------------------------------------------------------------------

    def read_bytes(self, key: str) -> bytes:
        with self._not_found(key):
            return bytes(obstore.get(self._store, check_key(key)).bytes())

    def reader(self, key: str) -> obstore.ReadableFile:
        """A seekable stream of ``key`` (ranged requests underneath: zip archives, Range)."""
        with self._not_found(key):
            return obstore.open_reader(self._store, check_key(key), buffer_size=PART_BYTES)

    def get_file(self, key: str, path: Path) -> int:
        """Download ``key`` into ``path``, streamed; returns the bytes written."""
        path.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with self._not_found(key):
            result = obstore.get(self._store, check_key(key))
            with path.open("wb") as target:
                for chunk in result.stream(min_chunk_size=PART_BYTES):
                    written += target.write(chunk)
        return written

    def publish_dir(self, prefix: str, directory: Path, last: str) -> int:
        """Replace whatever is under ``prefix`` (an earlier, killed attempt's files) with the files
        of ``directory``, ``last`` after all others: readers wait for ``last``, so they see the set
        complete or not at all. A failed upload leaves nothing under ``prefix``."""
        self.delete_prefix(prefix)
        try:
            return self.put_dir(prefix, directory, last=last)
        except BaseException:
            self.delete_prefix(prefix)
            raise

    def get_dir(self, prefix: str, directory: Path) -> int:
        """Download every object under ``prefix/`` into ``directory``; returns how many."""
        blobs = self.list(prefix)
        for blob in blobs:
            self.get_file(blob.key, directory / blob.key.removeprefix(prefix.rstrip("/") + "/"))
        return len(blobs)

    async def stream(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes ``start`` to ``end`` (exclusive; None: to the end) of ``key``, in chunks."""
        options: obstore.GetOptions = {"range": {"offset": start} if end is None else (start, end)}
        with self._not_found(key):
            result = await obstore.get_async(self._store, check_key(key), options=options)
        async for chunk in result.stream(min_chunk_size=1024 * 1024):
            yield bytes(chunk)

    @contextlib.contextmanager
    def local_file(self, key: str, scratch: Path) -> Iterator[Path]:
        """``key`` as a local file for tools that need a path: the blob itself on the folder
        backend, else a copy downloaded under ``scratch`` and removed afterwards. Each copy gets
        a folder of its own, so concurrent callers of one key never share (or delete) a file."""
        if self.local_root is not None:
            path = self.local_root / check_key(key)
            if not path.is_file():
                raise NotFound(f"blob {key} not found")
            yield path
            return
        folder = scratch / f"copy-{uuid.uuid4().hex}"
        try:
            copy = folder / PurePosixPath(check_key(key)).name
            self.get_file(key, copy)
            yield copy
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def rename(self, source: str, target: str) -> None:
        """Move ``source`` to ``target`` inside the store: a file rename on the folder backend, a
        server-side copy then delete on object stores (S3's single copy stops at 5 GiB)."""
        with self._not_found(source):
            obstore.rename(self._store, check_key(source), check_key(target))

    # -- metadata and removal --------------------------------------------------------------

    def info(self, key: str) -> BlobInfo:
        with self._not_found(key):
            meta = obstore.head(self._store, check_key(key))
        return BlobInfo(key=key, size=int(meta["size"]), modified=meta["last_modified"])

    def exists(self, key: str) -> bool:
        try:
            self.info(key)
        except NotFound:
            return False
        return True

    def size(self, key: str) -> int:
        return self.info(key).size

    def list(self, prefix: str) -> list[BlobInfo]:
        """Every object under ``prefix/`` (a folder-like prefix, never a partial name)."""
        found = []
        for batch in obstore.list(self._store, check_key(prefix.rstrip("/")) + "/", chunk_size=1000):
            for meta in batch:
                # Staged uploads of the folder backend ("key#1") are not objects yet.
                if _KEY.fullmatch(meta["path"]):
                    found.append(BlobInfo(meta["path"], int(meta["size"]), meta["last_modified"]))
        return found

    def delete(self, key: str) -> None:
        """Remove one object (nothing happens when there is none)."""
        with contextlib.suppress(FileNotFoundError):
            obstore.delete(self._store, check_key(key))

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object under ``prefix/``; returns how many."""
        keys = [blob.key for blob in self.list(prefix)]
        for start in range(0, len(keys), 1000):
            obstore.delete(self._store, keys[start : start + 1000])
        if self.local_root is not None:  # the folder backend leaves empty folders behind
            shutil.rmtree(self.local_root / check_key(prefix.rstrip("/")), ignore_errors=True)
        return len(keys)

    def signed_url(self, key: str, expires_seconds: int, method: Literal["GET", "PUT"] = "GET") -> str | None:
        """A URL that grants ``method`` on ``key`` for ``expires_seconds``; None on the folder
        backend, which has no signer (the gateway streams those itself)."""
        if not isinstance(self._store, S3Store | GCSStore | AzureStore):
            return None
        expires = datetime.timedelta(seconds=expires_seconds)
        return obstore.sign(self._store, method, check_key(key), expires)

    @contextlib.contextmanager
    def _not_found(self, key: str) -> Iterator[None]:
        try:
            yield
        except FileNotFoundError:
            raise NotFound(f"blob {key} not found") from None
