"""Corpus uploads are bounded before they are read: zip bombs and entry floods are refused having
inflated at most their cap, and a document over the per-document limits is skipped and listed in
the job's result instead of failing the whole corpus."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from clipsift_common.errors import ResourceExhausted
from gateway_svc.corpus import CorpusLimits, write_canonical

pytestmark = pytest.mark.integration


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _jsonl(records: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


async def test_zip_bomb_is_refused_before_its_member_is_inflated(platform, corpus):
    # 10 MB of one byte deflates ~1000:1 and is under every size limit: the ratio stops it.
    bomb = _zip({"story.txt": corpus.original.encode(), "bomb.txt": b"a" * 10_000_000})
    assert len(bomb) < 50_000
    response = await platform.submit("acme", bomb, "application/zip")
    assert response.status_code == 413, response.text
    assert "zip member 'bomb.txt' expands 1" in response.json()["detail"]
    assert "likely zip bomb" in response.json()["detail"]
    assert await platform.job_rows() == 0


async def test_bomb_member_over_the_document_limit_is_skipped_unread(platform, corpus):
    # 100 MB declared: over the 16 MiB per-document limit, so it is listed as skipped, never inflated.
    bomb = _zip({"a.txt": corpus.original.encode(), "bomb.txt": b"a" * 100_000_000})
    submitted = await platform.submit("acme", bomb, "application/zip")
    assert submitted.status_code == 202, submitted.text
    assert submitted.json()["options"] == {"documents": 1, "format": "zip", "skipped": 1}


def test_refusal_happens_having_inflated_at_most_the_cap(tmp_path, monkeypatch):
    """The bomb member is never opened: the bytes inflated stay those of the members before it."""
    source = tmp_path / "bomb.zip"
    source.write_bytes(_zip({"a.txt": b"some words " * 10, "bomb.txt": b"\0" * 10_000_000}))
    opened: list[str] = []
    real_open = zipfile.ZipFile.open

    def recording_open(self, name, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(name.filename if isinstance(name, zipfile.ZipInfo) else name)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", recording_open)
    limits = CorpusLimits(
        max_documents=10,
        max_text_bytes=10**9,
        max_document_bytes=16 * 1024 * 1024,
        max_document_chars=2_000_000,
        max_zip_members=100,
        max_compression_ratio=200.0,
    )
    with (
        (tmp_path / "out.jsonl").open("wb") as out,
        pytest.raises(ResourceExhausted, match="likely zip bomb"),
    ):
        write_canonical(source, "zip", out, limits)
    assert opened == ["a.txt"]


@pytest.mark.gateway(max_zip_members=5)
async def test_zip_with_more_entries_than_the_cap_is_413(platform):
    # Non-.txt entries count too: a flood of empty entries costs memory and time all the same.
    members = {f"{i}.bin": b"" for i in range(6)}
    response = await platform.submit("acme", _zip(members), "application/zip")
    assert response.status_code == 413
    assert "zip has 6 entries; the limit is 5" in response.json()["detail"]
    assert await platform.job_rows() == 0


@pytest.mark.gateway(max_corpus_document_chars=5000, max_corpus_document_bytes=20_000)
async def test_oversized_documents_are_skipped_and_listed_in_the_result(platform, corpus):
    huge_member = ("word " * 6000).encode()  # 30,000 bytes: over the byte limit, never read
    long_text = "x" * 4000 + " é" * 600  # 5,200 characters, 5,800 bytes: over the character limit
    zipped = _zip(
        {
            "orig.txt": corpus.original.encode(),
            "near.txt": corpus.near_copy.encode(),
            "huge.txt": huge_member,
            "long.txt": long_text.encode(),
        }
    )
    submitted = await platform.submit("acme", zipped, "application/zip")
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    assert job["options"]["documents"] == 2
    assert job["options"]["skipped"] == 2

    done = await platform.wait_job(job["id"], "acme")
    assert done["status"] == "completed", done
    assert done["summary"] == {"documents": 2, "clusters": 1, "duplicate_documents": 2, "skipped": 2}
    result = (await platform.client.get(done["result_url"], headers=platform.auth("acme"))).json()
    assert [c["document_ids"] for c in result["clusters"]] == [["near.txt", "orig.txt"]]
    assert result["skipped"] == [
        {"id": "huge.txt", "reason": "30000 bytes unpacked; the limit per document is 20000"},
        {"id": "long.txt", "reason": "5200 characters; the limit per document is 5000"},
    ]


@pytest.mark.gateway(max_corpus_document_bytes=2_000)
async def test_an_overlong_jsonl_line_is_skipped_without_being_held(platform, corpus):
    body = _jsonl(
        [
            {"id": "a", "text": corpus.original[:1500]},
            {"id": "big", "text": "word " * 10_000},
            {"id": "b", "text": corpus.original[:1500]},
        ]
    )
    submitted = await platform.submit("acme", body, "application/jsonl")
    assert submitted.status_code == 202, submitted.text
    done = await platform.wait_job(submitted.json()["id"], "acme")
    assert done["status"] == "completed", done
    result = (await platform.client.get(done["result_url"], headers=platform.auth("acme"))).json()
    assert result["skipped"] == [{"id": "line-2", "reason": "line 2 is over 2000 bytes (the limit)"}]
    assert [c["document_ids"] for c in result["clusters"]] == [["a", "b"]]


@pytest.mark.gateway(max_corpus_document_chars=100)
async def test_a_corpus_whose_every_document_is_skipped_is_400(platform):
    body = _jsonl([{"id": "a", "text": "word " * 100}])
    response = await platform.submit("acme", body, "application/jsonl")
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "corpus contains no documents: all 1 were skipped (a: 500 characters; the limit per document is 100)"
    )
    assert await platform.job_rows() == 0
