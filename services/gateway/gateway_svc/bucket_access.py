"""Reaching a bucket a tenant names, safely: which options a tenant may set, which endpoints the
gateway agrees to call, and the credential check done before a bucket is registered.

Two dangers shape the rules. obstore fills every option left out from the gateway's own
environment (AWS_*, AZURE_*, GOOGLE_*, instance metadata, workload identity): a bucket registered
without credentials would be read with the *gateway's* identity, so credentials are required and
the endpoint is always set explicitly. And a tenant-chosen endpoint makes the gateway send
requests where the tenant says (SSRF): endpoints resolving to private, loopback, link-local or
other non-global addresses are refused unless a setting allows them (same-host test servers).
Options naming local files (``google_service_account``, ``aws_web_identity_token_file`` ...) are
never accepted: only the keys listed here pass.

What these checks cannot see: a public name that resolves differently when obstore connects
(DNS rebinding) or an endpoint answering with a redirect to an internal address; a deployment
that must rule those out too puts an egress NetworkPolicy on the gateway.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from clipsift_common.errors import InvalidArgument
from clipsift_common.objectstore import ObjectBlobStore

SCHEMES = ("s3", "gs", "az")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,62}$")
_PREFIX = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")
_AZURE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_MAX_OPTION_CHARS = 16_384

# Per scheme: every option a tenant may set; the required ones; the ones shown back (not secret).
ALLOWED = {
    "s3": {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_region",
        "aws_endpoint",
        "aws_virtual_hosted_style_request",
    },
    "gs": {"google_service_account_key"},
    "az": {
        "azure_storage_account_name",
        "azure_storage_account_key",
        "azure_storage_sas_key",
        "azure_endpoint",
    },
}
REQUIRED = {
    "s3": ({"aws_access_key_id"}, {"aws_secret_access_key"}),
    "gs": ({"google_service_account_key"},),
    "az": ({"azure_storage_account_name"}, {"azure_storage_account_key", "azure_storage_sas_key"}),
}
PUBLIC = {
    "aws_region",
    "aws_endpoint",
    "aws_virtual_hosted_style_request",
    "azure_storage_account_name",
    "azure_endpoint",
}
_ENDPOINT = {"s3": "aws_endpoint", "az": "azure_endpoint"}


@dataclass(frozen=True)
class AccessPolicy:
    """Which endpoints the gateway calls for tenants (from the gateway settings)."""

    allow_private: bool = False
    allow_http: bool = False
    timeout_seconds: float = 20.0


@dataclass(frozen=True)
class BucketUrl:
    scheme: str
    bucket: str
    prefix: str  # "" or a key prefix without slashes at either end

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")


def parse_bucket_url(url: str) -> BucketUrl:
    """``s3://bucket[/prefix]``, ``gs://...`` or ``az://container[/prefix]``; never ``file://``."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise InvalidArgument(f"url must start with s3://, gs:// or az://, not {url[:40]!r}")
    if parts.query or parts.fragment or parts.username or parts.password or parts.port:
        raise InvalidArgument("url must be <scheme>://<bucket>[/<prefix>] with nothing else")
    bucket, prefix = parts.netloc, parts.path.strip("/")
    if not _BUCKET.fullmatch(bucket):
        raise InvalidArgument(f"{bucket!r} is not a bucket name (lowercase letters, digits, dots, dashes)")
    if prefix and not _PREFIX.fullmatch(prefix):
        raise InvalidArgument(f"prefix {prefix!r} may hold letters, digits, '.', '_', '-' and '/' only")
    return BucketUrl(parts.scheme, bucket, prefix)


