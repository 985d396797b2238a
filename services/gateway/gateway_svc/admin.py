"""Operator commands run next to the gateway (``kubectl exec ... python -m gateway_svc.admin``).

python -m gateway_svc.admin create-key --tenant acme [--label ci] [--admin]
python -m gateway_svc.admin migrate     (apply pending gateway migrations; the Helm hook Job runs it)
"""

from __future__ import annotations

import argparse
import asyncio

import psycopg
from pydantic import ValidationError

from clipsift_common.db import migrate
from clipsift_common.errors import ClipsiftError

from .app import MIGRATIONS
from .auth import create_api_key
from .settings import AdminSettings


async def create_key(database_url: str, tenant: str, label: str, is_admin: bool) -> str:
    """Apply the gateway migrations if needed, then create an API key for ``tenant``."""
    await migrate(database_url, "gateway", MIGRATIONS)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        return await create_api_key(conn, tenant, label, is_admin)


async def migrate_schema(database_url: str) -> list[int]:
    """Apply the gateway's pending migrations (advisory-locked, so safe beside starting replicas)."""
    return await migrate(database_url, "gateway", MIGRATIONS)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway_svc.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-key", help="create an API key for a tenant (created if new)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--label", default="")
    create.add_argument("--admin", action="store_true", help="may query analytics across tenants")
    commands.add_parser("migrate", help="apply pending gateway schema migrations, then exit")
    args = parser.parse_args()
    try:
        # Only the database: an operator command must not need the gateway's NATS or gRPC targets.
        settings = AdminSettings()  # type: ignore[call-arg]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        parser.exit(2, f"error: bad CLIPSIFT_GATEWAY_* settings: {problems}\n")
    try:
        if args.command == "migrate":
            applied = asyncio.run(migrate_schema(settings.database_url))
            print(f"gateway migrations applied: {applied or 'none pending'}")
        else:
            print(asyncio.run(create_key(settings.database_url, args.tenant, args.label, args.admin)))
    except (ClipsiftError, psycopg.Error) as exc:
        parser.exit(1, f"error: {exc}\n")


if __name__ == "__main__":
    main()
