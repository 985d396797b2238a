"""Buckets a tenant registers, so that jobs can read objects straight from them.

A registration is a name, a bucket URL and the obstore options that reach it (credentials,
endpoint). The options are checked (bucket_access.py), tried against the bucket, and stored as one
Fernet token (AES-128-CBC + HMAC-SHA256) of their JSON: the database never holds them in clear, and
whoever reads it without the gateway's bucket secret keys learns only the public ones (endpoint,
region, account name), kept beside it for listings. ``MultiFernet`` lets keys rotate: the first key
encrypts, every key decrypts, and ``rotate_bucket_secrets`` re-encrypts every row with the first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from psycopg import AsyncConnection
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import SecretStr

from clipsift_common.errors import FailedPrecondition, InvalidArgument, NotFound
from clipsift_common.objectstore import ObjectBlobStore

from .bucket_access import (
    AccessPolicy,
    BucketUrl,
    check_access,
    check_endpoint,
    checked_options,
    open_bucket,
    parse_bucket_url,
    public_options,
)

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_COLUMNS = "name, url, public_options, created_at"


class BucketExists(FailedPrecondition):
    """The tenant already has a bucket of that name (409)."""


class BucketCipher:
    """Encrypts bucket options with the gateway's keys (first encrypts, all decrypt)."""

    def __init__(self, keys: list[SecretStr]) -> None:
        if not keys:
            raise ValueError("no bucket secret keys")
        try:
            self._fernet = MultiFernet([Fernet(key.get_secret_value().encode()) for key in keys])
        except ValueError as exc:
            raise ValueError(
                f"a bucket secret key is not a Fernet key (url-safe base64 of 32 bytes): {exc}"
            ) from None

    def encrypt(self, options: dict[str, str]) -> bytes:
        return self._fernet.encrypt(json.dumps(options, sort_keys=True).encode())

    def decrypt(self, token: bytes) -> dict[str, str]:
        try:
            return dict(json.loads(self._fernet.decrypt(token)))
        except InvalidToken:
            raise FailedPrecondition(
                "this bucket's credentials were encrypted with a key the gateway no longer has; "
                "register it again"
            ) from None

    def rotate(self, token: bytes) -> bytes:
        return self._fernet.rotate(token)


