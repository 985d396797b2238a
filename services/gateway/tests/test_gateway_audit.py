"""The audit log: rows the edge writes for mutating and refused requests (one per request, for every
mutating route of the app), the admin CLI's changes, the table refusing changes to its rows, and
GET /v1/audit with its filters, pages, CSV export and organisation boundary."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from fastapi.routing import APIRoute
from psycopg_pool import AsyncConnectionPool

from gateway_svc.admin import create_key, revoke_key, set_retention
from gateway_svc.audit import (
    AUDIT_DROPPED,
    MUTATING_METHODS,
    AuditEntry,
    AuditWriter,
    flat_routes,
    key_actor,
    record,
)

pytestmark = pytest.mark.integration


async def audit_rows(
    pool: AsyncConnectionPool, where: str = "actor <> 'admin-cli'", *params: Any
) -> list[dict[str, Any]]:
    """Audit rows (by default those of requests, not of the CLI), oldest first."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT tenant_id, actor_key_id::text, actor, action, target, result, client_address, "
            f"request_id, details FROM audit_log WHERE {where} ORDER BY id",
            params,
        )
        names = [column.name for column in cur.description or ()]
        return [dict(zip(names, row, strict=True)) for row in await cur.fetchall()]


async def settled(gateway: Any) -> AsyncConnectionPool:
    """Everything the edge queued so far is written; the pool to read it with."""
    await gateway.app.state.audit.flush()
    pool: AsyncConnectionPool = gateway.pool
    return pool


async def test_a_job_created_and_deleted_is_recorded_with_who_what_and_request_id(blob_gateway, tmp_path):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        corpus = b'{"id": "a", "text": "one two three four five six"}\n{"id": "b", "text": "seven"}\n'
        headers = {**gateway.auth("acme"), "Content-Type": "application/jsonl", "X-Request-ID": "req-42"}
        created = await gateway.client.post("/v1/jobs", content=corpus, headers=headers)
        assert created.status_code == 202, created.text
        assert created.headers["x-request-id"] == "req-42"
        finished = await gateway.add_clip_job("acme")
        deleted = await gateway.client.delete(f"/v1/jobs/{finished}", headers=gateway.auth("acme"))
        assert deleted.status_code == 204, deleted.text
        listed = await gateway.client.get("/v1/jobs", headers=gateway.auth("acme"))
        assert listed.status_code == 200
        assert listed.headers["x-request-id"]
        rows = await audit_rows(await settled(gateway))
    prefix = key_actor(f"Bearer {gateway.keys['acme']}")
    assert [(r["action"], r["result"], r["tenant_id"], r["actor"]) for r in rows] == [
        ("POST /v1/jobs", "202", "acme", prefix),
        ("DELETE /v1/jobs/{job_id}", "204", "acme", prefix),
    ]
    assert rows[0]["request_id"] == "req-42"
    assert rows[0]["target"] == ""
    assert rows[1]["request_id"] == deleted.headers["x-request-id"]
    assert rows[1]["target"] == finished
    assert rows[1]["details"] == {"path": f"/v1/jobs/{finished}"}
    assert all(r["actor_key_id"] and r["client_address"] for r in rows)
    assert "one two three" not in json.dumps(rows, default=str)  # never a body


async def test_refusals_are_recorded_401_without_a_tenant_and_403_with_one(blob_gateway, tmp_path):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        anonymous = await gateway.client.post("/v1/jobs", content=b"x" * 100)
        assert anonymous.status_code == 401
        wrong = await gateway.client.delete(
            "/v1/jobs/abc", headers={"Authorization": "Bearer cs_deadbeef_nope"}
        )
        assert wrong.status_code == 401
        reading = await gateway.client.get("/v1/jobs")
        assert reading.status_code == 401
        other = await gateway.client.get(
            "/v1/audit", params={"tenant": "globex"}, headers=gateway.auth("acme")
        )
        assert other.status_code == 403, other.text
        rows = await audit_rows(await settled(gateway))
    assert [(r["action"], r["result"], r["tenant_id"], r["actor"], r["target"]) for r in rows] == [
        ("POST /v1/jobs", "401", None, "", ""),
        ("DELETE /v1/jobs/{job_id}", "401", None, "deadbeef", "abc"),
        ("GET /v1/jobs", "401", None, "", ""),
        ("GET /v1/audit", "403", "acme", key_actor(f"Bearer {gateway.keys['acme']}"), ""),
    ]
    assert rows[0]["request_id"] == anonymous.headers["x-request-id"]


