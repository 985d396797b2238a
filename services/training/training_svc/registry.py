"""The model registry in PostgreSQL: versions, the live deployment of each model, and the history
of deployments that rollbacks follow. Every query is scoped to a tenant: another tenant's model
is indistinguishable from one that does not exist."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool

from clipsift_common.errors import FailedPrecondition, NotFound

_VERSION_COLUMNS = (
    "v.tenant_id, v.name, v.version, v.job_id::text AS job_id, v.blob_prefix, v.labels, v.metrics, "
    "v.dataset_sha256, v.train_examples, v.validation_examples, v.base_model, v.params, v.device, "
    "v.train_seconds, v.created_at"
)
_DEPLOYMENT_QUERY = (
    "SELECT d.tenant_id, d.name, d.version, d.deployed_at, v.blob_prefix, v.labels, v.params "
    "FROM model_deployments d JOIN model_versions v USING (tenant_id, name, version)"
)


@dataclass(frozen=True)
class NewVersion:
    """A trained model about to be registered (its files are already in the blob store)."""

    tenant_id: str
    name: str
    job_id: str
    blob_prefix: str
    labels: list[str]
    metrics: dict[str, Any]
    dataset_sha256: str
    train_examples: int
    validation_examples: int
    base_model: str
    params: dict[str, Any]
    device: str
    train_seconds: float


@dataclass(frozen=True)
class Deployment:
    tenant_id: str
    name: str
    # 0: not deployed (after an undeploy).
    version: int
    blob_prefix: str
    labels: list[str]
    max_length: int
    deployed_at: datetime | None
    previous_version: int


def _deployment(row: dict[str, Any], previous: int | None) -> Deployment:
    return Deployment(
        tenant_id=row["tenant_id"],
        name=row["name"],
        version=row["version"],
        blob_prefix=row["blob_prefix"],
        labels=list(row["labels"]),
        max_length=int(row["params"]["max_length"]),
        deployed_at=row["deployed_at"],
        previous_version=previous or 0,
    )


class ModelRegistry:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    async def add_version(self, new: NewVersion) -> dict[str, Any]:
        """Register ``new`` as the model's next version and return its row. Idempotent per job: a
        redelivered job gets the version its first attempt registered."""
        existing = await self.version_for_job(new.job_id)
        if existing is not None:
            return existing
        async with self.pool.connection() as conn, conn.transaction():
            # Versions of one model are numbered under a lock: two jobs finishing together get 1 and 2.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"model/{new.tenant_id}/{new.name}",)
            )
            cur = await conn.execute(
                "SELECT coalesce(max(version), 0) + 1 FROM model_versions WHERE tenant_id = %s AND name = %s",
                (new.tenant_id, new.name),
            )
            row = await cur.fetchone()
            assert row is not None
            # ON CONFLICT: the same job registered concurrently (a redelivery racing the first attempt).
            await conn.execute(
                "INSERT INTO model_versions (tenant_id, name, version, job_id, blob_prefix, labels,"
                " metrics, dataset_sha256, train_examples, validation_examples, base_model, params,"
                " device, train_seconds) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (job_id) DO NOTHING",
                (
                    new.tenant_id,
                    new.name,
                    row[0],
                    uuid.UUID(new.job_id),
                    new.blob_prefix,
                    Jsonb(new.labels),
                    Jsonb(new.metrics),
                    new.dataset_sha256,
                    new.train_examples,
                    new.validation_examples,
                    new.base_model,
                    Jsonb(new.params),
                    new.device,
                    new.train_seconds,
                ),
            )
        found = await self.version_for_job(new.job_id)
        assert found is not None
        return found

    async def version_for_job(self, job_id: str) -> dict[str, Any] | None:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(f"SELECT {_VERSION_COLUMNS} FROM model_versions v WHERE job_id = %s", (job_id,))
            return await cur.fetchone()

    async def list_models(self, tenant_id: str) -> list[dict[str, Any]]:
        """One row per model: version count, latest version, deployed version (0 if none)."""
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT v.name, count(*) AS versions, max(v.version) AS latest_version,"
                " coalesce(d.version, 0) AS deployed_version,"
                " greatest(max(v.created_at), max(d.deployed_at)) AS updated_at"
                " FROM model_versions v LEFT JOIN model_deployments d USING (tenant_id, name)"
                " WHERE v.tenant_id = %s GROUP BY v.name, d.version ORDER BY v.name",
                (tenant_id,),
            )
            return await cur.fetchall()

    async def list_versions(self, tenant_id: str, name: str) -> tuple[list[dict[str, Any]], int]:
        """The model's versions, newest first, and its deployed version (0 if none)."""
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                f"SELECT {_VERSION_COLUMNS} FROM model_versions v WHERE tenant_id = %s AND name = %s "
                "ORDER BY version DESC",
                (tenant_id, name),
            )
            versions = await cur.fetchall()
            if not versions:
                raise NotFound(f"model {name!r} not found")
            return versions, await _deployed_version(conn, tenant_id, name)

    async def deploy(self, tenant_id: str, name: str, version: int = 0) -> Deployment:
        """Serve ``version`` (0: the latest) under the model's name."""
        async with self.pool.connection() as conn, conn.transaction():
            await _lock(conn, tenant_id, name)
            if version == 0:
                version = await _latest_version(conn, tenant_id, name)
            return await _set_deployment(conn, tenant_id, name, version, "deploy")

    async def rollback(self, tenant_id: str, name: str, version: int = 0) -> Deployment:
        """Serve ``version``, or (0) the version served before the current deployment or undeployment."""
        async with self.pool.connection() as conn, conn.transaction():
            await _lock(conn, tenant_id, name)
            await _latest_version(conn, tenant_id, name)  # NOT_FOUND for an unknown model
            if version == 0:
                cur = await conn.execute(
                    "SELECT previous_version FROM model_deployment_history"
                    " WHERE tenant_id = %s AND name = %s ORDER BY id DESC LIMIT 1",
                    (tenant_id, name),
                )
                row = await cur.fetchone()
                if row is None or row[0] is None:
                    raise FailedPrecondition(f"model {name!r} has no earlier deployment to roll back to")
                version = int(row[0])
            return await _set_deployment(conn, tenant_id, name, version, "rollback")

    async def undeploy(self, tenant_id: str, name: str) -> Deployment:
        async with self.pool.connection() as conn, conn.transaction():
            await _lock(conn, tenant_id, name)
            await _latest_version(conn, tenant_id, name)
            current = await _deployed_version(conn, tenant_id, name)
            if current == 0:
                raise FailedPrecondition(f"model {name!r} is not deployed")
            await conn.execute(
                "DELETE FROM model_deployments WHERE tenant_id = %s AND name = %s", (tenant_id, name)
            )
            await _record(conn, tenant_id, name, "undeploy", None, current)
            return Deployment(tenant_id, name, 0, "", [], 0, None, current)

    async def deployments(self) -> list[Deployment]:
        """Every live deployment of every tenant (what inference services load)."""
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(f"{_DEPLOYMENT_QUERY} ORDER BY d.tenant_id, d.name")
            return [_deployment(row, None) for row in await cur.fetchall()]


