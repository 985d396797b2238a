"""Operator commands run next to the gateway (``kubectl exec ... python -m gateway_svc.admin``).

python -m gateway_svc.admin create-key --tenant acme [--label ci] [--role editor] [--scope jobs:write ...]
                                      [--service-account ci] [--admin] [--expires-in-days 90]
python -m gateway_svc.admin list-keys [--tenant acme]
python -m gateway_svc.admin revoke-key PREFIX [--tenant acme]
python -m gateway_svc.admin set-retention --tenant acme (--days 30 | --default)   (0 days: keep)
python -m gateway_svc.admin migrate     (apply pending gateway migrations; the Helm hook Job runs it)
python -m gateway_svc.admin rotate-bucket-keys   (re-encrypt tenant bucket credentials with the first
                                                  of CLIPSIFT_GATEWAY_BUCKET_SECRET_KEYS)

Every change (keys, retention, bucket keys) is recorded in the audit log with the actor ``admin-cli``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from pydantic import ValidationError

from clipsift_common.db import migrate
from clipsift_common.errors import ClipsiftError, InvalidArgument

from .app import MIGRATIONS
from .audit import ADMIN_CLI, AuditEntry, insert, key_actor
from .auth import KeyInfo, create_api_key, list_api_keys, revoke_api_key
from .buckets import BucketCipher, rotate_bucket_secrets
from .retention import set_tenant_retention
from .roles import Permission, Role
from .settings import AdminSettings


async def _audit(
    conn: psycopg.AsyncConnection,
    action: str,
    tenant: str | None,
    target: str,
    details: dict[str, Any] | None = None,
) -> None:
    """Record an operator's change in the audit log (actor ``admin-cli``), committed at once."""
    entry = AuditEntry(action, "ok", tenant_id=tenant, actor=ADMIN_CLI, target=target, details=details or {})
    async with conn.transaction():
        await insert(conn, [entry])


def _seconds(lifetime: timedelta | None) -> float | None:
    return lifetime.total_seconds() if lifetime is not None else None


async def create_key(
    database_url: str,
    tenant: str,
    label: str,
    is_admin: bool,
    expires_in: timedelta | None = None,
    *,
    role: str = Role.ADMIN,
    scopes: Sequence[str] | None = None,
    service_account: str = "default",
) -> str:
    """Apply the gateway migrations if needed, then create an API key for ``tenant`` with ``role``
    (narrowed to ``scopes``; ``is_admin``: a platform operator's key besides)."""
    await migrate(database_url, "gateway", MIGRATIONS)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        key = await create_api_key(
            conn,
            tenant,
            label,
            is_admin,
            expires_in,
            role=role,
            scopes=scopes,
            service_account=service_account,
        )
        details = {"label": label, "is_admin": is_admin, "expires_in_seconds": _seconds(expires_in)}
        await _audit(conn, "key.create", tenant, key_actor(f"Bearer {key}"), details)
        return key


async def list_keys(database_url: str, tenant: str | None = None) -> list[KeyInfo]:
    await migrate(database_url, "gateway", MIGRATIONS)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        return await list_api_keys(conn, tenant)


async def revoke_key(database_url: str, prefix: str, tenant: str | None = None) -> KeyInfo:
    await migrate(database_url, "gateway", MIGRATIONS)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        revoked = await revoke_api_key(conn, prefix, tenant)
        await _audit(conn, "key.revoke", revoked.tenant_id, revoked.prefix)
        return revoked


async def set_retention(database_url: str, tenant: str, days: float | None) -> None:
    """Keep the tenant's finished jobs ``days`` days (0: until deleted; None: the gateway default)."""
    if days is not None and days < 0:
        raise InvalidArgument(f"--days must be 0 (keep) or positive, not {days:g}")
    await migrate(database_url, "gateway", MIGRATIONS)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute("SELECT 1 FROM tenants WHERE id = %s", (tenant,))
        if await cur.fetchone() is None:
            raise InvalidArgument(f"no tenant {tenant!r}")
        await set_tenant_retention(conn, tenant, days)
        await _audit(conn, "retention.set", tenant, tenant, {"days": days})


async def migrate_schema(database_url: str) -> list[int]:
    """Apply the gateway's pending migrations (advisory-locked, so safe beside starting replicas)."""
    return await migrate(database_url, "gateway", MIGRATIONS)


async def rotate_bucket_keys(database_url: str, cipher: BucketCipher) -> int:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        count = await rotate_bucket_secrets(conn, cipher)
        await _audit(conn, "bucket_keys.rotate", None, "", {"re_encrypted": count})
        return count