@dataclass(frozen=True)
class Bucket:
    """A registered bucket as its tenant sees it: never the secret options."""

    name: str
    url: str
    options: dict[str, str]
    created_at: datetime

    def view(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "options": self.options,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class SourceObject:
    """An object in a registered bucket, resolved from a reference like ``s3://name/key``."""

    bucket: Bucket
    key: str
    store: ObjectBlobStore

    @property
    def reference(self) -> str:
        return f"{self.bucket.url.rstrip('/')}/{self.key}"


class BucketRegistry:
    def __init__(self, pool: AsyncConnectionPool, cipher: BucketCipher | None, policy: AccessPolicy) -> None:
        self.pool = pool
        self.cipher = cipher
        self.policy = policy

    def _need_cipher(self) -> BucketCipher:
        if self.cipher is None:
            raise FailedPrecondition(
                "bucket registration is off: the gateway has no bucket secret keys "
                "(CLIPSIFT_GATEWAY_BUCKET_SECRET_KEYS)"
            )
        return self.cipher

    async def register(self, tenant_id: str, name: str, url: str, options: dict[str, Any]) -> Bucket:
        """Check the options, the endpoint and the credentials, then store the bucket."""
        cipher = self._need_cipher()
        if not NAME.fullmatch(name):
            raise InvalidArgument(
                "name must be 1-63 lowercase letters, digits or dashes, starting alphanumeric"
            )
        location = parse_bucket_url(url)
        clean = checked_options(location.scheme, options)
        await check_endpoint(location.scheme, clean, self.policy)
        await check_access(location.url, clean, self.policy)
        try:
            async with self.pool.connection() as conn:
                cur = await conn.execute(
                    "INSERT INTO tenant_buckets (tenant_id, name, url, public_options, secret_options) "
                    f"VALUES (%s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
                    (tenant_id, name, location.url, Jsonb(public_options(clean)), cipher.encrypt(clean)),
                )
                row = await cur.fetchone()
        except pg_errors.UniqueViolation:
            raise BucketExists(f"a bucket named {name!r} is already registered; delete it first") from None
        assert row is not None
        return Bucket(*row)

    async def list(self, tenant_id: str) -> list[Bucket]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM tenant_buckets WHERE tenant_id = %s ORDER BY name", (tenant_id,)
            )
            return [Bucket(*row) for row in await cur.fetchall()]

    async def delete(self, tenant_id: str, name: str) -> None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "DELETE FROM tenant_buckets WHERE tenant_id = %s AND name = %s", (tenant_id, name)
            )
        if cur.rowcount == 0:
            raise NotFound(f"no bucket named {name!r}")

    async def resolve(self, tenant_id: str, reference: str) -> SourceObject:
        """The object ``reference`` names (``<scheme>://<bucket name or bucket>/<key>``) in one of
        the tenant's buckets; NotFound when no bucket of this tenant matches (another tenant's
        included: the answer does not say whether it exists)."""
        self._need_cipher()
        scheme, host, path = _split_reference(reference)
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS}, secret_options FROM tenant_buckets WHERE tenant_id = %s ORDER BY name",
                (tenant_id,),
            )
            rows = await cur.fetchall()
        match = _match(scheme, host, path, [(Bucket(*row[:4]), row[4]) for row in rows])
        if match is None:
            raise NotFound(f"{scheme}://{host} is not a bucket this tenant registered (POST /v1/buckets)")
        (bucket, token), key = match
        options = self._need_cipher().decrypt(token)
        return SourceObject(bucket, key, open_bucket(bucket.url, options, self.policy))


def _split_reference(reference: str) -> tuple[str, str, str]:
    parts = urlsplit(reference.strip())
    path = parts.path.lstrip("/")
    if (
        parts.scheme not in ("s3", "gs", "az")
        or not parts.netloc
        or not path
        or parts.query
        or parts.fragment
    ):
        raise InvalidArgument('"source" must be s3://<bucket>/<key> (or gs://, az://) in a registered bucket')
    return parts.scheme, parts.netloc, path


def _match(
    scheme: str, host: str, path: str, buckets: list[tuple[Bucket, bytes]]
) -> tuple[tuple[Bucket, bytes], str] | None:
    """By registered name first (the key is under the bucket's URL), then by the bucket itself
    (the key is the whole object key, which must lie under the registered prefix)."""
    located = [(entry, parse_bucket_url(entry[0].url)) for entry in buckets]
    for entry, location in located:
        if entry[0].name == host and location.scheme == scheme:
            return entry, path
    for entry, location in located:
        if (location.scheme, location.bucket) == (scheme, host):
            key = _under(location, path)
            if key is not None:
                return entry, key
    return None


def _under(location: BucketUrl, path: str) -> str | None:
    if not location.prefix:
        return path
    return path.removeprefix(location.prefix + "/") if path.startswith(location.prefix + "/") else None


async def rotate_bucket_secrets(conn: AsyncConnection, cipher: BucketCipher) -> int:
    """Re-encrypt every stored bucket's options with the first key; returns how many rows. Run it
    (``python -m gateway_svc.admin rotate-bucket-keys``) after putting a new key first, then drop
    the old keys from the setting."""
    async with conn.transaction():
        cur = await conn.execute("SELECT tenant_id, name, secret_options FROM tenant_buckets FOR UPDATE")
        rows = await cur.fetchall()
        for tenant_id, name, token in rows:
            await conn.execute(
                "UPDATE tenant_buckets SET secret_options = %s WHERE tenant_id = %s AND name = %s",
                (cipher.rotate(bytes(token)), tenant_id, name),
            )
    return len(rows)
