"""The per-tenant image index in PostgreSQL: signatures in, candidate signatures out.

Candidates for a query are found in SQL with XOR + ``bit_count`` over the tenant's rows (one
sequential pass over them, no vector extension needed), in both orientations; the full
near-duplicate rule, embeddings included, is then applied by ``duplicates.compare``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from psycopg_pool import AsyncConnectionPool

from .duplicates import Signature, Thresholds
from .hashing import HashSet, ImageHashes

MIGRATIONS = "vision_svc.migrations"
_SIGN = 1 << 63


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= _SIGN else value


def _unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


@dataclass(frozen=True)
class IndexedImage:
    image_id: str
    signature: Signature
    width: int
    height: int


class ImageIndex:
    """Signatures of each tenant's images, keyed by the caller's image id."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def add(self, tenant_id: str, images: list[IndexedImage]) -> tuple[int, int]:
        """Insert or replace ``images`` in one transaction; returns (replaced, tenant total)."""
        rows = [
            (
                tenant_id,
                image.image_id,
                *(_signed(v) for v in image.signature.hashes.original.as_tuple()),
                *(_signed(v) for v in image.signature.hashes.mirrored.as_tuple()),
                None if image.signature.embedding is None else image.signature.embedding.tolist(),
                image.width,
                image.height,
            )
            for image in images
        ]
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT count(*) FROM image_index WHERE tenant_id = %s AND image_id = ANY(%s)",
                (tenant_id, [image.image_id for image in images]),
            )
            replaced = int((await cur.fetchone() or (0,))[0])
            async with conn.cursor() as cursor:
                await cursor.executemany(
                    """INSERT INTO image_index (tenant_id, image_id, phash, dhash, whash, mirror_phash,
                           mirror_dhash, mirror_whash, embedding, width, height)
                       VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                       ON CONFLICT (tenant_id, image_id) DO UPDATE SET
                           phash = EXCLUDED.phash, dhash = EXCLUDED.dhash, whash = EXCLUDED.whash,
                           mirror_phash = EXCLUDED.mirror_phash, mirror_dhash = EXCLUDED.mirror_dhash,
                           mirror_whash = EXCLUDED.mirror_whash, embedding = EXCLUDED.embedding,
                           width = EXCLUDED.width, height = EXCLUDED.height, indexed_at = now()""",
                    rows,
                )
            total = await self._count(conn, tenant_id)
        return replaced, total

    async def remove(self, tenant_id: str, image_ids: list[str]) -> int:
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(
                "DELETE FROM image_index WHERE tenant_id = %s AND image_id = ANY(%s)", (tenant_id, image_ids)
            )
            return cur.rowcount

    async def candidates(
        self, tenant_id: str, query: ImageHashes, thresholds: Thresholds, hash_sum_bound: int
    ) -> tuple[list[IndexedImage], int]:
        """Indexed images that may match ``query`` (hash rule met, or summed distance within
        ``hash_sum_bound``, in either orientation), and how many images the tenant has."""
        p, d, w = (_signed(v) for v in query.original.as_tuple())
        mp, md, mw = (_signed(v) for v in query.mirrored.as_tuple())
        params = {
            "tenant": tenant_id,
            "p": p,
            "d": d,
            "w": w,
            "mp": mp,
            "md": md,
            "mw": mw,
            "t": thresholds.max_hash_distance,
            "k": thresholds.min_hashes,
            "bound": max(hash_sum_bound, thresholds.max_hash_sum),
        }
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                """WITH scored AS (
                       SELECT image_id, phash, dhash, whash, mirror_phash, mirror_dhash, mirror_whash,
                              embedding, width, height,
                              bit_count((phash # %(p)s)::bit(64)) AS p0,
                              bit_count((dhash # %(d)s)::bit(64)) AS d0,
                              bit_count((whash # %(w)s)::bit(64)) AS w0,
                              bit_count((phash # %(mp)s)::bit(64)) AS p1,
                              bit_count((dhash # %(md)s)::bit(64)) AS d1,
                              bit_count((whash # %(mw)s)::bit(64)) AS w1
                       FROM image_index WHERE tenant_id = %(tenant)s)
                   SELECT image_id, phash, dhash, whash, mirror_phash, mirror_dhash, mirror_whash,
                          embedding, width, height
                   FROM scored
                   WHERE LEAST(p0 + d0 + w0, p1 + d1 + w1) <= %(bound)s
                      OR (p0 <= %(t)s)::int + (d0 <= %(t)s)::int + (w0 <= %(t)s)::int >= %(k)s
                      OR (p1 <= %(t)s)::int + (d1 <= %(t)s)::int + (w1 <= %(t)s)::int >= %(k)s""",
                params,
            )
            rows = await cur.fetchall()
            total = await self._count(conn, tenant_id)
        found = [
            IndexedImage(
                row[0],
                Signature(
                    ImageHashes(
                        HashSet(*(_unsigned(v) for v in row[1:4])), HashSet(*(_unsigned(v) for v in row[4:7]))
                    ),
                    None if row[7] is None else np.asarray(row[7], dtype=np.float32),
                ),
                int(row[8]),
                int(row[9]),
            )
            for row in rows
        ]
        return found, total

    async def _count(self, conn: object, tenant_id: str) -> int:
        cur = await conn.execute("SELECT count(*) FROM image_index WHERE tenant_id = %s", (tenant_id,))  # type: ignore[attr-defined]
        row = await cur.fetchone()
        return int(row[0]) if row else 0