def format_keys(keys: list[KeyInfo], now: datetime | None = None) -> str:
    """One line per key, for people: prefix, tenant, state, role, scopes, platform admin, created,
    expires, service account / label."""
    now = now or datetime.now(UTC)

    def when(moment: datetime | None) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else "never"

    rows = [
        ("PREFIX", "TENANT", "STATE", "ROLE", "SCOPES", "PLATFORM", "CREATED (UTC)", "EXPIRES (UTC)", "LABEL")
    ]
    rows += [
        (
            k.prefix,
            k.tenant_id,
            k.state(now),
            k.role,
            "all" if k.scopes is None else ",".join(k.scopes),
            "admin" if k.is_admin else "-",
            when(k.created_at),
            when(k.expires_at),
            f"{k.service_account}/{k.label}" if k.label else k.service_account,
        )
        for k in keys
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in rows
    )


def expiry(days: float | None) -> timedelta | None:
    """``--expires-in-days`` as a lifetime (None: until revoked)."""
    if days is None:
        return None
    if days <= 0:
        raise InvalidArgument(f"--expires-in-days must be positive, not {days:g}")
    return timedelta(days=days)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway_svc.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-key", help="create an API key for a tenant (created if new)")
    create.add_argument("--tenant", required=True)
    create.add_argument("--label", default="")
    create.add_argument("--role", default=Role.ADMIN.value, choices=[role.value for role in Role])
    create.add_argument(
        "--scope",
        action="append",
        choices=[permission.value for permission in Permission],
        help="narrow the key to this permission of its role (repeat); default: all the role's",
    )
    create.add_argument("--service-account", default="default", help="the service account owning the key")
    create.add_argument("--admin", action="store_true", help="platform operator: analytics across tenants")
    create.add_argument("--expires-in-days", type=float, help="refused after this many days (default: never)")
    listing = commands.add_parser("list-keys", help="every key's prefix, tenant, state and expiry")
    listing.add_argument("--tenant")
    revoke = commands.add_parser("revoke-key", help="revoke a key by its prefix (cs_<prefix>_...)")
    revoke.add_argument("prefix")
    revoke.add_argument("--tenant", help="needed only when two tenants' keys share the prefix")
    retention = commands.add_parser("set-retention", help="days a tenant's finished jobs are kept")
    retention.add_argument("--tenant", required=True)
    choice = retention.add_mutually_exclusive_group(required=True)
    choice.add_argument("--days", type=float, help="0: keep until deleted")
    choice.add_argument("--default", action="store_true", help="back to the gateway's retention_days")
    commands.add_parser("migrate", help="apply pending gateway schema migrations, then exit")
    commands.add_parser("rotate-bucket-keys", help="re-encrypt bucket credentials with the first key")
    args = parser.parse_args()
    try:
        # Only the database: an operator command must not need the gateway's NATS or gRPC targets.
        settings = AdminSettings()  # type: ignore[call-arg]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        parser.exit(2, f"error: bad CLIPSIFT_GATEWAY_* settings: {problems}\n")
    url = settings.database_url
    try:
        if args.command == "migrate":
            applied = asyncio.run(migrate_schema(url))
            print(f"gateway migrations applied: {applied or 'none pending'}")
        elif args.command == "rotate-bucket-keys":
            count = asyncio.run(rotate_bucket_keys(url, BucketCipher(settings.bucket_secret_keys)))
            print(f"bucket credentials re-encrypted: {count}")
        elif args.command == "set-retention":
            days = None if args.default else args.days
            asyncio.run(set_retention(url, args.tenant, days))
            print(f"retention of {args.tenant}: {'the default' if days is None else f'{days:g} days'}")
        elif args.command == "list-keys":
            print(format_keys(asyncio.run(list_keys(url, args.tenant))))
        elif args.command == "revoke-key":
            revoked = asyncio.run(revoke_key(url, args.prefix, args.tenant))
            print(f"revoked key {revoked.prefix} of tenant {revoked.tenant_id}")
        else:
            lifetime = expiry(args.expires_in_days)
            grant = {"role": args.role, "scopes": args.scope, "service_account": args.service_account}
            print(asyncio.run(create_key(url, args.tenant, args.label, args.admin, lifetime, **grant)))
    except (ClipsiftError, psycopg.Error, ValueError) as exc:
        parser.exit(1, f"error: {exc}\n")


if __name__ == "__main__":
    main()
