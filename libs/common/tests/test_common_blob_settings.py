"""The blob store that settings name, folders moved in and out of it, and the tenant key layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from clipsift_testing.object_stores import ObjectStoreTarget
from pydantic import ValidationError

from clipsift_common import blobkeys
from clipsift_common.errors import InvalidArgument
from clipsift_common.objectstore import ObjectBlobStore, open_blob_store
from clipsift_common.settings import BlobSettings


def test_a_folder_or_a_url_names_the_store(tmp_path: Path) -> None:
    by_folder = BlobSettings(blob_dir=tmp_path / "blobs")
    assert by_folder.blob_location == f"file://{(tmp_path / 'blobs').resolve()}"
    open_blob_store(by_folder).put_bytes("tenants/a/x", b"1")
    assert (tmp_path / "blobs" / "tenants" / "a" / "x").read_bytes() == b"1"
    assert BlobSettings(blob_url="s3://bucket/prefix").blob_location == "s3://bucket/prefix"


@pytest.mark.parametrize("given", [{}, {"blob_dir": "/tmp/b", "blob_url": "s3://bucket"}])
def test_exactly_one_location_is_required(given: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="exactly one of blob_url"):
        BlobSettings(**given)  # type: ignore[arg-type]


def test_options_come_from_the_environment_as_json_and_stay_out_of_repr(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BLOB_URL", "s3://media")
    monkeypatch.setenv("BLOB_OPTIONS", '{"aws_secret_access_key": "hush", "aws_region": "eu-west-1"}')
    settings = BlobSettings()
    assert settings.blob_options == {"aws_secret_access_key": "hush", "aws_region": "eu-west-1"}
    assert "hush" not in repr(settings)


def test_settings_reach_a_real_s3_server(s3_target: ObjectStoreTarget) -> None:
    settings = BlobSettings(blob_url=s3_target.url, blob_options=s3_target.options, blob_allow_http=True)
    store = open_blob_store(settings)
    store.put_bytes("tenants/a/jobs/1/result.json", b"{}")
    assert store.read_bytes("tenants/a/jobs/1/result.json") == b"{}"


def test_plain_http_is_refused_unless_allowed(s3_target: ObjectStoreTarget) -> None:
    store = open_blob_store(BlobSettings(blob_url=s3_target.url, blob_options=s3_target.options))
    with pytest.raises(Exception, match=r"(?i)http"):
        store.put_bytes("tenants/a/x", b"1")


class _Recording(ObjectBlobStore):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.order: list[str] = []

    def put_file(self, key: str, path: Path) -> int:
        self.order.append(key)
        return super().put_file(key, path)


def test_a_folder_goes_up_with_its_manifest_last_and_comes_back_whole(tmp_path: Path) -> None:
    source = tmp_path / "out"
    for name, data in {"manifest.json": b"{}", "clips/0/clip.mp4": b"v" * 1000, "z.srt": b"s"}.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    store = _Recording(f"file://{tmp_path / 'blobs'}")
    assert store.put_dir("tenants/a/jobs/1", source, last="manifest.json") == 3
    assert store.order[-1] == "tenants/a/jobs/1/manifest.json"
    assert store.get_dir("tenants/a/jobs/1", tmp_path / "back") == 3
    for path in source.rglob("*"):
        if path.is_file():
            assert (tmp_path / "back" / path.relative_to(source)).read_bytes() == path.read_bytes()


def test_every_key_lies_in_its_tenants_prefix() -> None:
    assert blobkeys.job_prefix("acme", "42") == "tenants/acme/jobs/42"
    assert blobkeys.owns("acme", "tenants/acme/jobs/42/clip.mp4")
    assert not blobkeys.owns("acme", "tenants/acme-2/jobs/42/clip.mp4")
    assert not blobkeys.owns("acme", "tenants/acme")
    with pytest.raises(InvalidArgument):
        blobkeys.job_prefix("acme", "../other")


def test_copies_of_one_key_never_share_a_file(s3_target: ObjectStoreTarget, tmp_path: Path) -> None:
    store = ObjectBlobStore(s3_target.url, s3_target.options, s3_target.client_options)
    store.put_bytes("tenants/a/jobs/1/audio.wav", b"RIFF")
    with store.local_file("tenants/a/jobs/1/audio.wav", tmp_path) as first:
        with store.local_file("tenants/a/jobs/1/audio.wav", tmp_path) as second:
            assert first != second
            assert first.read_bytes() == second.read_bytes() == b"RIFF"
        assert not second.exists()
        assert first.read_bytes() == b"RIFF"  # the other caller's copy is untouched
    assert list(tmp_path.iterdir()) == []


class _FailingSecond(ObjectBlobStore):
    """Loses its connection on the second file of a folder."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.calls = 0

    def put_file(self, key: str, path: Path) -> int:
        self.calls += 1
        if self.calls == 2:
            raise ConnectionError("connection reset")
        return super().put_file(key, path)


def test_publishing_a_folder_replaces_the_old_set_or_leaves_none(tmp_path: Path) -> None:
    source = tmp_path / "out"
    source.mkdir()
    for name in ("a.mp4", "b.mp4", "manifest.json"):
        (source / name).write_bytes(name.encode())
    store = _FailingSecond(f"file://{tmp_path / 'blobs'}")
    store.put_bytes("tenants/a/jobs/1/clips/stale.mp4", b"from a killed attempt")
    with pytest.raises(ConnectionError):
        store.publish_dir("tenants/a/jobs/1/clips", source, last="manifest.json")
    assert store.list("tenants/a/jobs/1/clips") == []
    assert store.publish_dir("tenants/a/jobs/1/clips", source, last="manifest.json") == 3
    assert sorted(b.key.rsplit("/", 1)[1] for b in store.list("tenants/a/jobs/1/clips")) == [
        "a.mp4",
        "b.mp4",
        "manifest.json",
    ]
