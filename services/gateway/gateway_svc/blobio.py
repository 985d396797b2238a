"""A blob as a standard binary file, for code that wants one (``zipfile`` seeks and reads it).

``ObjectBlobStore.reader`` returns obstore's ``ReadableFile``: seekable, ranged underneath, but its
``read`` returns obstore ``Bytes``, which ``zipfile`` cannot decode member names from. This wraps it
as an ``io.RawIOBase`` whose reads are plain ``bytes``."""

from __future__ import annotations

import io
from typing import Any


class BlobFile(io.RawIOBase):
    def __init__(self, handle: Any) -> None:
        super().__init__()
        self._handle = handle

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = bytes(self._handle.read(len(buffer)))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return int(self._handle.seek(offset, whence))

    def tell(self) -> int:
        return int(self._handle.tell())

    def close(self) -> None:
        if not self.closed:
            self._handle.close()
        super().close()
