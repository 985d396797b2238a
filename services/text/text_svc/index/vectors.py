"""Nearest-neighbour search over the embeddings of a semantic index, in one of two places.

- ``PgVectorIndex``: pgvector's HNSW index in PostgreSQL (``text_index_vectors``), written in the
  same transaction as the documents. Used where the server has the extension.
- ``BlobVectorIndex``: a flat float32 matrix per index in the blob store, searched exactly with
  one matrix-vector product (a 100k x 384 matrix is ~40 MFLOP, a few milliseconds). Each add
  writes one immutable segment file before its transaction commits; when an index has too many
  segments an add rewrites them as one, from the embeddings stored in PostgreSQL.

Both may return ids of documents deleted or replaced since (the blob index keeps them until its
next compaction; a failed commit can leave a segment behind): callers keep only ids that still
exist in PostgreSQL.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
import time
import uuid
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from clipsift_common.blobkeys import index_prefix
from clipsift_common.errors import FailedPrecondition, NotFound
from clipsift_common.objectstore import ObjectBlobStore

from .sketch import I64
from .store import IndexRecord, IndexStore

log = logging.getLogger(__name__)
Vectors = npt.NDArray[np.float32]
Neighbour = tuple[int, float]  # (internal document id, cosine)
_SEGMENT_FILE = "vectors.npz"


class VectorIndex(Protocol):
    name: str

    async def add(
        self, conn: AsyncConnection[Any], record: IndexRecord, ids: I64, vectors: Vectors
    ) -> None: ...

    async def search(self, record: IndexRecord, vector: Vectors, k: int) -> list[Neighbour]: ...

    async def drop(self, record: IndexRecord) -> None: ...


def _literal(vector: Vectors) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]"


async def pgvector_dimensions(pool: AsyncConnectionPool) -> int | None:
    """Dimensions of ``text_index_vectors.embedding``, or None when pgvector is not set up."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT a.atttypmod FROM pg_attribute a "
            "WHERE a.attrelid = to_regclass('text_index_vectors') AND a.attname = 'embedding'"
        )
        row = await cur.fetchone()
    return int(row[0]) if row else None


class PgVectorIndex:
    name = "pgvector"

    def __init__(self, pool: AsyncConnectionPool, dimensions: int, ef_search: int = 100) -> None:
        self.pool = pool
        self.dimensions = dimensions
        self.ef_search = ef_search

    async def add(self, conn: AsyncConnection[Any], record: IndexRecord, ids: I64, vectors: Vectors) -> None:
        if vectors.shape[1] != self.dimensions:
            raise FailedPrecondition(
                f"the embedding model gives {vectors.shape[1]} dimensions but text_index_vectors holds "
                f"{self.dimensions}: set CLIPSIFT_TEXT_INDEX_VECTOR_BACKEND=blob for this model"
            )
        async with (
            conn.cursor() as cur,
            cur.copy("COPY text_index_vectors (document_id, index_id, embedding) FROM STDIN") as copy,
        ):
            for doc_id, vector in zip(ids.tolist(), vectors, strict=True):
                await copy.write_row((doc_id, record.id, _literal(vector)))

    async def search(self, record: IndexRecord, vector: Vectors, k: int) -> list[Neighbour]:
        literal = _literal(vector)
        async with self.pool.connection() as conn, conn.transaction():
            # The HNSW scan runs over every index's vectors; iterative scanning keeps going until
            # k rows of this index passed the filter (pgvector >= 0.8), instead of returning fewer.
            await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            await conn.execute(f"SET LOCAL hnsw.ef_search = {int(max(self.ef_search, k))}")
            cur = await conn.execute(
                "SELECT document_id, 1 - (embedding <=> %s::vector) AS cosine FROM text_index_vectors "
                "WHERE index_id = %s ORDER BY embedding <=> %s::vector LIMIT %s",
                (literal, record.id, literal, k),
            )
            rows = await cur.fetchall()
        found = [(int(r[0]), float(r[1])) for r in rows]
        # relaxed_order may return rows slightly out of order.
        return sorted(found, key=lambda n: -n[1])

    async def drop(self, record: IndexRecord) -> None:
        return None  # rows go with their documents (ON DELETE CASCADE)


