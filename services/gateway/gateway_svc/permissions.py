"""Who may do what, in one place: the permissions routes declare, the roles that grant them, and the
one dependency that checks them.

A caller acts for one organisation (today's tenant) with one role; an API key may carry scopes,
which narrow its role's permissions further (a CI key with ``jobs:write`` only). Every route
declares the permission it needs with ``requires(...)`` (or is listed as public in
``PUBLIC_ROUTES``); a test walks the application's route table and fails on a route that does
neither, then calls every route with every role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, WebSocket, WebSocketException, status
from starlette.requests import HTTPConnection

from .auth import Principal, authenticate
from .roles import ROLE_PERMISSIONS, ROLE_RANK, Permission, Role, check_grant, permissions_of

# Close code of a WebSocket refused for a missing permission (4000-4999: the application's; 4403
# mirrors HTTP 403 as the job-events route's 4404 mirrors 404).
WS_FORBIDDEN = 4403

__all__ = [
    "PUBLIC_ROUTES",
    "ROLE_PERMISSIONS",
    "ROLE_RANK",
    "SIGNED_IN_ROUTES",
    "Permission",
    "Role",
    "check_grant",
    "declared_permission",
    "granted",
    "requires",
]


# Routes anyone may call: probes, the API description and the redirect to the web UI (whose
# static files are a mount).
PUBLIC_ROUTES = frozenset(
    {"/", "/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"}
)
# Routes any authenticated caller may call, whatever its role and scopes (they declare
# ``Depends(authenticate)`` instead): what the caller itself may do.
SIGNED_IN_ROUTES = frozenset({"/v1/me"})


def granted(principal: Principal) -> frozenset[Permission]:
    """What the caller may do: its role's permissions, narrowed to its key's scopes if it has any."""
    return permissions_of(principal.role, principal.scopes)


def requires(permission: Permission) -> Any:
    """A route dependency: the authenticated caller, or 403 (a WebSocket: close code 4403 before
    the handshake completes) naming the permission it lacks."""

    async def check(
        connection: HTTPConnection, principal: Annotated[Principal, Depends(authenticate)]
    ) -> Principal:
        if permission not in granted(principal):
            message = f"this key (role {principal.role}) lacks the permission {permission.value}"
            if isinstance(connection, WebSocket):
                # Accepted first, as the edge does for 4401: a close during the handshake reaches
                # the client as a bare HTTP 403, without this code and reason.
                await connection.accept()
                raise WebSocketException(WS_FORBIDDEN, message)
            raise HTTPException(status.HTTP_403_FORBIDDEN, message)
        return principal

    check.permission = permission  # type: ignore[attr-defined]  # read by the route-table test
    return Depends(check)


def declared_permission(dependency: Callable[..., Awaitable[Any]] | Any) -> Permission | None:
    """The permission a ``requires`` dependency checks (None for any other dependency)."""
    value = getattr(dependency, "permission", None)
    return value if isinstance(value, Permission) else None