def checked_options(scheme: str, options: dict[str, Any]) -> dict[str, str]:
    """The tenant's options, refused unless every key is allowed for ``scheme`` and credentials
    are there; with the endpoint (and region) made explicit, so none comes from our environment."""
    unknown = sorted(set(options) - ALLOWED[scheme])
    if unknown:
        raise InvalidArgument(
            f"options {', '.join(unknown)} are not accepted for {scheme}://; "
            f"use {', '.join(sorted(ALLOWED[scheme]))}"
        )
    clean: dict[str, str] = {}
    for key, value in options.items():
        if not isinstance(value, str) or not value or len(value) > _MAX_OPTION_CHARS:
            raise InvalidArgument(f"option {key} must be a non-empty string")
        clean[key] = value
    for group in REQUIRED[scheme]:
        if not group & clean.keys():
            raise InvalidArgument(f"{scheme}:// buckets need {' or '.join(sorted(group))} in options")
    if scheme == "s3":
        region = clean.setdefault("aws_region", "us-east-1")
        clean.setdefault("aws_endpoint", f"https://s3.{region}.amazonaws.com")
        clean.setdefault("aws_virtual_hosted_style_request", "false")
    elif scheme == "az":
        account = clean["azure_storage_account_name"]
        if not _AZURE_ACCOUNT.fullmatch(account):
            raise InvalidArgument("azure_storage_account_name must be 3-24 lowercase letters or digits")
        clean.setdefault("azure_endpoint", f"https://{account}.blob.core.windows.net")
    return clean


def public_options(options: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in options.items() if key in PUBLIC}


async def check_endpoint(scheme: str, options: dict[str, str], policy: AccessPolicy) -> None:
    """Refuse an endpoint the gateway must not call: not http(s), plain http unless allowed, or a
    host resolving to a non-global address unless allowed. GCS always goes to Google."""
    endpoint = options.get(_ENDPOINT.get(scheme, ""))
    if endpoint is None:
        return
    parts = urlsplit(endpoint)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
        raise InvalidArgument("the endpoint must be an https:// URL with a host name")
    if parts.scheme == "http" and not policy.allow_http:
        raise InvalidArgument("the endpoint must use https://")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidArgument("the endpoint's port is not a number") from None
    try:
        found = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM),
            policy.timeout_seconds,
        )
    except (OSError, TimeoutError):
        raise InvalidArgument(f"the endpoint's host {parts.hostname!r} does not resolve") from None
    for *_, address in found:
        ip = ipaddress.ip_address(str(address[0]).split("%")[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not ip.is_global and not policy.allow_private:
            raise InvalidArgument(
                f"the endpoint's host {parts.hostname!r} is a private or local address ({ip}); "
                "the gateway only calls public endpoints"
            )


def open_bucket(url: str, options: dict[str, str], policy: AccessPolicy) -> ObjectBlobStore:
    """The bucket as a blob store, with the checked ``options`` and bounded timeouts."""
    seconds = max(1, round(policy.timeout_seconds))
    client: dict[str, Any] = {"timeout": f"{seconds}s", "connect_timeout": f"{min(seconds, 10)}s"}
    if policy.allow_http:
        client["allow_http"] = True
    return ObjectBlobStore(url, options, client)


def _probe(store: ObjectBlobStore) -> None:
    # A listing under a prefix nobody uses: one request that needs valid credentials and an
    # existing bucket, and returns nothing whatever the bucket holds.
    store.list(".clipsift-credential-check")


async def check_access(url: str, options: dict[str, str], policy: AccessPolicy) -> None:
    """List the bucket with the tenant's credentials; a clear InvalidArgument when that fails."""
    try:
        store = open_bucket(url, options, policy)
        await asyncio.wait_for(asyncio.to_thread(_probe, store), policy.timeout_seconds + 5)
    except InvalidArgument:
        raise
    except TimeoutError:
        raise InvalidArgument(f"{url} did not answer within {policy.timeout_seconds:g}s") from None
    except Exception as exc:  # obstore raises many kinds; each is one 400
        raise InvalidArgument(f"cannot list {url} with these credentials: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    """The first line of obstore's message, shortened (it never holds the secret key)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]