async def test_the_database_refuses_to_change_or_remove_audit_rows(blob_gateway, tmp_path):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        await record(gateway.pool, AuditEntry("probe", "ok", tenant_id="acme"))
        for statement in (
            "UPDATE audit_log SET result = 'forged'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ):
            # As the table's owner (a superuser here, even): the trigger refuses all the same.
            async with gateway.pool.connection() as conn:
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                    await conn.execute(statement)
        async with gateway.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT has_table_privilege('public', 'audit_log', 'UPDATE'), "
                "has_table_privilege('public', 'audit_log', 'DELETE')"
            )
            assert await cur.fetchone() == (False, False)
        assert [r["result"] for r in await audit_rows(gateway.pool, "action = %s", "probe")] == ["ok"]


async def test_admin_cli_changes_are_recorded_as_admin_cli(blob_gateway, tmp_path, database_url):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        key = await create_key(database_url, "acme", "ci", False, timedelta(days=3))
        prefix = key_actor(f"Bearer {key}")
        await revoke_key(database_url, prefix)
        await set_retention(database_url, "acme", 7)
        rows = await audit_rows(gateway.pool, "actor = %s", "admin-cli")
    # The fixture's own keys were created through the CLI function too.
    mine = [r for r in rows if r["target"] in (prefix, "acme") or r["action"] != "key.create"]
    assert [(r["action"], r["tenant_id"], r["actor"], r["target"], r["result"]) for r in mine] == [
        ("key.create", "acme", "admin-cli", prefix, "ok"),
        ("key.revoke", "acme", "admin-cli", prefix, "ok"),
        ("retention.set", "acme", "admin-cli", "acme", "ok"),
    ]
    assert mine[0]["details"] == {"label": "ci", "is_admin": False, "expires_in_seconds": 3 * 86400}
    assert mine[2]["details"] == {"days": 7}
    assert key not in json.dumps(rows, default=str)


def concrete_path(route: APIRoute) -> str:
    """The route's path with each parameter filled in with a value its convertor accepts."""

    def fill(match: re.Match[str]) -> str:
        return "1" if match.group(2) in (":int", ":float") else "a1"

    return re.sub(r"\{(\w+)(:\w+)?\}", fill, route.path)


async def test_every_mutating_route_leaves_exactly_one_audit_row(blob_gateway, tmp_path):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        routes = [
            (method, route)
            for context in flat_routes(gateway.app.routes)
            if isinstance(route := getattr(context, "original_route", context), APIRoute)
            for method in sorted(route.methods & MUTATING_METHODS)
        ]
        assert len(routes) >= 25  # the app's route table, not an empty walk
        answered: dict[str, int] = {}
        for method, route in routes:
            reply = await asyncio.wait_for(
                gateway.client.request(
                    method, concrete_path(route), headers=gateway.auth("acme"), content=b""
                ),
                30,
            )
            answered[f"{method} {route.path}"] = reply.status_code
        rows = await audit_rows(await settled(gateway))
    recorded = [r["action"] for r in rows]
    for action, status in answered.items():
        assert recorded.count(action) == 1, f"{action} (answered {status}): {recorded.count(action)} rows"
        assert {r["result"] for r in rows if r["action"] == action} == {str(status)}
    assert len(rows) == len(answered)
    assert {r["tenant_id"] for r in rows} == {"acme"}


async def add_entries(pool: AsyncConnectionPool, start: datetime) -> None:
    """acme: 5 job creations by two actors over 5 minutes, one refused; globex: one of its own."""
    for minute in range(5):
        actor = "aaaa1111" if minute % 2 == 0 else "bbbb2222"
        result = "403" if minute == 4 else "202"
        when = start + timedelta(minutes=minute)
        entry = AuditEntry("POST /v1/jobs", result, tenant_id="acme", actor=actor, occurred_at=when)
        await record(pool, entry)
    await record(pool, AuditEntry("DELETE /v1/jobs/{job_id}", "204", tenant_id="acme", target="=cmd()"))
    await record(pool, AuditEntry("POST /v1/clips", "202", tenant_id="globex", actor="cccc3333"))


