"""An organisation's API keys over REST, for its admins (``keys:admin``), and ``/v1/me``: what the
caller itself may do (the web UI hides the actions it lacks).

A key is created for one of the organisation's service accounts, with a role no higher than the
caller's and permissions (its role's, narrowed to its scopes) all within the caller's own: a key
cannot mint a key that may do more than itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field

from ..auth import KeyInfo, Principal, authenticate, create_api_key, list_api_keys, revoke_api_key
from ..permissions import ROLE_RANK, Permission, Role, check_grant, granted, requires
from ..roles import permissions_of
from .schemas import ReplyRouter

router = ReplyRouter(tags=["auth"])
KeyPrefix = Annotated[str, Path(pattern=r"^[0-9a-f]{8}$", description="The 8 hex digits after cs_")]


class KeyIn(BaseModel):
    label: str = Field(default="", max_length=200, description="For people: what the key is for")
    role: Role = Field(default=Role.VIEWER, description="At most the caller's own role")
    scopes: list[Permission] | None = Field(
        default=None, description="Narrow the key to these permissions of its role (default: all of them)"
    )
    service_account: str = Field(
        default="default", pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="The service account owning it"
    )
    expires_in_days: float | None = Field(default=None, gt=0, le=3650, description="Default: until revoked")


class KeyView(BaseModel):
    prefix: str = Field(description="cs_<prefix>_...: how a key is recognised; the key is never shown again")
    label: str
    role: Role
    scopes: list[str] | None = Field(description="None: every permission of the role")
    service_account: str
    state: str = Field(description="active, expired or revoked")
    created_at: datetime
    expires_at: datetime | None

    @classmethod
    def of(cls, key: KeyInfo) -> KeyView:
        return cls(
            prefix=key.prefix,
            label=key.label,
            role=Role(key.role),
            scopes=key.scopes,
            service_account=key.service_account,
            state=key.state(datetime.now(UTC)),
            created_at=key.created_at,
            expires_at=key.expires_at,
        )


class CreatedKey(KeyView):
    key: str = Field(description="The API key: shown only in this reply")


class KeyList(BaseModel):
    keys: list[KeyView]


class Me(BaseModel):
    tenant: str = Field(description="The organisation the caller acts for")
    role: Role
    scopes: list[str] | None = Field(description="The key's scopes (None: every permission of the role)")
    permissions: list[Permission] = Field(
        description="What the caller may do: the role's, narrowed by scopes"
    )
    platform_admin: bool = Field(description="A platform operator's key (analytics of every organisation)")


def _check_within(principal: Principal, role: Role, scopes: list[str] | None) -> None:
    """403 when a key of ``role`` and ``scopes`` would outrank the caller or do what it may not."""
    if ROLE_RANK[role] > ROLE_RANK[Role(principal.role)]:
        raise HTTPException(403, f"a {principal.role} may not create or revoke {role} keys")
    beyond = permissions_of(role, scopes) - granted(principal)
    if beyond:
        names = ", ".join(sorted(beyond))
        raise HTTPException(403, f"the key would have permissions this key lacks: {names}")


@router.post("/v1/keys", status_code=201, response_model=CreatedKey)
async def create_key(
    body: KeyIn, request: Request, principal: Annotated[Principal, requires(Permission.KEYS_ADMIN)]
) -> CreatedKey:
    """A new key of the caller's organisation; the key itself is in this reply only."""
    scopes = None if body.scopes is None else [scope.value for scope in body.scopes]
    role, checked = check_grant(body.role, scopes)  # 400 for scopes outside the role
    _check_within(principal, role, None if checked is None else list(checked))
    expires = None if body.expires_in_days is None else timedelta(days=body.expires_in_days)
    async with request.app.state.pool.connection() as conn:
        key = await create_api_key(
            conn,
            principal.tenant_id,
            body.label,
            expires_in=expires,
            role=role,
            scopes=checked,
            service_account=body.service_account,
        )
        prefix = key.split("_")[1]
        info = next(k for k in await list_api_keys(conn, principal.tenant_id) if k.prefix == prefix)
    return CreatedKey(key=key, **KeyView.of(info).model_dump())


@router.get("/v1/keys", response_model=KeyList)
async def list_keys(
    request: Request, principal: Annotated[Principal, requires(Permission.KEYS_ADMIN)]
) -> KeyList:
    """Every key of the caller's organisation, oldest first (prefixes only, never a key)."""
    async with request.app.state.pool.connection() as conn:
        keys = await list_api_keys(conn, principal.tenant_id)
    return KeyList(keys=[KeyView.of(key) for key in keys])


@router.delete("/v1/keys/{prefix}", status_code=204, response_class=Response)
async def revoke_key(
    prefix: KeyPrefix, request: Request, principal: Annotated[Principal, requires(Permission.KEYS_ADMIN)]
) -> Response:
    """Revoke a key of the caller's organisation (404 for another's): refused from the next request
    on, and so are its unused WebSocket tickets. A key may not revoke a key of a higher role."""
    async with request.app.state.pool.connection() as conn:
        live = [k for k in await list_api_keys(conn, principal.tenant_id) if k.prefix == prefix]
        for key in live:
            if key.revoked_at is None and ROLE_RANK[Role(key.role)] > ROLE_RANK[Role(principal.role)]:
                raise HTTPException(403, f"a {principal.role} may not create or revoke {key.role} keys")
        await revoke_api_key(conn, prefix, principal.tenant_id)
    return Response(status_code=204)


@router.get("/v1/me", response_model=Me)
async def me(principal: Annotated[Principal, Depends(authenticate)]) -> dict[str, Any]:
    """Who the caller is: organisation, role, scopes and the permissions they leave (any key)."""
    return {
        "tenant": principal.tenant_id,
        "role": principal.role,
        "scopes": None if principal.scopes is None else list(principal.scopes),
        "permissions": sorted(granted(principal)),
        "platform_admin": principal.is_admin,
    }
