"""Where each tenant's blobs live: every key starts with the tenant's prefix, so one prefix holds
all of a tenant's data (retention, deletion, a bucket policy per tenant) and a key built for one
tenant can never name another's object."""

from __future__ import annotations

from .objectstore import check_key


def tenant_prefix(tenant_id: str) -> str:
    return check_key(f"tenants/{tenant_id}")


def job_prefix(tenant_id: str, job_id: str) -> str:
    """A job's inputs and results."""
    return check_key(f"tenants/{tenant_id}/jobs/{job_id}")


def upload_prefix(tenant_id: str, upload_id: str) -> str:
    """A resumable upload's parts while it is in progress."""
    return check_key(f"tenants/{tenant_id}/uploads/{upload_id}")


def model_prefix(tenant_id: str, name: str) -> str:
    """A trained model's versions."""
    return check_key(f"tenants/{tenant_id}/models/{name}")


def index_prefix(tenant_id: str, name: str) -> str:
    """A text index's vector segments."""
    return check_key(f"tenants/{tenant_id}/indexes/{name}")


def report_prefix(tenant_id: str) -> str:
    """Analytics reports."""
    return check_key(f"tenants/{tenant_id}/reports")


def owns(tenant_id: str, key: str) -> bool:
    """Whether ``key`` lies in the tenant's prefix."""
    return key.startswith(tenant_prefix(tenant_id) + "/")
