"""PostgreSQL storage of the persistent indexes: index records, documents, LSH band keys and
passage fingerprints (schema in ``migrations/``).

Writes to one index are serialised by a row lock on its record, so concurrent adds of the same
document id cannot both insert it. Band keys and fingerprints are written with binary COPY:
an index of 100k documents holds millions of such rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from clipsift_common.errors import NotFound

from .sketch import I64, Layout, Sketches, signature_bytes

_SELECT_INDEX = (
    "SELECT id, tenant_id, name, semantic, shingle_size, num_perm, bands, rows, documents, created_at, "
    "updated_at FROM text_indexes"
)
_CREATE_INDEX = """
INSERT INTO text_indexes (tenant_id, name, semantic, shingle_size, num_perm, bands, rows)
VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id
"""


@dataclass(frozen=True)
class IndexRecord:
    id: int
    tenant_id: str
    name: str
    semantic: bool
    shingle_size: int
    num_perm: int
    bands: int
    rows: int
    documents: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class NewDocuments:
    """Validated documents with their sketches (and embeddings, for a semantic index)."""

    ids: Sequence[str]
    titles: Sequence[str]
    texts: Sequence[str]
    sketches: Sketches
    embeddings: npt.NDArray[np.float32] | None


@dataclass(frozen=True)
class StoredDocument:
    id: int  # internal row id
    external_id: str
    title: str
    content_sha1: str
    signature: bytes


@dataclass(frozen=True)
class AddOutcome:
    added: int
    replaced: int
    document_ids: I64  # internal ids of the added documents, in request order
    documents: int  # in the index afterwards


def _record(row: dict[str, Any]) -> IndexRecord:
    return IndexRecord(**row)


def _binary_copy_rows(columns: Sequence[tuple[str, npt.NDArray[Any]]]) -> bytes:
    """PostgreSQL binary COPY data for int16/int64 columns given as equal-length arrays."""
    n = len(columns[0][1])
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for name, values in columns:
        fields += [(f"{name}_len", ">i4"), (name, ">i8" if values.dtype.itemsize == 8 else ">i2")]
    tuples = np.empty(n, dtype=np.dtype(fields))
    tuples["count"] = len(columns)
    for name, values in columns:
        tuples[f"{name}_len"] = values.dtype.itemsize if values.dtype.itemsize == 8 else 2
        tuples[name] = values
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    return header + tuples.tobytes() + (-1).to_bytes(2, "big", signed=True)


async def _copy(cur: AsyncCursor[Any], table: str, columns: Sequence[tuple[str, npt.NDArray[Any]]]) -> None:
    if len(columns[0][1]) == 0:
        return
    names = ", ".join(name for name, _ in columns)
    async with cur.copy(f"COPY {table} ({names}) FROM STDIN WITH (FORMAT BINARY)") as copy:
        await copy.write(_binary_copy_rows(columns))


class IndexStore:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def get(self, tenant: str, name: str) -> IndexRecord | None:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(f"{_SELECT_INDEX} WHERE tenant_id = %s AND name = %s", (tenant, name))
            row = await cur.fetchone()
        return _record(row) if row else None

    async def require(self, tenant: str, name: str) -> IndexRecord:
        record = await self.get(tenant, name)
        if record is None:
            raise NotFound(f"index {name!r} not found")
        return record

    async def list_indexes(self, tenant: str) -> list[IndexRecord]:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(f"{_SELECT_INDEX} WHERE tenant_id = %s ORDER BY name", (tenant,))
            return [_record(row) for row in await cur.fetchall()]

    @contextlib.asynccontextmanager
    async def writing(
        self, tenant: str, name: str, create: tuple[Layout, bool] | None
    ) -> AsyncIterator[tuple[AsyncConnection[Any], IndexRecord, bool]]:
        """A transaction holding the index's row lock. With ``create`` (layout, semantic), a
        missing index is created; without, a missing index is NotFound. Yields (connection,
        record, created); commits when the block succeeds, rolls back when it raises."""
        async with self.pool.connection() as conn, conn.transaction():
            created = False
            async with conn.cursor(row_factory=dict_row) as cur:
                if create is not None:
                    layout, semantic = create
                    shape = (layout.shingle_size, layout.num_perm, layout.bands, layout.rows)
                    await cur.execute(_CREATE_INDEX, (tenant, name, semantic, *shape))
                    created = await cur.fetchone() is not None
                await cur.execute(
                    f"{_SELECT_INDEX} WHERE tenant_id = %s AND name = %s FOR UPDATE",
                    (tenant, name),
                )
                row = await cur.fetchone()
            if row is None:
                raise NotFound(f"index {name!r} not found")
            yield conn, _record(row), created

    async def add(self, conn: AsyncConnection[Any], record: IndexRecord, docs: NewDocuments) -> AddOutcome:
        """Insert ``docs`` into ``record`` inside the caller's ``writing`` transaction; documents
        with an id already in the index replace the stored ones."""
        async with conn.cursor() as cur:
            await cur.execute(
                "SELECT id FROM text_index_documents WHERE index_id = %s AND external_id = ANY(%s)",
                (record.id, list(docs.ids)),
            )
            old = [row[0] for row in await cur.fetchall()]
            if old:
                await self._delete_documents(cur, old)
            await cur.execute(
                "SELECT nextval('text_index_documents_id_seq') FROM generate_series(1, %s)", (len(docs.ids),)
            )
            new_ids = np.array([row[0] for row in await cur.fetchall()], dtype=np.int64)
            sketches = docs.sketches
            async with cur.copy(
                "COPY text_index_documents "
                "(id, index_id, external_id, title, body, content_sha1, signature, embedding) FROM STDIN"
            ) as copy:
                vectors = docs.embeddings
                for i, doc_id in enumerate(new_ids.tolist()):
                    embedding = None if vectors is None else vectors[i].astype("<f4").tobytes()
                    await copy.write_row(
                        (
                            doc_id,
                            record.id,
                            docs.ids[i],
                            docs.titles[i],
                            docs.texts[i],
                            sketches.digests[i],
                            signature_bytes(sketches.signatures[i]),
                            embedding,
                        )
                    )
            bands = sketches.band_keys.shape[1]
            await _copy(
                cur,
                "text_index_bands",
                [
                    ("index_id", np.full(len(new_ids) * bands, record.id, dtype=np.int64)),
                    ("band", np.tile(np.arange(bands, dtype=np.int16), len(new_ids))),
                    ("key", sketches.band_keys.reshape(-1)),
                    ("document_id", np.repeat(new_ids, bands)),
                ],
            )
            counts = [len(f) for f in sketches.fingerprints]
            await _copy(
                cur,
                "text_index_fingerprints",
                [
                    ("index_id", np.full(sum(counts), record.id, dtype=np.int64)),
                    (
                        "hash",
                        np.concatenate(sketches.fingerprints) if counts else np.zeros(0, dtype=np.int64),
                    ),
                    ("document_id", np.repeat(new_ids, counts)),
                ],
            )
            documents = record.documents - len(old) + len(new_ids)
            await cur.execute(
                "UPDATE text_indexes SET documents = %s, updated_at = now() WHERE id = %s",
                (documents, record.id),
            )
        return AddOutcome(len(new_ids) - len(old), len(old), new_ids, documents)

    @staticmethod
    async def _delete_documents(cur: AsyncCursor[Any], ids: list[int]) -> None:
        await cur.execute("DELETE FROM text_index_bands WHERE document_id = ANY(%s)", (ids,))
        await cur.execute("DELETE FROM text_index_fingerprints WHERE document_id = ANY(%s)", (ids,))
        await cur.execute("DELETE FROM text_index_documents WHERE id = ANY(%s)", (ids,))

    async def band_candidates(self, record: IndexRecord, keys: I64, limit: int) -> list[StoredDocument]:
        """Documents sharing at least one band key with ``keys`` (one per band), those sharing the
        most first, at most ``limit``."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                """SELECT d.id, d.external_id, d.title, d.content_sha1, d.signature
                   FROM (SELECT b.document_id, count(*) AS hits
                         FROM unnest(%s::smallint[], %s::bigint[]) AS q (band, key)
                         JOIN text_index_bands b ON b.index_id = %s AND b.band = q.band AND b.key = q.key
                         GROUP BY b.document_id ORDER BY hits DESC, b.document_id LIMIT %s) AS c
                   JOIN text_index_documents d ON d.id = c.document_id
                   ORDER BY c.hits DESC, d.id""",
                (list(range(len(keys))), keys.tolist(), record.id, limit),
            )
            return [StoredDocument(*row) for row in await cur.fetchall()]

    async def fingerprint_candidates(self, record: IndexRecord, hashes: I64, limit: int) -> list[int]:
        """Internal ids of the documents sharing the most of ``hashes``, at most ``limit``."""
        if len(hashes) == 0:
            return []
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                """SELECT document_id FROM text_index_fingerprints
                   WHERE index_id = %s AND hash = ANY(%s)
                   GROUP BY document_id ORDER BY count(*) DESC, document_id LIMIT %s""",
                (record.id, hashes.tolist(), limit),
            )
            return [row[0] for row in await cur.fetchall()]

    async def bodies(self, record: IndexRecord, ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
        """(external id, title, text) of the given internal ids that still exist in the index."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id, external_id, title, body FROM text_index_documents "
                "WHERE index_id = %s AND id = ANY(%s)",
                (record.id, list(ids)),
            )
            return {row[0]: (row[1], row[2], row[3]) for row in await cur.fetchall()}

    async def titles(self, record: IndexRecord, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """(external id, title) of the given internal ids that still exist in the index."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id, external_id, title FROM text_index_documents "
                "WHERE index_id = %s AND id = ANY(%s)",
                (record.id, list(ids)),
            )
            return {row[0]: (row[1], row[2]) for row in await cur.fetchall()}

    async def embeddings(self, conn: AsyncConnection[Any], record: IndexRecord) -> tuple[I64, list[bytes]]:
        """Internal ids and stored embeddings (float32 bytes) of every document of the index."""
        cur = await conn.execute(
            "SELECT id, embedding FROM text_index_documents WHERE index_id = %s AND embedding IS NOT NULL "
            "ORDER BY id",
            (record.id,),
        )
        rows = await cur.fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), [bytes(r[1]) for r in rows]

    async def delete_document(self, tenant: str, name: str, external_id: str) -> int:
        """Remove one document; return the documents left. NotFound for an unknown index or id."""
        async with self.writing(tenant, name, None) as (conn, record, _), conn.cursor() as cur:
            await cur.execute(
                "SELECT id FROM text_index_documents WHERE index_id = %s AND external_id = %s",
                (record.id, external_id),
            )
            row = await cur.fetchone()
            if row is None:
                raise NotFound(f"document {external_id!r} not found in index {name!r}")
            await self._delete_documents(cur, [row[0]])
            await cur.execute(
                "UPDATE text_indexes SET documents = documents - 1, updated_at = now() WHERE id = %s",
                (record.id,),
            )
            return record.documents - 1

    async def delete_index(self, conn: AsyncConnection[Any], record: IndexRecord) -> None:
        """Remove the index and everything in it, inside the caller's ``writing`` transaction."""
        async with conn.cursor() as cur:
            await cur.execute("DELETE FROM text_index_bands WHERE index_id = %s", (record.id,))
            await cur.execute("DELETE FROM text_index_fingerprints WHERE index_id = %s", (record.id,))
            await cur.execute("DELETE FROM text_indexes WHERE id = %s", (record.id,))
