"""``clipsift keys create | list | revoke``: the operator commands of gateway_svc.admin (run as a
process, the CLI imports no service), against a real database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def clipsift(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clipsift_cli.main", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_keys_list_and_revoke(database_url: str, tmp_path: Path) -> None:
    created = clipsift(
        "keys", "create", "--tenant", "acme", "--label", "ci", "--database-url", database_url, home=tmp_path
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("cs_"), key
    prefix = key.split("_")[1]
    listed = clipsift("keys", "list", "--database-url", database_url, home=tmp_path)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.strip().splitlines()
    assert header.split()[:3] == ["PREFIX", "TENANT", "STATE"]
    assert row.split()[:3] == [prefix, "acme", "active"]

    revoked = clipsift("keys", "revoke", prefix, "--database-url", database_url, home=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == f"revoked key {prefix} of tenant acme"
    after = clipsift("keys", "list", "--tenant", "acme", "--database-url", database_url, home=tmp_path)
    assert after.stdout.strip().splitlines()[1].split()[:3] == [prefix, "acme", "revoked"]

    # A role and scopes: shown in the listing; a scope outside the role is refused.
    scoped = clipsift(
        "keys", "create", "--tenant", "acme", "--role", "editor", "--scope", "jobs:write",
        "--database-url", database_url, home=tmp_path,
    )  # fmt: skip
    assert scoped.returncode == 0, scoped.stderr
    row = clipsift("keys", "list", "--tenant", "acme", "--database-url", database_url, home=tmp_path)
    assert row.stdout.strip().splitlines()[-1].split()[2:5] == ["active", "editor", "jobs:write"]
    outside = clipsift(
        "keys", "create", "--tenant", "acme", "--role", "viewer", "--scope", "jobs:write",
        "--database-url", database_url, home=tmp_path,
    )  # fmt: skip
    assert outside.returncode != 0
    assert "not permissions of the role viewer" in outside.stderr

    unknown = clipsift("keys", "revoke", "nosuchkey", "--database-url", database_url, home=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("error: ")
    assert "nosuchkey" in unknown.stderr
