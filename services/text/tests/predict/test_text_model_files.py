"""Deployed models' files as local folders: read in place on the folder backend; on a real S3
server (SeaweedFS) downloaded once per version into the scratch space, another version into a
folder of its own, and removed when released."""

from __future__ import annotations

from pathlib import Path

import pytest
from clipsift_testing.object_stores import ObjectStoreTarget

from clipsift_common.errors import NotFound
from clipsift_common.objectstore import ObjectBlobStore
from text_svc.predict.model_files import ModelFiles

V1, V2 = "tenants/acme/models/topics/job-1", "tenants/acme/models/topics/job-2"


def _store_version(blobs: ObjectBlobStore, prefix: str, tmp_path: Path, marker: str) -> None:
    source = tmp_path / "source" / marker
    (source / "nested").mkdir(parents=True)
    (source / "config.json").write_text(f'{{"version": "{marker}"}}')
    (source / "nested" / "vocab.txt").write_text("a\nb\n")
    (source / "clipsift.json").write_text("{}")
    blobs.put_dir(prefix, source, last="clipsift.json")


def test_folder_backend_reads_the_version_in_place(tmp_path: Path) -> None:
    blobs = ObjectBlobStore(f"file://{tmp_path / 'blobs'}")
    _store_version(blobs, V1, tmp_path, "one")
    files = ModelFiles(blobs, tmp_path / "scratch")
    assert files.folder(V1) == tmp_path / "blobs" / V1
    files.release(V1)  # never removes the blob store's own files
    assert (tmp_path / "blobs" / V1 / "config.json").is_file()
    assert not (tmp_path / "scratch").exists()


@pytest.mark.integration
def test_s3_versions_are_downloaded_once_each_and_released(
    s3_target: ObjectStoreTarget, tmp_path: Path
) -> None:
    blobs = ObjectBlobStore(s3_target.url, s3_target.options, s3_target.client_options)
    _store_version(blobs, V1, tmp_path, "one")
    _store_version(blobs, V2, tmp_path, "two")
    scratch = tmp_path / "scratch"
    files = ModelFiles(blobs, scratch)

    one = files.folder(V1)
    assert one.is_relative_to(scratch)
    assert (one / "config.json").read_text() == '{"version": "one"}'
    assert (one / "nested" / "vocab.txt").read_text() == "a\nb\n"
    # Cached: a second call downloads nothing (the bucket's copy may even be gone).
    blobs.delete_prefix(V1)
    assert files.folder(V1) == one
    # Another version (a redeploy) gets its own download.
    two = files.folder(V2)
    assert two != one
    assert (two / "config.json").read_text() == '{"version": "two"}'
    # The same prefix in another store is another model: keyed by the store too.
    other = ModelFiles(
        ObjectBlobStore(s3_target.fresh().url, s3_target.options, s3_target.client_options), scratch
    )
    with pytest.raises(NotFound):
        other.folder(V2)
    # Nothing half-downloaded is left behind, not even by the failed download.
    assert sorted(p.name for p in (scratch / "text-models").iterdir()) == sorted([one.name, two.name])

    files.release(V1)
    assert not one.exists()
    assert two.is_dir()
    with pytest.raises(NotFound):
        files.folder(V1)  # gone from the bucket, and no longer cached
