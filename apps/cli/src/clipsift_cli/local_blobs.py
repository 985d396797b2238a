"""Where ``clipsift up`` keeps blobs: a folder in the home (the default), or a real S3 server
(embedded SeaweedFS) with ``--object-store s3`` / ``CLIPSIFT_OBJECT_STORE=s3``.

Either way every service gets the same BlobSettings values (``BLOB_DIR``, or ``BLOB_URL`` +
``BLOB_OPTIONS`` + ``BLOB_ALLOW_HTTP``) and a ``SCRATCH_DIR`` under the home.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal, get_args

from .embedded import EmbeddedSeaweedFS

ObjectStoreKind = Literal["folder", "s3"]
OBJECT_STORES: tuple[str, ...] = get_args(ObjectStoreKind)
BUCKET = "clipsift"


class LocalBlobs:
    """The local platform's blob store; ``start`` returns the settings every service gets."""

    def __init__(self, kind: ObjectStoreKind, home: Path, logs: Path) -> None:
        if kind not in OBJECT_STORES:
            raise ValueError(f"object store {kind!r}: choose one of {', '.join(OBJECT_STORES)}")
        self.kind = kind
        self.folder = home / "blobs"
        self.scratch = home / "scratch"
        self.s3: EmbeddedSeaweedFS | None = None
        if kind == "s3":
            # Data and the drawn access keys stay in the home: the next `up` finds its objects.
            self.s3 = EmbeddedSeaweedFS(home / "seaweedfs", logs / "seaweedfs.log", BUCKET)

    def start(self) -> dict[str, str]:
        """Start the store (SeaweedFS for s3) and return the BlobSettings env values, no prefix."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        if self.s3 is not None:
            self.s3.start()
        return self.env()

    def env(self) -> dict[str, str]:
        values = {"SCRATCH_DIR": str(self.scratch)}
        if self.s3 is None:
            return {**values, "BLOB_DIR": str(self.folder)}
        return {
            **values,
            "BLOB_URL": self.s3.url,
            "BLOB_OPTIONS": json.dumps(self.s3.options),
            "BLOB_ALLOW_HTTP": "true",  # a loopback server, never a production bucket
        }

    def runtime(self) -> dict[str, Any]:
        """What runtime.json tells clients about the store: its URL and options in both modes
        (enough for ``ObjectBlobStore``), ``blob_dir`` only when blobs are files in a folder."""
        if self.s3 is None:
            return {
                "object_store": self.kind,
                "blob_url": f"file://{self.folder}",
                "blob_options": {},
                "blob_allow_http": False,
                "blob_dir": str(self.folder),
            }
        return {
            "object_store": self.kind,
            "blob_url": self.s3.url,
            "blob_options": self.s3.options,
            "blob_allow_http": True,
            "s3_endpoint": self.s3.endpoint,
        }

    def stop(self) -> None:
        if self.s3 is not None:
            self.s3.stop()
