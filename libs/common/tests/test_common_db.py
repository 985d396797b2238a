"""db.migrate and open_pool against the real PostgreSQL server (a fresh database per test)."""

from __future__ import annotations

import asyncio
import importlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from clipsift_common.db import migrate, open_pool
from clipsift_common.settings import DatabaseSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def migrations(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A throwaway importable package holding migration files; yields (package name, folder)."""
    name = f"clipsift_test_migrations_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "0001_create_items.sql").write_text(
        "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);\n"
        "INSERT INTO items (name) VALUES ('seed');\n"
    )
    (folder / "0002_add_colour.sql").write_text("ALTER TABLE items ADD COLUMN colour text;\n")
    (folder / "README.md").write_text("not a migration")
    (folder / "3_bad_name.sql").write_text("SELECT broken syntax here")
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    try:
        yield name, folder
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)


def rows(database_url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql).fetchall()


async def test_migrations_apply_once(database_url: str, migrations: tuple[str, Path]) -> None:
    package, folder = migrations
    assert await migrate(database_url, "items", package) == [1, 2]
    assert rows(database_url, "SELECT name, colour FROM items") == [("seed", None)]
    assert rows(database_url, "SELECT component, version, name FROM schema_migrations ORDER BY version") == [
        ("items", 1, "0001_create_items.sql"),
        ("items", 2, "0002_add_colour.sql"),
    ]
    # Second run: nothing pending, nothing re-run (the seed row would be duplicated).
    assert await migrate(database_url, "items", package) == []
    assert rows(database_url, "SELECT count(*) FROM items") == [(1,)]
    # A new file is picked up on the next run.
    (folder / "0003_more.sql").write_text("INSERT INTO items (name, colour) VALUES ('late', 'red');")
    assert await migrate(database_url, "items", package) == [3]
    assert rows(database_url, "SELECT name FROM items ORDER BY id") == [("seed",), ("late",)]


async def test_components_are_versioned_separately(database_url: str, migrations: tuple[str, Path]) -> None:
    package, folder = migrations
    assert await migrate(database_url, "items", package) == [1, 2]
    other = folder.parent / f"{package}_other"
    other.mkdir()
    (other / "__init__.py").write_text("")
    (other / "0001_other.sql").write_text("CREATE TABLE other (id int);")
    importlib.invalidate_caches()
    try:
        assert await migrate(database_url, "other", f"{package}_other") == [1]
    finally:
        sys.modules.pop(f"{package}_other", None)
    assert rows(database_url, "SELECT component, version FROM schema_migrations ORDER BY 1, 2") == [
        ("items", 1),
        ("items", 2),
        ("other", 1),
    ]


async def test_concurrent_runs_apply_each_migration_exactly_once(
    database_url: str, migrations: tuple[str, Path]
) -> None:
    package, _ = migrations
    results = await asyncio.gather(*(migrate(database_url, "items", package) for _ in range(4)))
    applied = sorted(v for result in results for v in result)
    assert applied == [1, 2]
    assert rows(database_url, "SELECT count(*) FROM items") == [(1,)]
    assert rows(database_url, "SELECT count(*) FROM schema_migrations") == [(2,)]


async def test_a_failing_migration_is_rolled_back(database_url: str, migrations: tuple[str, Path]) -> None:
    package, folder = migrations
    (folder / "0003_broken.sql").write_text(
        "INSERT INTO items (name) VALUES ('half');\nSELECT * FROM no_such_table;"
    )
    with pytest.raises(psycopg.errors.UndefinedTable):
        await migrate(database_url, "items", package)
    # 1 and 2 committed; 3 left no trace and stays pending.
    assert rows(database_url, "SELECT version FROM schema_migrations ORDER BY 1") == [(1,), (2,)]
    assert rows(database_url, "SELECT name FROM items") == [("seed",)]
    (folder / "0003_broken.sql").write_text("INSERT INTO items (name) VALUES ('fixed');")
    assert await migrate(database_url, "items", package) == [3]


async def test_duplicate_versions_are_refused(database_url: str, migrations: tuple[str, Path]) -> None:
    package, folder = migrations
    (folder / "0002_again.sql").write_text("SELECT 1;")
    with pytest.raises(RuntimeError, match="duplicate migration versions"):
        await migrate(database_url, "items", package)


async def test_open_pool_runs_queries(database_url: str) -> None:
    settings = DatabaseSettings(database_url=database_url, db_pool_min=1, db_pool_max=2)
    pool = await open_pool(settings)
    try:
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT 40 + 2")
            assert await cur.fetchone() == (42,)
    finally:
        await pool.close()
