"""Blob store for uploads, results and models.

Local directory by default. Writes go to a temporary file and are renamed into place only
when complete, so a reader never sees half a blob and a failed upload leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from .errors import NotFound
from .objectstore import check_key


class BlobStore(Protocol):
    def writer(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]: ...
    def reader(self, key: str) -> BinaryIO: ...
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int: ...
    def delete_prefix(self, prefix: str) -> None: ...
    def local_path(self, key: str) -> Path: ...


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self._tmp = self.root / ".tmp"
        self._tmp.mkdir(exist_ok=True)

    def local_path(self, key: str) -> Path:
        return self.root / check_key(key)

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[BinaryIO]:
        """Yield a file to write; it becomes visible under ``key`` only if the block succeeds."""
        target = self.local_path(key)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise

    def put_bytes(self, key: str, data: bytes) -> None:
        with self.writer(key) as handle:
            handle.write(data)

    def reader(self, key: str) -> BinaryIO:
        try:
            return self.local_path(key).open("rb")
        except FileNotFoundError:
            raise NotFound(f"blob {key} not found") from None

    def read_bytes(self, key: str) -> bytes:
        with self.reader(key) as handle:
            return handle.read()

    def exists(self, key: str) -> bool:
        return self.local_path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.local_path(key).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"blob {key} not found") from None

    def delete_prefix(self, prefix: str) -> None:
        path = self.local_path(prefix.rstrip("/"))
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
