"""The permissions, the roles that grant them and the scopes that narrow a key: plain data, with no
FastAPI in it, so key creation (auth.py) and the route dependency (permissions.py) share it."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from clipsift_common.errors import InvalidArgument


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
    # The same permissions as admin today; an owner outranks admins (an admin cannot mint or
    # revoke-by-role an owner key) and will own the organisation's plan.
    Role.OWNER: frozenset(_ADMIN),
}
# Ranked lowest first: a caller may not grant a role above its own.
ROLE_RANK: dict[Role, int] = {role: rank for rank, role in enumerate(Role)}


def permissions_of(role: str, scopes: Iterable[str] | None) -> frozenset[Permission]:
    """What a key of ``role`` with ``scopes`` may do: its role's permissions, narrowed to the scopes."""
    allowed = ROLE_PERMISSIONS[Role(role)]
    if scopes is None:
        return allowed
    return allowed & frozenset(Permission(scope) for scope in scopes)


def check_grant(role: str, scopes: Iterable[str] | None) -> tuple[Role, tuple[str, ...] | None]:
    """The role and scopes of a new key, checked: a known role, and scopes that are permissions its
    role holds (a scope outside the role would be dead weight that reads like a grant)."""
    try:
        checked = Role(role)
    except ValueError:
        raise InvalidArgument(f"unknown role {role!r}: one of {', '.join(Role)}") from None
    if scopes is None:
        return checked, None
    listed = tuple(dict.fromkeys(scopes))
    unknown = [scope for scope in listed if scope not in Permission.__members__.values()]
    if unknown:
        raise InvalidArgument(f"unknown scopes {', '.join(unknown)}: each one of {', '.join(Permission)}")
    outside = [scope for scope in listed if Permission(scope) not in ROLE_PERMISSIONS[checked]]
    if outside:
        raise InvalidArgument(f"scopes {', '.join(outside)} are not permissions of the role {checked}")
    if not listed:
        raise InvalidArgument("a scoped key needs at least one scope (leave scopes out for all the role's)")
    return checked, listed
