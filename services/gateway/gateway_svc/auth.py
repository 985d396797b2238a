"""API keys per tenant (``Authorization: Bearer cs_<prefix>_<secret>``) and WebSocket tickets.

Keys carry 256 bits of randomness, so a plain SHA-256 is a safe lookup hash (no need for a
slow password hash); the prefix lets operators recognise (and revoke) a key without storing it.
The edge layer (edge.py) checks credentials before any route code runs and leaves the caller's
``Principal`` in the ASGI scope; the dependencies here only read it back.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import HTTPException, status
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from starlette.requests import HTTPConnection

from clipsift_common.errors import InvalidArgument, NotFound

from .roles import Role, check_grant

_TENANT = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# The ASGI scope key under which the edge leaves the authenticated caller.
PRINCIPAL_SCOPE_KEY = "clipsift.principal"
MISSING_KEY = "missing API key: send 'Authorization: Bearer <key>'"
INVALID_KEY = "invalid or revoked API key"


@dataclass(frozen=True)
class Principal:
    tenant_id: str  # the organisation the caller acts for
    key_id: str
    # Platform-admin semantics: a platform operator's key, which reads every organisation's
    # analytics. It grants nothing inside an organisation: that is the role's (permissions.py).
    is_admin: bool
    # The caller's role in its organisation and, for a key, the scopes that narrow it (None: the
    # role's every permission); see permissions.py.
    role: str = "admin"
    scopes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class KeyInfo:
    """What an operator sees of a key: never the key, only its prefix."""

    prefix: str
    tenant_id: str
    label: str
    is_admin: bool
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    role: str
    scopes: list[str] | None
    service_account: str

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class Refused(Exception):
    """Credentials that do not identify a caller; the message says why (safe to show the caller)."""


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


async def create_api_key(
    conn: AsyncConnection,
    tenant_id: str,
    label: str = "",
    is_admin: bool = False,
    expires_in: timedelta | None = None,
    *,
    role: str = Role.ADMIN,
    scopes: Sequence[str] | None = None,
    service_account: str = "default",
) -> str:
    """Create the tenant (organisation) if needed and a new key for it, of one of its service
    accounts, acting with ``role`` narrowed to ``scopes`` (None: all the role's permissions; scopes
    outside the role are refused), valid for ``expires_in`` or until revoked; return the key
    (shown only now). The default role, admin, is what every tenant key could do before roles."""
    checked_role, checked_scopes = check_grant(role, scopes)
    if not _TENANT.match(tenant_id):
        raise InvalidArgument(
            f"tenant id {tenant_id!r} must be 1-63 lowercase letters, digits or dashes, starting alphanumeric"
        )
    if expires_in is not None and expires_in <= timedelta(0):
        raise InvalidArgument(f"a key must be valid for a positive time, not {expires_in}")
    prefix = secrets.token_hex(4)
    key = f"cs_{prefix}_{secrets.token_urlsafe(32)}"
    async with conn.transaction():
        await conn.execute("INSERT INTO tenants (id) VALUES (%s) ON CONFLICT DO NOTHING", (tenant_id,))
        await conn.execute(
            "INSERT INTO api_keys (id, tenant_id, key_hash, prefix, label, is_admin, expires_at, "
            "role, scopes, service_account) "
            "VALUES (%s, %s, %s, %s, %s, %s, now() + %s::interval, %s, %s, %s)",
            (
                uuid.uuid4(),
                tenant_id,
                hash_key(key),
                prefix,
                label,
                is_admin,
                expires_in,
                checked_role.value,
                None if checked_scopes is None else list(checked_scopes),
                service_account,
            ),
        )
    return key


async def lookup(pool: AsyncConnectionPool, key: str) -> Principal:
    """The caller a key stands for; ``Refused`` when it is unknown, revoked or expired."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT id::text, tenant_id, is_admin, role, scopes, expires_at, expires_at <= now() "
            "FROM api_keys "
            "WHERE key_hash = %s AND revoked_at IS NULL",
            (hash_key(key),),
        )
        row = await cur.fetchone()
    if row is None:
        raise Refused(INVALID_KEY)
    if row[6]:
        raise Refused(f"API key expired at {row[5].astimezone(UTC).isoformat(timespec='seconds')}")
    return _principal(row)


def _principal(row: Sequence[Any]) -> Principal:
    """A principal from a key row's ``id, tenant_id, is_admin, role, scopes``."""
    key_id, tenant_id, is_admin, role, scopes = row[:5]
    return Principal(
        tenant_id=tenant_id,
        key_id=key_id,
        is_admin=is_admin,
        role=role,
        scopes=None if scopes is None else tuple(scopes),
    )


