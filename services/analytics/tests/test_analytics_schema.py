"""Schema evolution on real PostgreSQL: the old unpartitioned event table migrates with its data, and
monthly partitions are created ahead and on demand."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from importlib import resources

import psycopg
import pytest

from analytics_svc.ingest import EventRow, store_rows
from analytics_svc.partitions import Partitions, add_months, month_of
from clipsift_common.db import migrate

pytestmark = pytest.mark.integration
MIGRATIONS = "analytics_svc.migrations"


async def _partitions(conn: psycopg.AsyncConnection) -> list[str]:
    cur = await conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'job_events'::regclass ORDER BY 1"
    )
    return [row[0] for row in await cur.fetchall()]


async def test_migration_moves_old_events_into_partitions_and_folds_jobs(database_url):
    job = uuid.uuid4()
    history = [
        ("requested", "queued", "", datetime(2025, 11, 30, 23, 59, tzinfo=UTC)),
        ("progress", "parse", "", datetime(2025, 12, 1, 0, 0, 5, tzinfo=UTC)),
        (
            "failed",
            "failed",
            "corpus line 17 is not a {id, text} record",
            datetime(2025, 12, 1, 0, 0, 9, tzinfo=UTC),
        ),
    ]
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        # The database as version 1 left it: the migration bookkeeping and the plain table with events.
        assert await migrate(database_url, "analytics", MIGRATIONS) == [1, 2]
        await conn.execute(
            "DROP TABLE job_events, event_ids, analytics_jobs, job_steps, analytics_reports CASCADE"
        )
        await conn.execute(
            "DROP FUNCTION analytics_fold_events, analytics_ensure_partition, analytics_status_rank, "
            "analytics_failure_reason"
        )
        await conn.execute("DELETE FROM schema_migrations WHERE component = 'analytics' AND version = 2")
        first = resources.files(MIGRATIONS).joinpath("0001_job_events.sql").read_text(encoding="utf-8")
        await conn.execute(first.encode())
        for seq, (kind, step, message, at) in enumerate(history, start=1):
            await conn.execute(
                "INSERT INTO job_events (event_id, job_id, tenant_id, job_kind, type, step, message, "
                "occurred_at, job_created_at, stream_seq) "
                "VALUES (%s, %s, 'acme', 'dedup', %s, %s, %s, %s, %s, %s)",
                (uuid.uuid4(), job, kind, step, message, at, history[0][3], seq),
            )

        assert await migrate(database_url, "analytics", MIGRATIONS) == [2]

        assert await _partitions(conn) == ["job_events_2025_11", "job_events_2025_12"]
        cur = await conn.execute("SELECT type, step, stream_seq FROM job_events ORDER BY stream_seq")
        assert await cur.fetchall() == [
            ("requested", "queued", 1),
            ("progress", "parse", 2),
            ("failed", "failed", 3),
        ]
        cur = await conn.execute("SELECT count(*) FROM event_ids")
        assert await cur.fetchone() == (3,)
        cur = await conn.execute(
            "SELECT status, events, error_reason, duration_seconds FROM analytics_jobs WHERE job_id = %s",
            (job,),
        )
        assert await cur.fetchone() == ("failed", 3, "corpus line N is not a {id, text} record", 69.0)
        cur = await conn.execute("SELECT to_regclass('job_events_unpartitioned')")
        assert await cur.fetchone() == (None,)


def _row(at: datetime) -> EventRow:
    return EventRow(
        event_id=uuid.uuid4(),
        job_id=uuid.uuid4(),
        tenant_id="acme",
        job_kind="dedup",
        type="requested",
        progress=0.0,
        step="queued",
        message="",
        payload="{}",
        attempt=1,
        occurred_at=at,
        job_created_at=at,
        stream_seq=1,
    )


async def test_partitions_are_created_ahead_and_on_demand(pool):
    partitions = Partitions(pool, months_ahead=2)
    now = datetime(2026, 11, 22, tzinfo=UTC)
    assert await partitions.ensure_ahead(now) == [
        "job_events_2026_11",
        "job_events_2026_12",
        "job_events_2027_01",
    ]
    assert await partitions.ensure_ahead(now) == [], "known months cost nothing"
    # An event from a month nobody prepared (a replay of old history) gets its partition on the spot.
    old = datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)
    assert await store_rows(pool, partitions, [_row(old), _row(now)]) == 2
    async with pool.connection() as conn:
        names = await _partitions(conn)  # type: ignore[arg-type]
        cur = await conn.execute("SELECT tableoid::regclass::text FROM job_events ORDER BY occurred_at")
        assert [row[0] for row in await cur.fetchall()] == ["job_events_2024_02", "job_events_2026_11"]
    assert names == ["job_events_2024_02", "job_events_2026_11", "job_events_2026_12", "job_events_2027_01"]


async def test_a_partition_dropped_behind_the_ingesters_back_is_recreated(pool):
    partitions = Partitions(pool, months_ahead=0)
    at = datetime(2026, 5, 3, tzinfo=UTC)
    assert await store_rows(pool, partitions, [_row(at)]) == 1
    async with pool.connection() as conn:
        await conn.execute("DROP TABLE job_events_2026_05")
    with pytest.raises(psycopg.errors.CheckViolation, match="no partition"):
        await store_rows(pool, partitions, [_row(at)])
    partitions.forget()
    assert await store_rows(pool, partitions, [_row(at)]) == 1


def test_month_arithmetic_is_utc():
    from datetime import timedelta, timezone

    local = datetime(2026, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))  # still December in UTC
    assert month_of(local) == datetime(2025, 12, 1, tzinfo=UTC)
    assert add_months(datetime(2025, 12, 1, tzinfo=UTC), 1) == datetime(2026, 1, 1, tzinfo=UTC)
    assert add_months(datetime(2025, 1, 1, tzinfo=UTC), 25) == datetime(2027, 2, 1, tzinfo=UTC)
