"""Roles and scoped keys: /v1/keys for an organisation's admins, /v1/me, the grants a key may not
exceed, and migration 0008 turning existing keys into admin keys of a 'legacy' service account."""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from clipsift_common.db import migrate
from clipsift_common.errors import InvalidArgument
from gateway_svc.admin import create_key, format_keys, list_keys
from gateway_svc.app import MIGRATIONS
from gateway_svc.auth import hash_key, lookup
from gateway_svc.migrations import __file__ as migrations_init

pytestmark = pytest.mark.integration


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def gateway(blob_gateway: Callable[..., Any], database_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        gateway.keys["owner"] = await create_key(database_url, "acme", "owner", False, role="owner")
        gateway.keys["admin"] = await create_key(database_url, "acme", "admin", False, role="admin")
        gateway.keys["editor"] = await create_key(database_url, "acme", "editor", False, role="editor")
        gateway.keys["globex"] = await create_key(database_url, "globex", "admin", False, role="admin")
        yield gateway


async def test_an_admin_creates_lists_and_revokes_a_scoped_key(gateway: Any) -> None:
    client = gateway.client
    body = {"label": "ci", "role": "editor", "scopes": ["jobs:write", "jobs:read"], "expires_in_days": 30}
    created = await client.post("/v1/keys", json=body, headers=gateway.auth("admin"))
    assert created.status_code == 201, created.text
    view = created.json()
    key, prefix = view["key"], view["prefix"]
    assert key.startswith(f"cs_{prefix}_")
    assert (view["role"], view["scopes"], view["state"]) == ("editor", ["jobs:write", "jobs:read"], "active")

    me = (await client.get("/v1/me", headers=_bearer(key))).json()
    assert me == {
        "tenant": "acme",
        "role": "editor",
        "scopes": ["jobs:write", "jobs:read"],
        "permissions": ["jobs:read", "jobs:write"],
        "platform_admin": False,
    }
    assert (await client.get("/v1/jobs", headers=_bearer(key))).status_code == 200
    refused = await client.get("/v1/indexes", headers=_bearer(key))
    assert refused.status_code == 403
    assert "indexes:read" in refused.json()["detail"]

    listed = (await client.get("/v1/keys", headers=gateway.auth("owner"))).json()["keys"]
    assert prefix in [k["prefix"] for k in listed]
    assert all("key" not in k for k in listed)
    assert key not in str(listed)

    ticket = (await client.post("/v1/ws-tickets", headers=_bearer(key))).json()["ticket"]
    assert (await client.delete(f"/v1/keys/{prefix}", headers=gateway.auth("admin"))).status_code == 204
    assert (await client.get("/v1/jobs", headers=_bearer(key))).status_code == 401
    async with gateway.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM ws_tickets WHERE ticket_hash = %s", (hash_key(ticket),)
        )
        assert await cur.fetchone() == (0,)
    revoked = [k for k in (await client.get("/v1/keys", headers=gateway.auth("admin"))).json()["keys"]]
    assert [k["state"] for k in revoked if k["prefix"] == prefix] == ["revoked"]


async def test_a_key_never_grants_more_than_its_caller(gateway: Any, database_url: str) -> None:
    client = gateway.client

    async def create(who: str | dict[str, str], **body: Any) -> Any:
        headers = gateway.auth(who) if isinstance(who, str) else who
        return await client.post("/v1/keys", json=body, headers=headers)

    above = await create("admin", role="owner")
    assert above.status_code == 403
    assert "owner" in above.json()["detail"]
    assert (await create("owner", role="owner")).status_code == 201
    assert (await create("editor", role="viewer")).status_code == 403  # no keys:admin
    # A scope its role lacks, or no permission at all, is a bad request.
    assert (await create("admin", role="viewer", scopes=["jobs:write"])).status_code == 400
    assert (await create("admin", role="viewer", scopes=["jobs:fly"])).status_code == 422
    # A key narrowed to keys:admin may mint keys, but none that may do what it may not.
    narrow = await create_key(database_url, "acme", "keys", False, role="admin", scopes=["keys:admin"])
    beyond = await create(_bearer(narrow), role="viewer")
    assert beyond.status_code == 403
    assert "jobs:read" in beyond.json()["detail"]
    assert (await create(_bearer(narrow), role="viewer", scopes=["keys:admin"])).status_code == 400
    # An admin may not revoke an owner's key; another organisation's key is not found.
    owner_prefix = gateway.keys["owner"].split("_")[1]
    assert (await client.delete(f"/v1/keys/{owner_prefix}", headers=gateway.auth("admin"))).status_code == 403
    assert (
        await client.delete(f"/v1/keys/{owner_prefix}", headers=gateway.auth("globex"))
    ).status_code == 404
    assert (await client.get("/v1/jobs", headers=gateway.auth("owner"))).status_code == 200
    listed = (await client.get("/v1/keys", headers=gateway.auth("globex"))).json()["keys"]
    assert "owner" not in [k["label"] for k in listed]  # globex's own keys only


async def test_create_key_refuses_unknown_roles_and_scopes(database_url: str) -> None:
    with pytest.raises(InvalidArgument, match="unknown role"):
        await create_key(database_url, "acme", "x", False, role="superuser")
    with pytest.raises(InvalidArgument, match="not permissions of the role viewer"):
        await create_key(database_url, "acme", "x", False, role="viewer", scopes=["models:write"])
    with pytest.raises(InvalidArgument, match="unknown scopes"):
        await create_key(database_url, "acme", "x", False, role="owner", scopes=["clips:write"])
    await create_key(
        database_url, "acme", "ci", False, role="editor", scopes=["jobs:write"], service_account="ci"
    )
    table = format_keys(await list_keys(database_url, "acme"))
    assert "editor" in table
    assert "jobs:write" in table
    assert "ci/ci" in table


async def test_migration_0008_keeps_existing_keys_working_as_legacy_admin_keys(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The schema as it was before 0008, from a copy of the migrations up to 0007.
    package = tmp_path / "gateway_before_0008"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for sql in sorted(Path(migrations_init).parent.glob("000[1-7]_*.sql")):
        shutil.copy(sql, package / sql.name)
    monkeypatch.syspath_prepend(str(tmp_path))
    await migrate(database_url, "gateway", package.name)
    key = f"cs_0badcafe_{uuid.uuid4().hex}"
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("INSERT INTO tenants (id) VALUES ('acme')")
        await conn.execute(
            "INSERT INTO api_keys (id, tenant_id, key_hash, prefix, label) "
            "VALUES (%s, 'acme', %s, '0badcafe', 'old')",
            (uuid.uuid4(), hash_key(key)),
        )
    sys.modules.pop(package.name, None)
    await migrate(database_url, "gateway", MIGRATIONS)
    async with AsyncConnectionPool(database_url, open=False) as pool:
        principal = await lookup(pool, key)
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT name FROM organisations WHERE id = 'acme'")
            assert await cur.fetchone() == ("acme",)
    assert (principal.tenant_id, principal.role, principal.scopes, principal.is_admin) == (
        "acme",
        "admin",
        None,
        False,
    )
    [old] = await list_keys(database_url, "acme")
    assert (old.role, old.scopes, old.service_account, old.label) == ("admin", None, "legacy", "old")