_KEY_COLUMNS = (
    "prefix, tenant_id, label, is_admin, created_at, expires_at, revoked_at, role, scopes, service_account"
)


async def list_api_keys(conn: AsyncConnection, tenant_id: str | None = None) -> list[KeyInfo]:
    """Every key (of ``tenant_id``, when given), oldest first."""
    cur = await conn.execute(
        f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE %(tenant)s::text IS NULL OR tenant_id = %(tenant)s "
        "ORDER BY created_at, prefix",
        {"tenant": tenant_id},
    )
    return [KeyInfo(*row) for row in await cur.fetchall()]


async def revoke_api_key(conn: AsyncConnection, prefix: str, tenant_id: str | None = None) -> KeyInfo:
    """Revoke the one unrevoked key with ``prefix`` (of ``tenant_id``, when given); it is refused
    from the next request on, and so are its unused WebSocket tickets."""
    async with conn.transaction():
        cur = await conn.execute(
            f"SELECT id, {_KEY_COLUMNS} FROM api_keys WHERE prefix = %(prefix)s AND revoked_at IS NULL "
            "AND (%(tenant)s::text IS NULL OR tenant_id = %(tenant)s) FOR UPDATE",
            {"prefix": prefix, "tenant": tenant_id},
        )
        rows = await cur.fetchall()
        where = f" of tenant {tenant_id!r}" if tenant_id else ""
        if not rows:
            raise NotFound(f"no unrevoked key with prefix {prefix!r}{where}")
        if len(rows) > 1:
            tenants = ", ".join(sorted(row[2] for row in rows))
            raise InvalidArgument(
                f"{len(rows)} keys have prefix {prefix!r} (tenants {tenants}): name the tenant"
            )
        # Its unused WebSocket tickets go with it (redeem_ticket also refuses them by the key).
        await conn.execute("DELETE FROM ws_tickets WHERE key_id = %s", (rows[0][0],))
        cur = await conn.execute(
            f"UPDATE api_keys SET revoked_at = now() WHERE id = %s RETURNING {_KEY_COLUMNS}", (rows[0][0],)
        )
        revoked = await cur.fetchone()
    assert revoked is not None
    return KeyInfo(*revoked)


async def issue_ticket(pool: AsyncConnectionPool, principal: Principal, valid_seconds: float) -> str:
    """A single-use ticket standing for the principal's key on one WebSocket handshake."""
    ticket = f"wst_{secrets.token_urlsafe(32)}"
    async with pool.connection() as conn, conn.transaction():
        # Unused tickets are swept here, by the index on expiry, rather than by a background task.
        await conn.execute("DELETE FROM ws_tickets WHERE expires_at < now()")
        await conn.execute(
            "INSERT INTO ws_tickets (ticket_hash, key_id, expires_at) "
            "VALUES (%s, %s, now() + make_interval(secs => %s))",
            (hash_key(ticket), principal.key_id, valid_seconds),
        )
    return ticket


async def redeem_ticket(pool: AsyncConnectionPool, ticket: str) -> Principal:
    """Use up a ticket: the principal of its key; ``Refused`` when the ticket is unknown, used,
    expired, or its key was revoked or has expired since."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "WITH used AS (DELETE FROM ws_tickets WHERE ticket_hash = %s RETURNING key_id, expires_at) "
            "SELECT k.id::text, k.tenant_id, k.is_admin, k.role, k.scopes "
            "FROM used JOIN api_keys k ON k.id = used.key_id "
            "WHERE used.expires_at > now() AND k.revoked_at IS NULL "
            "AND (k.expires_at IS NULL OR k.expires_at > now())",
            (hash_key(ticket),),
        )
        row = await cur.fetchone()
    if row is None:
        raise Refused("invalid, used or expired ticket: get a new one from POST /v1/ws-tickets")
    return _principal(row)


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})


async def authenticate(request: HTTPConnection) -> Principal:
    """FastAPI dependency (HTTP and WebSocket routes): the caller's tenant, or 401. Behind the edge
    the principal is already in the scope; the lookup is for an app mounted without it."""
    principal = request.scope.get(PRINCIPAL_SCOPE_KEY)
    if isinstance(principal, Principal):
        return principal
    key = bearer(request.headers.get("authorization"))
    if key is None:
        raise _unauthorized(MISSING_KEY)
    try:
        return await lookup(request.app.state.pool, key)
    except Refused as refused:
        raise _unauthorized(str(refused)) from None
