"""Deployed models' files as local folders, which transformers needs to load a model.

On the folder backend the version's blob folder is read in place. On object storage each version
is downloaded once into the scratch space, keyed by the store and the version's blob prefix (a
redeploy of another version downloads that one), into a staging folder renamed into place only
when complete: a crashed or concurrent download never leaves a half model to load. A version
this replica stops serving has its copy removed.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from pathlib import Path

from clipsift_common.errors import NotFound
from clipsift_common.objectstore import ObjectBlobStore, check_key

log = logging.getLogger(__name__)


class ModelFiles:
    def __init__(self, blobs: ObjectBlobStore, scratch: Path) -> None:
        self.blobs = blobs
        self.root = scratch / "text-models"

    def _cached(self, prefix: str) -> Path:
        # The store's URL is part of the key: two stores may hold the same prefix.
        digest = hashlib.sha256(f"{self.blobs.url}\n{prefix}".encode()).hexdigest()[:24]
        return self.root / digest

    def folder(self, prefix: str) -> Path:
        """A local folder holding every file under ``prefix`` (blocking: run it in a thread)."""
        prefix = check_key(prefix.rstrip("/"))
        if self.blobs.local_root is not None:
            return self.blobs.local_root / prefix
        target = self._cached(prefix)
        if target.is_dir():
            return target
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=self.root))
        try:
            if not self.blobs.get_dir(prefix, staging):
                raise NotFound(f"no model files under {prefix}")
            try:
                staging.rename(target)
            except OSError:
                if not target.is_dir():  # not another download that finished first
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        log.info("downloaded model files", extra={"prefix": prefix, "folder": str(target)})
        return target

    def release(self, prefix: str) -> None:
        """Remove the downloaded copy of ``prefix`` (the model is in memory, or no longer served)."""
        if self.blobs.local_root is None:
            shutil.rmtree(self._cached(check_key(prefix.rstrip("/"))), ignore_errors=True)