async def test_audit_filters_pages_and_csv_stay_within_the_organisation(blob_gateway, tmp_path, database_url):
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        await add_entries(gateway.pool, start)
        client, acme = gateway.client, gateway.auth("acme")

        async def entries(**params: Any) -> list[dict[str, Any]]:
            reply = await client.get("/v1/audit", params=params, headers=acme)
            assert reply.status_code == 200, reply.text
            return list(reply.json()["entries"])

        listed = await entries()
        # The fixture's keys were made by the admin CLI: those rows are acme's too.
        everything = [e for e in listed if e["actor"] != "admin-cli"]
        assert len(everything) == 6
        assert {e["tenant_id"] for e in everything} == {"acme"}
        assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
        assert len(await entries(action="POST /v1/")) == 5
        assert len(await entries(action="DELETE")) == 1
        assert len(await entries(action="POST /v1/%")) == 0  # a prefix, not a pattern
        assert len(await entries(actor="aaaa1111")) == 3
        assert len(await entries(result="403")) == 1
        window = {
            "since": (start + timedelta(minutes=1)).isoformat(),
            "until": (start + timedelta(minutes=3)).isoformat(),
        }
        assert [e["actor"] for e in await entries(**window)] == ["aaaa1111", "bbbb2222"]  # minutes 2, 1

        seen: list[int] = []
        cursor: int | None = None
        while True:
            params: dict[str, Any] = {"limit": 4, **({"cursor": cursor} if cursor else {})}
            page = (await client.get("/v1/audit", params=params, headers=acme)).json()
            seen += [e["id"] for e in page["entries"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [e["id"] for e in listed]
        too_many = await client.get("/v1/audit", params={"limit": 1001}, headers=acme)
        assert too_many.status_code == 422

        exported = await client.get("/v1/audit", params={"format": "csv", "actor": "aaaa1111"}, headers=acme)
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        table = list(csv.DictReader(io.StringIO(exported.text)))
        assert len(table) == 3
        assert {row["tenant_id"] for row in table} == {"acme"}
        accepted = await client.get("/v1/audit", headers={**acme, "Accept": "text/csv"})
        formula = [
            row for row in csv.DictReader(io.StringIO(accepted.text)) if row["action"].startswith("DELETE")
        ]
        assert formula[0]["target"] == "'=cmd()"  # never a formula in a spreadsheet

        globex = await client.get("/v1/audit", params={"action": "POST"}, headers=gateway.auth("globex"))
        assert [e["actor"] for e in globex.json()["entries"]] == ["cccc3333"]
        operator = {"Authorization": f"Bearer {await create_key(database_url, 'ops', 'op', True)}"}
        chosen = await client.get(
            "/v1/audit", params={"tenant": "globex", "action": "POST"}, headers=operator
        )
        assert [e["actor"] for e in chosen.json()["entries"]] == ["cccc3333"]
        every = await client.get("/v1/audit", params={"tenant": "*", "action": "POST"}, headers=operator)
        assert {e["tenant_id"] for e in every.json()["entries"]} == {"acme", "globex"}


async def test_a_full_queue_drops_the_entry_and_counts_it_without_waiting():
    writer = AuditWriter(pool=None, queue_size=1, batch_size=10)  # type: ignore[arg-type]  # never written
    before = AUDIT_DROPPED.labels("queue_full")._value.get()
    writer.submit(AuditEntry("POST /v1/jobs", "202"))
    writer.submit(AuditEntry("POST /v1/jobs", "202"))
    assert AUDIT_DROPPED.labels("queue_full")._value.get() == before + 1


async def test_a_body_refused_at_the_edge_is_recorded_under_its_route(blob_gateway, tmp_path):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}, max_json_body_bytes=10) as gateway:
        reply = await gateway.client.post(
            "/v1/text/similarity", json={"a": "x" * 100, "b": "y"}, headers=gateway.auth("acme")
        )
        assert reply.status_code == 413
        rows = await audit_rows(await settled(gateway))
    assert [(r["action"], r["result"], r["tenant_id"]) for r in rows] == [
        ("POST /v1/text/similarity", "413", "acme")
    ]


async def test_entries_still_queued_when_the_gateway_stops_are_written(blob_gateway, tmp_path, database_url):
    async with blob_gateway({"blob_dir": tmp_path / "blobs"}) as gateway:
        for _ in range(20):
            await gateway.client.delete("/v1/jobs/gone", headers=gateway.auth("acme"))
        # No flush here: the lifespan's end writes what is queued.
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT count(*) FROM audit_log WHERE action = 'DELETE /v1/jobs/{job_id}'")
        assert await cur.fetchone() == (20,)
