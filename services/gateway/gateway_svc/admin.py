"""Operator commands run next to the gateway (``kubectl exec ... python -m gateway_svc.admin``).

python -m gateway_svc.admin create-key --tenant acme [--label ci] [--admin]
"""

from __future__ import annotations

import argparse
import asyncio

import psycopg

from clipsift_common.db import migrate

from .app import MIGRATIONS
from .auth import create_api_key
from .settings import GatewaySettings


async def create_key(database_url: str, tenant: str, label: str, is_admin: bool) -> str:
    """Apply the gateway migrations if needed, then create an API key for ``tenant``."""
    await migrate(database_url, "gateway", MIGRATIONS)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        return await create_api_key(conn, tenant, label, is_admin)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway_svc.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-key", help="create an API key for a tenant (created if new)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--label", default="")
    create.add_argument("--admin", action="store_true", help="may query analytics across tenants")
    args = parser.parse_args()
    settings = GatewaySettings()  # type: ignore[call-arg]
    print(asyncio.run(create_key(settings.database_url, args.tenant, args.label, args.admin)))


if __name__ == "__main__":
    main()
