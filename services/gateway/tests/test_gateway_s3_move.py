"""Moving a completed upload to its job: objects over S3's 5 GiB single-copy limit go by boto3's
multipart copy (UploadPartCopy), checked here on a real SeaweedFS with an object over boto3's own
multipart threshold (8 MiB), so the same parts-copy path runs."""

from __future__ import annotations

import os

import pytest
from clipsift_testing.object_stores import ObjectStoreTarget

from clipsift_common.objectstore import ObjectBlobStore
from clipsift_common.settings import BlobSettings
from gateway_svc.s3multipart import S3Multipart

pytestmark = pytest.mark.integration


def test_a_large_object_moves_by_multipart_copy(s3_target: ObjectStoreTarget) -> None:
    settings = BlobSettings(blob_url=s3_target.url, blob_options=s3_target.options, blob_allow_http=True)
    store = ObjectBlobStore(s3_target.url, s3_target.options, s3_target.client_options)
    data = os.urandom(13 * 1024 * 1024 + 5)
    store.put_bytes("tenants/acme/uploads/u1/object", data)
    S3Multipart(settings).move("tenants/acme/uploads/u1/object", "tenants/acme/jobs/j1/source.video")
    assert store.read_bytes("tenants/acme/jobs/j1/source.video") == data
    assert not store.exists("tenants/acme/uploads/u1/object")


def test_rename_moves_within_the_store(s3_target: ObjectStoreTarget) -> None:
    store = ObjectBlobStore(s3_target.url, s3_target.options, s3_target.client_options)
    store.put_bytes("tenants/acme/uploads/u2/object", b"video")
    store.rename("tenants/acme/uploads/u2/object", "tenants/acme/jobs/j2/source.video")
    assert store.read_bytes("tenants/acme/jobs/j2/source.video") == b"video"
    assert not store.exists("tenants/acme/uploads/u2/object")
