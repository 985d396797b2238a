"""Each tenant's index of video fingerprints, in PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from .fingerprint import Fingerprint

MIGRATIONS = "video_svc.migrations"


@dataclass(frozen=True)
class IndexedVideo:
    video_id: str
    name: str
    fingerprint: Fingerprint


class FingerprintStore:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def put(
        self, tenant_id: str, video_id: str, name: str, fingerprint: Fingerprint, source_job: str | None
    ) -> None:
        """Add a video to the tenant's index, replacing one indexed under the same id."""
        hashes, valid = fingerprint.to_bytes()
        async with self.pool.connection() as conn:
            await conn.execute(
                """INSERT INTO video_fingerprints
                       (tenant_id, video_id, name, duration, fps, frames, hashes, valid, source_job)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (tenant_id, video_id) DO UPDATE SET
                       name = excluded.name, duration = excluded.duration, fps = excluded.fps,
                       frames = excluded.frames, hashes = excluded.hashes, valid = excluded.valid,
                       source_job = excluded.source_job, created_at = now()""",
                (
                    tenant_id,
                    video_id,
                    name,
                    fingerprint.duration,
                    fingerprint.fps,
                    fingerprint.frames,
                    hashes,
                    valid,
                    uuid.UUID(source_job) if source_job else None,
                ),
            )

    async def all(self, tenant_id: str, fps: float) -> list[IndexedVideo]:
        """Every video the tenant indexed at ``fps`` (fingerprints at another rate cannot be aligned)."""
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT video_id, name, duration, fps, hashes, valid FROM video_fingerprints "
                "WHERE tenant_id = %s AND fps = %s ORDER BY video_id",
                (tenant_id, fps),
            )
            rows = await cur.fetchall()
        return [
            IndexedVideo(
                row["video_id"],
                row["name"],
                Fingerprint.from_bytes(row["fps"], row["duration"], row["hashes"], row["valid"]),
            )
            for row in rows
        ]

    async def count(self, tenant_id: str) -> int:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT count(*) FROM video_fingerprints WHERE tenant_id = %s", (tenant_id,)
            )
            row = await cur.fetchone()
            return int(row[0]) if row else 0