async def _lock(conn: AsyncConnection, tenant_id: str, name: str) -> None:
    """Serialise deployment changes of one model (history rows must follow the real order)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"deploy/{tenant_id}/{name}",))


async def _latest_version(conn: AsyncConnection, tenant_id: str, name: str) -> int:
    cur = await conn.execute(
        "SELECT max(version) FROM model_versions WHERE tenant_id = %s AND name = %s", (tenant_id, name)
    )
    row = await cur.fetchone()
    if row is None or row[0] is None:
        raise NotFound(f"model {name!r} not found")
    return int(row[0])


async def _deployed_version(conn: AsyncConnection, tenant_id: str, name: str) -> int:
    cur = await conn.execute(
        "SELECT version FROM model_deployments WHERE tenant_id = %s AND name = %s", (tenant_id, name)
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _set_deployment(
    conn: AsyncConnection, tenant_id: str, name: str, version: int, action: str
) -> Deployment:
    cur = await conn.execute(
        "SELECT 1 FROM model_versions WHERE tenant_id = %s AND name = %s AND version = %s",
        (tenant_id, name, version),
    )
    if await cur.fetchone() is None:
        raise NotFound(f"model {name!r} has no version {version}")
    previous = await _deployed_version(conn, tenant_id, name)
    if previous != version:
        await conn.execute(
            "INSERT INTO model_deployments (tenant_id, name, version) VALUES (%s, %s, %s) "
            "ON CONFLICT (tenant_id, name) DO UPDATE SET version = excluded.version, deployed_at = now()",
            (tenant_id, name, version),
        )
        await _record(conn, tenant_id, name, action, version, previous or None)
    async with conn.cursor(row_factory=dict_row) as rows:
        await rows.execute(f"{_DEPLOYMENT_QUERY} WHERE d.tenant_id = %s AND d.name = %s", (tenant_id, name))
        row = await rows.fetchone()
    assert row is not None
    return _deployment(row, previous)


async def _record(
    conn: AsyncConnection, tenant_id: str, name: str, action: str, version: int | None, previous: int | None
) -> None:
    await conn.execute(
        "INSERT INTO model_deployment_history (tenant_id, name, action, version, previous_version) "
        "VALUES (%s, %s, %s, %s, %s)",
        (tenant_id, name, action, version, previous),
    )
