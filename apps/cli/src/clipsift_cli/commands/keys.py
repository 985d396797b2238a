"""``clipsift keys create | list | revoke``: API keys, through the gateway's operator entry point
(``python -m gateway_svc.admin``), against the database of --database-url, CLIPSIFT_DATABASE_URL or
the running ``clipsift up``."""

from __future__ import annotations

import argparse
import json
import os

from ..admin import gateway_admin
from ..client import ApiError
from ._common import Subcommands


def _keys_database(args: argparse.Namespace) -> str:
    database_url: str | None = args.database_url or os.environ.get("CLIPSIFT_DATABASE_URL")
    runtime = args.home / "runtime.json"
    if not database_url and runtime.exists():
        database_url = json.loads(runtime.read_text())["database_url"]
    if not database_url:
        raise ApiError("no database: pass --database-url, set CLIPSIFT_DATABASE_URL, or start `clipsift up`")
    return database_url


def _tenant(tenant: str | None) -> list[str]:
    return [f"--tenant={tenant}"] if tenant is not None else []


def cmd_keys_create(args: argparse.Namespace) -> int:
    admin = ["--admin"] if args.admin else []
    grant = [f"--role={args.role}", f"--service-account={args.service_account}"]
    grant += [f"--scope={scope}" for scope in args.scope or ()]
    create = ["create-key", f"--tenant={args.tenant}", f"--label={args.label}", *grant, *admin]
    print(gateway_admin(_keys_database(args), *create))
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    print(gateway_admin(_keys_database(args), "list-keys", *_tenant(args.tenant)))
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    # An unknown or ambiguous prefix comes back as an ApiError: said plainly, no traceback.
    print(gateway_admin(_keys_database(args), "revoke-key", *_tenant(args.tenant), "--", args.prefix))
    return 0


def register(commands: Subcommands) -> None:
    keys = commands.add_parser("keys", help="API keys").add_subparsers(dest="keys_command", required=True)
    create = keys.add_parser("create", help="create an API key for a tenant")
    create.add_argument("--tenant", required=True)
    create.add_argument("--label", default="")
    create.add_argument(
        "--role",
        default="admin",
        choices=("viewer", "editor", "admin", "owner"),
        help="the key's role in the tenant (default admin: everything but what only owners may)",
    )
    create.add_argument(
        "--scope",
        action="append",
        help="narrow the key to this permission of its role (repeat; e.g. jobs:write)",
    )
    create.add_argument("--service-account", default="default", help="the service account owning the key")
    create.add_argument(
        "--admin", action="store_true", help="a platform operator's key: every tenant's analytics"
    )
    create.add_argument("--database-url")
    create.set_defaults(func=cmd_keys_create)
    keys_list = keys.add_parser("list", help="every key's prefix, tenant, role, scopes, state and expiry")
    keys_list.add_argument("--tenant")
    keys_list.add_argument("--database-url")
    keys_list.set_defaults(func=cmd_keys_list)
    keys_revoke = keys.add_parser("revoke", help="revoke a key by its prefix (cs_<prefix>_...)")
    keys_revoke.add_argument("prefix")
    keys_revoke.add_argument("--tenant", help="needed only when two tenants' keys share the prefix")
    keys_revoke.add_argument("--database-url")
    keys_revoke.set_defaults(func=cmd_keys_revoke)
