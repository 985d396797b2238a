"""Who may do what, in one place: the permissions routes declare, the roles that grant them, and the
one dependency that checks them.

A caller acts for one organisation (today's tenant) with one role; an API key may carry scopes,
which narrow its role's permissions further (a CI key with ``jobs:write`` only). Every route
declares the permission it needs with ``requires(...)`` (or is listed as public in
``PUBLIC_ROUTES``); a test walks the application's route table and fails on a route that does
neither, then calls every route with every role."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status

from .auth import Principal, authenticate


class Permission(enum.StrEnum):
    JOBS_READ = "jobs:read"  # job status, results, clips, keyframes, events, own uploads
    JOBS_WRITE = "jobs:write"  # submit and delete jobs, upload media
    ANALYZE = "analyze:run"  # request-sized analysis: similarity, analyze, compare, image checks
    INDEXES_READ = "indexes:read"
    INDEXES_WRITE = "indexes:write"
    MODELS_READ = "models:read"
    MODELS_PREDICT = "models:predict"
    MODELS_WRITE = "models:write"  # train, deploy, undeploy, roll back
    ANALYTICS_READ = "analytics:read"
    BUCKETS_READ = "buckets:read"
    BUCKETS_ADMIN = "buckets:admin"  # register and remove buckets (credentials)
    KEYS_ADMIN = "keys:admin"  # create, list and revoke the organisation's keys
    AUDIT_READ = "audit:read"


class Role(enum.StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"
    OWNER = "owner"


_VIEWER = frozenset(
    {
        Permission.JOBS_READ,
        Permission.INDEXES_READ,
        Permission.MODELS_READ,
        Permission.ANALYTICS_READ,
        Permission.BUCKETS_READ,
    }
)
_EDITOR = _VIEWER | {
    Permission.JOBS_WRITE,
    Permission.ANALYZE,
    Permission.INDEXES_WRITE,
    Permission.MODELS_PREDICT,
    Permission.MODELS_WRITE,
}
_ADMIN = _EDITOR | {Permission.BUCKETS_ADMIN, Permission.KEYS_ADMIN, Permission.AUDIT_READ}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.EDITOR: frozenset(_EDITOR),
    Role.ADMIN: frozenset(_ADMIN),
    Role.OWNER: frozenset(_ADMIN),
}

# Routes anyone may call: probes and the API description (the web UI's static files are a mount).
PUBLIC_ROUTES = frozenset(
    {"/healthz", "/readyz", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"}
)


def granted(principal: Principal) -> frozenset[Permission]:
    """What the caller may do: its role's permissions, narrowed to its key's scopes if it has any."""
    allowed = ROLE_PERMISSIONS[Role(principal.role)]
    if principal.scopes is None:
        return allowed
    return allowed & frozenset(Permission(scope) for scope in principal.scopes)


def requires(permission: Permission) -> Any:
    """A route dependency: the authenticated caller, or 403 naming the permission it lacks."""

    async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if permission not in granted(principal):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this key (role {principal.role}) lacks the permission {permission.value}",
            )
        return principal

    check.permission = permission  # type: ignore[attr-defined]  # read by the route-table test
    return Depends(check)


def declared_permission(dependency: Callable[..., Awaitable[Any]] | Any) -> Permission | None:
    """The permission a ``requires`` dependency checks (None for any other dependency)."""
    value = getattr(dependency, "permission", None)
    return value if isinstance(value, Permission) else None


def request_permissions(request: Request) -> frozenset[Permission]:
    """The caller's permissions, for views that show or hide actions (the web UI)."""
    principal = request.scope.get("clipsift.principal")
    return granted(principal) if isinstance(principal, Principal) else frozenset()
