"""`python -m gateway_svc.admin migrate`, the command the chart's migrations hook Job runs."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest

pytestmark = pytest.mark.integration


def migrate(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLIPSIFT_GATEWAY_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "gateway_svc.admin", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_migrate_applies_once_then_nothing(database_url: str) -> None:
    first = migrate(database_url)
    assert first.returncode == 0, first.stderr
    assert "gateway migrations applied: [" in first.stdout
    with psycopg.connect(database_url) as conn:
        versions = conn.execute(
            "SELECT version FROM schema_migrations WHERE component = 'gateway'"
        ).fetchall()
    assert versions
    second = migrate(database_url)
    assert second.returncode == 0, second.stderr
    assert "none pending" in second.stdout


def test_migrate_without_database_url_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIPSIFT_GATEWAY_")}
    result = subprocess.run(
        [sys.executable, "-m", "gateway_svc.admin", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "database_url" in result.stderr
