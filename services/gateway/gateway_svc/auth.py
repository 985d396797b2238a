"""API keys per tenant: ``Authorization: Bearer cs_<prefix>_<secret>``.

Keys carry 256 bits of randomness, so a plain SHA-256 is a safe lookup hash (no need for a
slow password hash); the prefix lets operators recognise a key without storing it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass

from fastapi import HTTPException, Request, WebSocket, status
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from clipsift_common.errors import InvalidArgument

_TENANT = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    key_id: str
    is_admin: bool


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


async def create_api_key(
    conn: AsyncConnection, tenant_id: str, label: str = "", is_admin: bool = False
) -> str:
    """Create the tenant if needed and a new key for it; return the key (shown only now)."""
    if not _TENANT.match(tenant_id):
        raise InvalidArgument(
            f"tenant id {tenant_id!r} must be 1-63 lowercase letters, digits or dashes, starting alphanumeric"
        )
    prefix = secrets.token_hex(4)
    key = f"cs_{prefix}_{secrets.token_urlsafe(32)}"
    async with conn.transaction():
        await conn.execute("INSERT INTO tenants (id) VALUES (%s) ON CONFLICT DO NOTHING", (tenant_id,))
        await conn.execute(
            "INSERT INTO api_keys (id, tenant_id, key_hash, prefix, label, is_admin) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (uuid.uuid4(), tenant_id, hash_key(key), prefix, label, is_admin),
        )
    return key


async def lookup(pool: AsyncConnectionPool, key: str) -> Principal | None:
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT id::text, tenant_id, is_admin FROM api_keys WHERE key_hash = %s AND revoked_at IS NULL",
            (hash_key(key),),
        )
        row = await cur.fetchone()
    return Principal(tenant_id=row[1], key_id=row[0], is_admin=row[2]) if row else None


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def authenticate(request: Request) -> Principal:
    """FastAPI dependency: the caller's tenant, or 401."""
    key = _bearer(request.headers.get("authorization"))
    if key is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing API key: send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = await lookup(request.app.state.pool, key)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    return principal


async def authenticate_websocket(websocket: WebSocket) -> Principal | None:
    """Browsers cannot set headers on a WebSocket, so the key may also come as ``?api_key=``."""
    key = _bearer(websocket.headers.get("authorization")) or websocket.query_params.get("api_key")
    return await lookup(websocket.app.state.pool, key) if key else None
