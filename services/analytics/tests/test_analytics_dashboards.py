"""Every PostgreSQL query of every Grafana dashboard in deploy/grafana/dashboards names only tables
and columns that exist in a freshly migrated database, and PostgreSQL itself can plan it.

Grafana macros are expanded the way the PostgreSQL datasource does before the SQL is parsed
(sqlglot, PostgreSQL dialect) and resolved against information_schema; a macro this test does not
know fails it rather than being skipped."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify

from clipsift_common.db import migrate

pytestmark = pytest.mark.integration

DASHBOARDS = Path(__file__).resolve().parents[3] / "deploy" / "grafana" / "dashboards"
POSTGRES_UID = "clipsift-postgres"
FROM, TO = "'2026-01-01T00:00:00Z'::timestamptz", "'2026-02-01T00:00:00Z'::timestamptz"


def _expand(sql: str) -> str:
    """The SQL Grafana sends for a range and a tenant variable (``$tenant`` = 'acme', 'globex')."""
    sql = re.sub(r"\$__timeFilter\(([^)]+)\)", rf"(\1 BETWEEN {FROM} AND {TO})", sql)
    sql = re.sub(
        r"\$__timeGroupAlias\(([^,]+),[^)]*\)",
        r"""to_timestamp(floor(extract(epoch FROM \1) / 3600) * 3600) AS "time" """,
        sql,
    )
    sql = re.sub(
        r"\$__timeGroup\(([^,]+),[^)]*\)", r"to_timestamp(floor(extract(epoch FROM \1) / 3600) * 3600)", sql
    )
    sql = sql.replace("$__timeFrom()", FROM).replace("$__timeTo()", TO)
    sql = re.sub(r"\$\{?tenant(:\w+)?\}?", "'acme', 'globex'", sql)
    leftover = re.search(r"\$\S+", sql)
    assert leftover is None, f"unknown Grafana macro or variable {leftover.group()!r} in: {sql}"
    return sql


def _postgres(item: dict[str, Any]) -> bool:
    return (item.get("datasource") or {}).get("uid") == POSTGRES_UID


def _panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for panel in panels:
        found.append(panel)
        found += _panels(panel.get("panels", []))  # collapsed rows carry their own panels
    return found


def sql_queries() -> list[tuple[str, str]]:
    """(where, raw SQL) for every PostgreSQL panel target and query variable of every dashboard."""
    queries = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        for panel in _panels(board.get("panels", [])):
            for target in panel.get("targets", []):
                if _postgres(target) or (_postgres(panel) and "rawSql" in target):
                    queries.append((f"{path.name}: {panel['title']} / {target['refId']}", target["rawSql"]))
        for variable in board.get("templating", {}).get("list", []):
            if _postgres(variable):
                query = variable["query"]
                queries.append(
                    (
                        f"{path.name}: variable {variable['name']}",
                        query if isinstance(query, str) else query["rawSql"],
                    )
                )
    return queries


QUERIES = sql_queries()


def test_the_tenant_usage_dashboard_is_there_with_sql_panels():
    board = json.loads((DASHBOARDS / "tenant-usage.json").read_text(encoding="utf-8"))
    panels = _panels(board["panels"])
    assert len(panels) >= 10
    assert all(_postgres(panel) for panel in panels)
    assert len({panel["id"] for panel in panels}) == len(panels)
    assert sum(where.startswith("tenant-usage.json") for where, _ in QUERIES) == len(panels) + 1


@pytest.fixture
async def migrated_schema(database_url: str) -> tuple[str, dict[str, dict[str, str]]]:
    """A freshly migrated database and the columns of each of its tables and views."""
    await migrate(database_url, "analytics", "analytics_svc.migrations")
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        )
        tables: dict[str, dict[str, str]] = {}
        for table, column, data_type in await cur.fetchall():
            tables.setdefault(table, {})[column] = data_type
    return database_url, tables


def _names(sql: str, tables: dict[str, dict[str, str]]) -> tuple[set[str], set[tuple[str, str]]]:
    """Tables and (table, column) pairs the query reads; raises when one cannot be resolved."""
    tree = qualify(
        sqlglot.parse_one(sql, read="postgres"),
        schema=tables,
        dialect="postgres",
        validate_qualify_columns=True,
    )
    aliases = {table.alias_or_name: table.name for table in tree.find_all(exp.Table)}
    used_tables = {table.name for table in tree.find_all(exp.Table)}
    columns = set()
    for column in tree.find_all(exp.Column):
        if column.table in aliases:
            columns.add((aliases[column.table], column.name))
    return used_tables, columns


@pytest.mark.parametrize(("where", "sql"), QUERIES, ids=[where for where, _ in QUERIES])
async def test_every_table_and_column_exists(migrated_schema, where, sql):
    database_url, tables = migrated_schema
    expanded = _expand(sql)
    used_tables, columns = _names(expanded, tables)
    assert used_tables, f"{where}: reads no table"
    assert used_tables <= set(tables), f"{where}: unknown tables {used_tables - set(tables)}"
    missing = {(t, c) for t, c in columns if c not in tables[t]}
    assert not missing, f"{where}: unknown columns {missing}"
    assert columns, f"{where}: names no column"
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        await conn.execute(f"EXPLAIN {expanded}".encode())


def test_a_wrong_column_is_caught():
    tables = {"analytics_jobs": {"tenant_id": "text", "finished_at": "timestamp with time zone"}}
    assert _names("SELECT tenant_id FROM analytics_jobs", tables) == (
        {"analytics_jobs"},
        {("analytics_jobs", "tenant_id")},
    )
    with pytest.raises(sqlglot.errors.OptimizeError):
        _names("SELECT media_minutes FROM analytics_jobs", tables)
    with pytest.raises(sqlglot.errors.OptimizeError):
        _names("SELECT tenant_id FROM analytics_job", tables)