class BlobVectorIndex:
    name = "blob"

    def __init__(self, blobs: ObjectBlobStore, store: IndexStore, max_segments: int) -> None:
        self.blobs = blobs
        self.store = store
        self.max_segments = max_segments
        # Segment files never change once written: cache them by name.
        self._segments: dict[str, tuple[I64, Vectors]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _folder(record: IndexRecord) -> str:
        # Under the tenant's prefix, then the record id: a re-created index starts from an empty folder.
        return f"{index_prefix(record.tenant_id, record.name)}/{record.id}"

    def _segment_key(self, record: IndexRecord, name: str) -> str:
        # One folder per segment: a prefix is what the blob store deletes, so a compaction can
        # remove each replaced segment on its own.
        return f"{self._folder(record)}/{name}/{_SEGMENT_FILE}"

    def _segment_names(self, record: IndexRecord) -> list[str]:
        folder = self._folder(record) + "/"
        keys = (blob.key.removeprefix(folder) for blob in self.blobs.list(self._folder(record)))
        return sorted(key.split("/")[0] for key in keys if key.endswith(f"/{_SEGMENT_FILE}"))

    def _write_segment(self, record: IndexRecord, ids: I64, vectors: Vectors) -> str:
        # Time-ordered names: a compacted segment sorts after the ones it replaces.
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        buffer = io.BytesIO()
        np.savez(buffer, ids=ids.astype(np.int64), vectors=vectors.astype(np.float32))
        self.blobs.put_bytes(self._segment_key(record, name), buffer.getvalue())
        return name

    async def add(self, conn: AsyncConnection[Any], record: IndexRecord, ids: I64, vectors: Vectors) -> None:
        existing = await asyncio.to_thread(self._segment_names, record)
        if len(existing) + 1 <= self.max_segments:
            await asyncio.to_thread(self._write_segment, record, ids, vectors)
            return
        # Compact: every embedding of the index, the ones just inserted included (this runs in
        # their transaction), as one segment; then the old segments go.
        all_ids, raw = await self.store.embeddings(conn, record)
        matrix = np.frombuffer(b"".join(raw), dtype="<f4").reshape(len(raw), vectors.shape[1])
        await asyncio.to_thread(self._write_segment, record, all_ids, matrix)
        for name in existing:
            await asyncio.to_thread(self.blobs.delete_prefix, f"{self._folder(record)}/{name}")
        log.info("compacted vector segments", extra={"index": record.id, "segments": len(existing)})

    def _load(self, record: IndexRecord) -> tuple[I64, Vectors]:
        for _ in range(3):  # a compaction may delete a listed segment before it is read
            names = self._segment_names(record)
            try:
                parts = [self._segment(record, name) for name in names]
            except NotFound:
                continue
            self._forget(record, keep=set(names))
            if not parts:
                return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
            return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        raise FailedPrecondition("the vector index is being rewritten; try again")

    def _segment(self, record: IndexRecord, name: str) -> tuple[I64, Vectors]:
        key = f"{self._folder(record)}/{name}"
        with self._lock:
            cached = self._segments.get(key)
        if cached is not None:
            return cached
        # A segment is loaded whole into the cache anyway: read it into memory, no local copy.
        with np.load(io.BytesIO(self.blobs.read_bytes(self._segment_key(record, name)))) as data:
            loaded = (data["ids"], data["vectors"])
        with self._lock:
            self._segments[key] = loaded
        return loaded

    def _search(self, record: IndexRecord, vector: Vectors, k: int) -> list[Neighbour]:
        ids, matrix = self._load(record)
        if len(ids) == 0:
            return []
        scores = matrix @ vector.astype(np.float32)
        # A replaced document's id never returns, but a segment rewritten by compaction repeats
        # ids of older segments until they are deleted: keep each id's best score once.
        want = min(len(scores), k * 2)
        top = np.argpartition(-scores, want - 1)[:want]
        top = top[np.argsort(-scores[top])]
        seen: dict[int, float] = {}
        for i in top.tolist():
            seen.setdefault(int(ids[i]), float(min(scores[i], 1.0)))
        return sorted(seen.items(), key=lambda n: -n[1])[:k]

    async def search(self, record: IndexRecord, vector: Vectors, k: int) -> list[Neighbour]:
        return await asyncio.to_thread(self._search, record, vector, k)

    async def drop(self, record: IndexRecord) -> None:
        await asyncio.to_thread(self.blobs.delete_prefix, self._folder(record))
        self._forget(record, keep=set())

    def _forget(self, record: IndexRecord, keep: set[str]) -> None:
        """Drop cached segments of ``record`` other than ``keep`` (compacted or deleted ones)."""
        prefix = self._folder(record) + "/"
        with self._lock:
            for key in [k for k in self._segments if k.startswith(prefix) and k[len(prefix) :] not in keep]:
                del self._segments[key]
