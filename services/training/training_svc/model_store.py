"""Model files in the blob store: one folder of Hugging Face files (+ clipsift.json) per version.

The folder is keyed by the training job, not the version number: the files are written before the
registry hands out a number, and a redelivered job rewrites the same folder instead of leaving an
orphan beside it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from clipsift_common.blobstore import LocalBlobStore


def model_prefix(tenant_id: str, name: str, job_id: str) -> str:
    return f"models/{tenant_id}/{name}/{job_id}"


def store_model(blobs: LocalBlobStore, prefix: str, directory: Path) -> int:
    """Copy every file under ``directory`` to ``prefix``; return the bytes stored. Each file appears
    whole or not at all (the blob store's writer); the registry row, written after this returns, is
    what makes the version exist."""
    stored = 0
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        key = f"{prefix}/{path.relative_to(directory).as_posix()}"
        with path.open("rb") as source, blobs.writer(key) as target:
            shutil.copyfileobj(source, target, 1 << 20)
        stored += path.stat().st_size
    return stored
