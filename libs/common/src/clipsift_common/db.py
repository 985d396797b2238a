"""PostgreSQL: an async connection pool and versioned, per-component SQL migrations.

Migrations are ``NNNN_description.sql`` files shipped inside each service package. They run
inside one transaction each, under an advisory lock, so several replicas starting together
apply every migration exactly once.
"""

from __future__ import annotations

import logging
import re
from importlib import resources
from importlib.resources.abc import Traversable

import psycopg
from psycopg_pool import AsyncConnectionPool

from .settings import DatabaseSettings

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Arbitrary constant: the key of the advisory lock that serialises migration runs.
_MIGRATION_LOCK = 0x636C6970


async def open_pool(settings: DatabaseSettings) -> AsyncConnectionPool:
    pool = AsyncConnectionPool(
        settings.database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        open=False,
        kwargs={"autocommit": False},
    )
    await pool.open(wait=True, timeout=30)
    return pool


def _migration_files(package: str) -> list[tuple[int, Traversable]]:
    folder = resources.files(package)
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry))
    found.sort(key=lambda item: item[0])
    versions = [v for v, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions in {package}")
    return found


async def migrate(database_url: str, component: str, package: str) -> list[int]:
    """Apply the pending migrations of ``component`` found in ``package``; return the versions applied."""
    applied: list[int] = []
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        async with conn.transaction():
            # Under the lock too: two concurrent CREATE TABLE IF NOT EXISTS race in PostgreSQL
            # (one fails with a unique violation on pg_type) when replicas start together.
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       component text NOT NULL,
                       version integer NOT NULL,
                       name text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now(),
                       PRIMARY KEY (component, version))"""
            )
        for version, entry in _migration_files(package):
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
                cur = await conn.execute(
                    "SELECT 1 FROM schema_migrations WHERE component = %s AND version = %s",
                    (component, version),
                )
                if await cur.fetchone():
                    continue
                await conn.execute(entry.read_text(encoding="utf-8").encode())
                await conn.execute(
                    "INSERT INTO schema_migrations (component, version, name) VALUES (%s, %s, %s)",
                    (component, version, entry.name),
                )
                applied.append(version)
                log.info("applied migration", extra={"component": component, "migration": entry.name})
    return applied
