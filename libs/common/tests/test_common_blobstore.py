"""LocalBlobStore: atomic writes, key validation and NotFound."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clipsift_common.blobstore import LocalBlobStore
from clipsift_common.errors import InvalidArgument, NotFound


def leftovers(store: LocalBlobStore) -> list[str]:
    return sorted(os.listdir(store.root / ".tmp"))


def test_put_read_size_exists(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    assert not store.exists("jobs/1/result.json")
    store.put_bytes("jobs/1/result.json", b'{"a": 1}')
    assert store.exists("jobs/1/result.json")
    assert store.read_bytes("jobs/1/result.json") == b'{"a": 1}'
    assert store.size("jobs/1/result.json") == 8
    assert (tmp_path / "blobs" / "jobs" / "1" / "result.json").read_bytes() == b'{"a": 1}'
    assert (
        store.local_path("jobs/1/result.json")
        == (tmp_path / "blobs" / "jobs" / "1" / "result.json").resolve()
    )
    with store.reader("jobs/1/result.json") as handle:
        assert handle.read(2) == b'{"'
    store.put_bytes("jobs/1/result.json", b"replaced")
    assert store.read_bytes("jobs/1/result.json") == b"replaced"
    assert leftovers(store) == []


def test_writer_publishes_only_on_success(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with store.writer("uploads/a.bin") as handle:
        handle.write(b"part one ")
        # Not visible while being written.
        assert not store.exists("uploads/a.bin")
        handle.write(b"part two")
    assert store.read_bytes("uploads/a.bin") == b"part one part two"
    assert leftovers(store) == []


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)

    class UploadAborted(Exception):
        pass

    def upload() -> None:
        with store.writer("uploads/new.bin") as handle:
            handle.write(b"half a blob")
            raise UploadAborted

    with pytest.raises(UploadAborted):
        upload()
    assert not store.exists("uploads/new.bin")
    assert not (tmp_path / "uploads").exists()
    assert leftovers(store) == []


def test_failed_overwrite_keeps_the_old_blob(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put_bytes("models/m.bin", b"version 1")

    def upload() -> None:
        with store.writer("models/m.bin") as handle:
            handle.write(b"version 2, trunc")
            raise KeyboardInterrupt  # BaseException too: a cancelled upload must not leak a temp file

    with pytest.raises(KeyboardInterrupt):
        upload()
    assert store.read_bytes("models/m.bin") == b"version 1"
    assert leftovers(store) == []


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../x",
        "a/../../x",
        "a/./b",
        "..",
        ".",
        "/etc/passwd",
        "a//b",
        "a/",
        "a\\b",
        "a b",
        "jobs/1/\x00",
        "jobs/1/result.json\n",
        "é",
    ],
)
def test_invalid_keys_are_rejected(tmp_path: Path, key: str) -> None:
    store = LocalBlobStore(tmp_path / "root")
    with pytest.raises(InvalidArgument, match="invalid blob key"):
        store.local_path(key)
    with pytest.raises(InvalidArgument):
        store.put_bytes(key, b"x")
    with pytest.raises(InvalidArgument):
        store.exists(key)
    assert not (tmp_path / "x").exists()
    assert leftovers(store) == []


def test_missing_blobs_raise_not_found(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with pytest.raises(NotFound, match=r"blob jobs/9/result\.json not found"):
        store.reader("jobs/9/result.json")
    with pytest.raises(NotFound, match=r"blob jobs/9/result\.json not found"):
        store.read_bytes("jobs/9/result.json")
    with pytest.raises(NotFound, match="blob nothing not found"):
        store.size("nothing")


def test_delete_prefix(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    store.put_bytes("jobs/1/input.jsonl", b"a")
    store.put_bytes("jobs/1/result.json", b"b")
    store.put_bytes("jobs/2/result.json", b"c")
    store.delete_prefix("jobs/1/")
    assert not store.exists("jobs/1/input.jsonl")
    assert not store.exists("jobs/1/result.json")
    assert store.exists("jobs/2/result.json")
    store.delete_prefix("jobs/2/result.json")
    assert not store.exists("jobs/2/result.json")
    store.delete_prefix("jobs/never")  # nothing there: no error
    with pytest.raises(InvalidArgument):
        store.delete_prefix("../")
