"""The model registry on a real PostgreSQL: version numbering, idempotent registration per job,
deploy / rollback / undeploy and their history, and tenant isolation."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from clipsift_common.errors import FailedPrecondition, NotFound
from training_svc.registry import ModelRegistry, NewVersion

pytestmark = pytest.mark.integration


def _version(tenant: str, name: str, job_id: str | None = None, **overrides: object) -> NewVersion:
    job_id = job_id or str(uuid.uuid4())
    values: dict[str, object] = {
        "tenant_id": tenant,
        "name": name,
        "job_id": job_id,
        "blob_prefix": f"models/{tenant}/{name}/{job_id}",
        "labels": ["a", "b"],
        "metrics": {"accuracy": 0.9, "macro_f1": 0.85},
        "dataset_sha256": "ab" * 32,
        "train_examples": 8,
        "validation_examples": 2,
        "base_model": "/models/minilm",
        "params": {"max_length": 64, "epochs": 1},
        "device": "cpu",
        "train_seconds": 1.5,
        **overrides,
    }
    return NewVersion(**values)  # type: ignore[arg-type]


async def test_versions_are_numbered_per_model_and_registration_is_idempotent(
    registry: ModelRegistry,
) -> None:
    job = str(uuid.uuid4())
    first = await registry.add_version(_version("acme", "topics", job))
    again = await registry.add_version(_version("acme", "topics", job, train_seconds=99.0))
    assert first["version"] == again["version"] == 1
    assert again["train_seconds"] == 1.5, "a redelivered job gets its first registration back"
    # Concurrent jobs of one model get distinct numbers; another model and tenant start at 1.
    rows = await asyncio.gather(*(registry.add_version(_version("acme", "topics")) for _ in range(4)))
    assert sorted(r["version"] for r in rows) == [2, 3, 4, 5]
    assert (await registry.add_version(_version("acme", "intent")))["version"] == 1
    assert (await registry.add_version(_version("globex", "topics")))["version"] == 1
    versions, deployed = await registry.list_versions("acme", "topics")
    assert [v["version"] for v in versions] == [5, 4, 3, 2, 1]
    assert deployed == 0
    assert versions[-1]["metrics"] == {"accuracy": 0.9, "macro_f1": 0.85}
    models = await registry.list_models("acme")
    assert [(m["name"], m["versions"], m["latest_version"]) for m in models] == [
        ("intent", 1, 1),
        ("topics", 5, 5),
    ]


async def test_deploy_rollback_undeploy(registry: ModelRegistry) -> None:
    for _ in range(3):
        await registry.add_version(_version("acme", "topics"))
    latest = await registry.deploy("acme", "topics")
    assert (latest.version, latest.previous_version, latest.max_length) == (3, 0, 64)
    assert latest.blob_prefix.startswith("models/acme/topics/")
    with pytest.raises(FailedPrecondition, match="no earlier deployment"):
        await registry.rollback("acme", "topics")
    assert (await registry.deploy("acme", "topics", 1)).version == 1
    back = await registry.rollback("acme", "topics")
    assert (back.version, back.previous_version) == (3, 1)
    # Rolling back again returns to what the rollback replaced (as `kubectl rollout undo`).
    assert (await registry.rollback("acme", "topics")).version == 1
    assert (await registry.rollback("acme", "topics", 2)).version == 2
    assert [(d.tenant_id, d.name, d.version) for d in await registry.deployments()] == [("acme", "topics", 2)]
    gone = await registry.undeploy("acme", "topics")
    assert (gone.version, gone.previous_version) == (0, 2)
    assert await registry.deployments() == []
    with pytest.raises(FailedPrecondition, match="not deployed"):
        await registry.undeploy("acme", "topics")
    # After an undeploy, a rollback serves what was served last.
    assert (await registry.rollback("acme", "topics")).version == 2
    with pytest.raises(NotFound, match="no version 9"):
        await registry.deploy("acme", "topics", 9)


async def test_other_tenants_models_do_not_exist(registry: ModelRegistry) -> None:
    await registry.add_version(_version("acme", "topics"))
    await registry.deploy("acme", "topics")
    assert await registry.list_models("globex") == []
    for call in (
        registry.list_versions("globex", "topics"),
        registry.deploy("globex", "topics"),
        registry.rollback("globex", "topics"),
        registry.undeploy("globex", "topics"),
    ):
        with pytest.raises(NotFound, match="model 'topics' not found"):
            await call
    assert [d.tenant_id for d in await registry.deployments()] == ["acme"]
