"""Model files in the blob store: one folder of Hugging Face files (+ clipsift.json) per version,
under the tenant's prefix (``tenants/<tenant>/models/<name>/<job>``).

The folder is keyed by the training job, not the version number: the files are written before the
registry hands out a number, and a redelivered job rewrites the same folder instead of leaving an
orphan beside it. The registry records the folder as the version's ``blob_prefix``; the text
service loads the deployed version from exactly that prefix.
"""

from __future__ import annotations

from pathlib import Path

from clipsift_common import blobkeys
from clipsift_common.objectstore import ObjectBlobStore

from .trainer import METADATA_FILE


def version_prefix(tenant_id: str, name: str, job_id: str) -> str:
    return f"{blobkeys.model_prefix(tenant_id, name)}/{job_id}"


def store_model(blobs: ObjectBlobStore, prefix: str, directory: Path) -> int:
    """Upload every file under ``directory`` to ``prefix`` (streamed); return the bytes stored. Each
    file appears whole or not at all; the registry row, written after this returns, is what makes
    the version exist."""
    blobs.put_dir(prefix, directory, last=METADATA_FILE)  # last: with it, every file is there
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
