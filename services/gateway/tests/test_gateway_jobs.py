"""Corpus jobs end to end: upload through the gateway, the real text worker runs the job, the
result and progress come back over REST and a real WebSocket; bad uploads leave nothing behind."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile

import pytest
from websockets.asyncio.client import connect

from clipsift_common.objectstore import ObjectBlobStore
from clipsift_common.worker import JobWorker
from text_svc.dedup.detector import Detector
from text_svc.dedup.job import DedupJob

pytestmark = pytest.mark.integration


def _jsonl(records: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            if name.endswith("/"):
                archive.writestr(zipfile.ZipInfo(name), b"")
            else:
                archive.writestr(name, data)
    return buffer.getvalue()


async def test_jsonl_corpus_job_completes_with_the_right_clusters(platform, corpus):
    body = _jsonl(
        [
            {"id": "a", "text": corpus.original},
            {"id": "b", "text": corpus.near_copy},
            {"id": 3, "text": corpus.other},
            {"id": "d", "text": corpus.other_copy},
            {"id": "e", "text": corpus.unrelated},
            {"text": corpus.unrelated_too},  # no id: named after its line
        ]
    )
    submitted = await platform.submit("acme", body, "application/jsonl")
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()
    # Read back after queueing: a fast worker may already have picked it up.
    assert job["status"] in ("queued", "running", "completed")
    assert job["kind"] == "dedup"
    assert job["options"] == {"documents": 6, "format": "jsonl"}  # the blob key stays inside
    assert job["result_url"] is None

    done = await platform.wait_job(job["id"], "acme")
    assert done["status"] == "completed", done
    assert done["progress"] == 1.0
    assert done["summary"] == {"documents": 6, "clusters": 2, "duplicate_documents": 4}
    assert done["result_url"] == f"/v1/jobs/{job['id']}/result"

    result = await platform.client.get(done["result_url"], headers=platform.auth("acme"))
    assert result.status_code == 200
    assert result.headers["content-type"] == "application/json"
    assert result.headers["content-disposition"] == f'attachment; filename="{job["id"]}.json"'
    document = result.json()
    assert document["job_id"] == job["id"]
    assert document["documents"] == 6
    assert document["threshold"] == 0.8
    # Largest cluster first, then by first id.
    assert [c["document_ids"] for c in document["clusters"]] == [["3", "d"], ["a", "b"]]
    assert "line-6" not in json.dumps(document["clusters"])

    listed = await platform.client.get(
        "/v1/jobs", params={"status": "completed"}, headers=platform.auth("acme")
    )
    assert [j["id"] for j in listed.json()["jobs"]] == [job["id"]]
    # The upload was rewritten to canonical JSONL and then removed; the job keeps input and result.
    prefix = f"tenants/acme/jobs/{job['id']}"
    assert platform.leftover_files() == [f"{prefix}/corpus.jsonl", f"{prefix}/result.json"]


async def test_zip_corpus_job_uses_txt_members_and_job_options(platform, corpus):
    body = _zip(
        {
            "docs/": b"",
            "docs/orig.txt": corpus.original.encode(),
            "docs/near.txt": corpus.near_copy.encode(),
            "docs/other.TXT": corpus.other.encode(),
            "other-copy.txt": corpus.other_copy.encode(),
            "unrelated.txt": corpus.unrelated.encode(),
            "__MACOSX/docs/._orig.txt": b"\x00\x05\x16\x07 resource fork",
            "docs/.hidden.txt": b"\xff not even utf-8",
            "README.md": corpus.original.encode(),
        }
    )
    submitted = await platform.submit("globex", body, "application/zip", threshold=0.95, shingle_size=5)
    assert submitted.status_code == 202, submitted.text
    assert submitted.json()["options"] == {
        "documents": 5,
        "format": "zip",
        "threshold": 0.95,
        "shingle_size": 5,
    }

    done = await platform.wait_job(submitted.json()["id"], "globex")
    assert done["status"] == "completed", done
    document = (await platform.client.get(done["result_url"], headers=platform.auth("globex"))).json()
    assert document["documents"] == 5
    assert document["threshold"] == 0.95
    # other/other-copy (Jaccard ~0.89) is below the requested threshold.
    assert [c["document_ids"] for c in document["clusters"]] == [["docs/near.txt", "docs/orig.txt"]]
    [pair] = document["clusters"][0]["pairs"]
    assert pair["jaccard"] == pytest.approx(115 / 117, abs=1e-6)


@pytest.mark.gateway(worker=False)
async def test_progress_streams_over_the_websocket_in_order(platform, live_url, corpus):
    """The socket opens while the job is queued; events then arrive live as the worker runs it."""
    body = _jsonl(
        [{"id": str(i), "text": t} for i, t in enumerate([corpus.original, corpus.near_copy, corpus.other])]
    )
    job_id = (await platform.submit("acme", body, "application/jsonl")).json()["id"]
    stop = asyncio.Event()
    worker = JobWorker(
        platform.bus,
        "dedup",
        "text-dedup",
        DedupJob(Detector(platform.text_settings), ObjectBlobStore(f"file://{platform.blob_dir}")),
        platform.text_settings,
    )
    worker_task: asyncio.Task[None] | None = None
    events = []
    try:
        async with connect(
            f"ws://{live_url}/v1/jobs/{job_id}/events",
            additional_headers=platform.auth("acme"),
            open_timeout=5,
        ) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), 5))
            events.append(first)
            assert first["type"] == "requested"
            assert first["message"] == "3 documents queued"
            worker_task = asyncio.create_task(worker.run(stop))
            async for message in ws:
                events.append(json.loads(message))
        assert ws.close_code == 1000
    finally:
        stop.set()
        if worker_task is not None:
            await asyncio.wait_for(worker_task, 10)

    types = [e["type"] for e in events]
    assert types[0] == "requested"
    assert types[-1] == "completed"
    assert set(types[1:-1]) == {"progress"}
    assert len(types) >= 5
    fractions = [e["progress"] for e in events[1:-1]]
    assert fractions == sorted(fractions)
    assert len(set(fractions)) == len(fractions), "one event per progress step"
    assert fractions[-1] == 1.0
    assert events[-1]["progress"] == 1.0
    assert events[-1]["payload"]["clusters"] == 1
    assert all(e["job_id"] == job_id and e["kind"] == "dedup" for e in events)
    steps = [e["step"] for e in events[1:-1]]
    assert steps[0] == "parse"
    assert steps[-1] == "store"
    # The socket folded the final event in before it closed: a GET right now says completed.
    job = (await platform.client.get(f"/v1/jobs/{job_id}", headers=platform.auth("acme"))).json()
    assert job["status"] == "completed"

    # A late subscriber, spelling the id in upper case, replays the same history.
    ticket = (await platform.client.post("/v1/ws-tickets", headers=platform.auth("acme"))).json()["ticket"]
    async with connect(
        f"ws://{live_url}/v1/jobs/{job_id.upper()}/events?ticket={ticket}", open_timeout=5
    ) as ws:
        replay = [json.loads(m) async for m in ws]
    assert [e["event_id"] for e in replay] == [e["event_id"] for e in events]


@pytest.mark.gateway(worker=False)
async def test_result_before_completion_is_409(platform, corpus):
    body = _jsonl([{"id": "a", "text": corpus.original}])
    job_id = (await platform.submit("acme", body, "application/jsonl")).json()["id"]
    response = await platform.client.get(f"/v1/jobs/{job_id}/result", headers=platform.auth("acme"))
    assert response.status_code == 409
    assert response.json() == {"detail": f"job {job_id} is queued"}
    assert (await platform.client.get(f"/v1/jobs/{job_id}", headers=platform.auth("acme"))).json()[
        "status"
    ] == "queued"


async def test_failed_job_result_is_409_with_the_reason(platform, corpus):
    body = _jsonl([{"id": "ok", "text": corpus.original}, {"id": "punct", "text": "!!! ... ???"}])
    job_id = (await platform.submit("acme", body, "application/jsonl")).json()["id"]
    done = await platform.wait_job(job_id, "acme")
    assert done["status"] == "failed"
    assert "contains no words" in done["message"]
    assert done["result_url"] is None
    response = await platform.client.get(f"/v1/jobs/{job_id}/result", headers=platform.auth("acme"))
    assert response.status_code == 409
    assert response.json()["detail"] == f"job {job_id} is failed: {done['message']}"


def _corrupt_member(compression: int) -> bytes:
    """Flip a byte of the member's data: a CRC mismatch when stored, a broken stream when deflated."""
    data = bytearray(_zip({"a.txt": b"some words in a document " * 20}, compression))
    data[data.index(b"a.txt") + len("a.txt")] ^= 0xFF
    return bytes(data)


def _zip_with_unreadable_member() -> bytes:
    """A member whose name is flagged UTF-8 but is not, and one in an unknown compression method."""
    data = bytearray(_zip({"ab.txt": b"hello world"}, zipfile.ZIP_STORED).replace(b"ab.txt", b"\xff\xfe.txt"))
    data[data.index(b"PK\x03\x04") + 7] |= 0x08  # general purpose flag bit 11: UTF-8 names
    data[data.index(b"PK\x01\x02") + 9] |= 0x08
    return bytes(data)


def _zip_with_unknown_method() -> bytes:
    data = bytearray(_zip({"a.txt": b"hello world"}, zipfile.ZIP_STORED))
    data[data.index(b"PK\x03\x04") + 8] = 99
    data[data.index(b"PK\x01\x02") + 10] = 99
    return bytes(data)


BAD_UPLOADS = {
    "malformed-zip": (b"PK\x03\x04 not really a zip at all", "application/zip", "not a valid zip file"),
    "truncated-zip": (_zip({"a.txt": b"one two three"})[:-30], "application/zip", "not a valid zip file"),
    "crc-mismatch": (_corrupt_member(zipfile.ZIP_STORED), "application/zip", "is corrupt"),
    "corrupt-deflate": (_corrupt_member(zipfile.ZIP_DEFLATED), "application/zip", "zip cannot be read"),
    "zip-non-utf8-name": (_zip_with_unreadable_member(), "application/zip", "not a valid zip file"),
    "zip-unknown-method": (_zip_with_unknown_method(), "application/zip", "zip cannot be read"),
    "zip-non-utf8-txt": (
        _zip({"good.txt": b"fine words", "bad.txt": "caf\u00e9 cr\u00e8me".encode("latin-1")}),
        "application/zip",
        "document 'bad.txt' is not valid UTF-8",
    ),
    "zip-without-txt": (
        _zip({"notes.md": b"words", "data.csv": b"a,b"}),
        "application/zip",
        "no .txt files in the zip",
    ),
    "zip-empty-txt": (
        _zip({"a.txt": b"words", "b.txt": b"  \n "}),
        "application/zip",
        "document 'b.txt' is empty",
    ),
    "jsonl-bad-line": (
        b'{"id": "a", "text": "fine"}\n{"id": "b", "text": \n',
        "application/jsonl",
        "line 2 is not valid JSON",
    ),
    "jsonl-no-text": (
        b'{"id": "a", "body": "x"}\n',
        "application/x-ndjson",
        'line 1 must be an object with a string "text"',
    ),
    "jsonl-not-object": (b'["a", "b"]\n', "application/jsonl", "line 1 must be an object"),
    "jsonl-bad-id": (
        b'{"id": true, "text": "x"}\n',
        "application/jsonl",
        '"id" must be a string or an integer',
    ),
    "jsonl-non-utf8": (b'{"id": "a", "text": "caf\xe9"}\n', "application/jsonl", "line 1 is not valid UTF-8"),
    "jsonl-lone-surrogate": (
        b'{"id": "a", "text": "x"}\n{"id": "b", "text": "x \\ud800 y"}\n',
        "application/jsonl",
        "line 2 is not valid Unicode",
    ),
    "jsonl-lone-surrogate-id": (
        b'{"id": "\\udc00", "text": "x"}\n',
        "application/jsonl",
        "line 1 is not valid Unicode",
    ),
    "jsonl-duplicate-id": (
        b'{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n',
        "application/jsonl",
        "duplicate document id 'a'",
    ),
    "jsonl-only-blank-lines": (b"\n \n\n", "application/jsonl", "corpus contains no documents"),
    "empty-body": (b"", "application/jsonl", "the request body is empty"),
    "empty-zip-body": (b"", "application/zip", "the request body is empty"),
    "wrong-content-type": (
        b'{"id": "a", "text": "x"}\n',
        "text/plain",
        "unsupported corpus content type 'text/plain'",
    ),
    "json-not-jsonl": (b'{"id": "a", "text": "x"}\n', "application/json", "unsupported corpus content type"),
}


@pytest.mark.parametrize(("body", "content_type", "message"), BAD_UPLOADS.values(), ids=BAD_UPLOADS.keys())
async def test_bad_upload_is_400_and_leaves_nothing_behind(platform, body, content_type, message):
    response = await platform.submit("acme", body, content_type)
    assert response.status_code == 400, response.text
    assert message in response.json()["detail"]
    await _assert_nothing_written(platform)


async def test_missing_content_type_is_400(platform):
    response = await platform.client.post(
        "/v1/jobs", content=b'{"text": "x"}\n', headers=platform.auth("acme")
    )
    assert response.status_code == 400
    assert "unsupported corpus content type '(none)'" in response.json()["detail"]
    await _assert_nothing_written(platform)


async def _assert_nothing_written(platform) -> None:  # type: ignore[no-untyped-def]
    assert await platform.job_rows() == 0
    assert platform.leftover_files() == []
    assert await platform.stream_messages() == 0, "no job may be queued"


@pytest.mark.gateway(max_upload_bytes=300)
async def test_upload_over_the_byte_limit_is_413(platform, corpus):
    big = _jsonl([{"id": "a", "text": corpus.original}])
    assert len(big) > 300
    declared = await platform.submit("acme", big, "application/jsonl")
    assert declared.status_code == 413
    assert f"upload of {len(big)} bytes exceeds the limit of 300" in declared.json()["detail"]
    await _assert_nothing_written(platform)

    async def chunks():  # type: ignore[no-untyped-def]
        for start in range(0, len(big), 64):
            yield big[start : start + 64]

    # Streamed without a Content-Length: refused once the limit is crossed, partial file removed.
    streamed = await platform.client.post(
        "/v1/jobs", content=chunks(), headers={**platform.auth("acme"), "Content-Type": "application/jsonl"}
    )
    assert streamed.status_code == 413
    assert "upload exceeds the limit of 300 bytes" in streamed.json()["detail"]
    await _assert_nothing_written(platform)

    small = _jsonl([{"id": "a", "text": "a few words"}])
    assert (await platform.submit("acme", small, "application/jsonl")).status_code == 202


@pytest.mark.gateway(max_corpus_documents=3, max_corpus_text_bytes=1000)
async def test_corpus_over_the_document_or_text_limit_is_413(platform, corpus):
    four = _jsonl([{"id": str(i), "text": f"document number {i}"} for i in range(4)])
    response = await platform.submit("acme", four, "application/jsonl")
    assert response.status_code == 413
    assert "more than 3 documents" in response.json()["detail"]
    await _assert_nothing_written(platform)

    zipped = _zip({f"{i}.txt": f"document number {i}".encode() for i in range(4)})
    response = await platform.submit("acme", zipped, "application/zip")
    assert response.status_code == 413
    await _assert_nothing_written(platform)

    long_text = _jsonl([{"id": "a", "text": corpus.original}, {"id": "b", "text": corpus.near_copy}])
    response = await platform.submit("acme", long_text, "application/jsonl")
    assert response.status_code == 413
    assert "corpus text exceeds 1000 bytes" in response.json()["detail"]
    await _assert_nothing_written(platform)

    # A zip bomb: a 1 MB member compressed to about 1 KB is refused before it is unpacked.
    bomb = _zip({"a.txt": b"x" * 1_000_000})
    assert len(bomb) < 5000
    response = await platform.submit("acme", bomb, "application/zip")
    assert response.status_code == 413
    assert "corpus text exceeds 1000 bytes (the limit) unpacked" in response.json()["detail"]
    await _assert_nothing_written(platform)

    three = _jsonl([{"id": str(i), "text": f"document number {i}"} for i in range(3)])
    assert (await platform.submit("acme", three, "application/jsonl")).status_code == 202


async def test_job_query_parameters_are_validated(platform):
    body = _jsonl([{"id": "a", "text": "words"}])
    for params in ({"kind": "video"}, {"threshold": 0}, {"threshold": 1.5}, {"shingle_size": 0}):
        response = await platform.submit("acme", body, "application/jsonl", **params)
        assert response.status_code == 422, params
    await _assert_nothing_written(platform)


async def test_job_that_cannot_be_queued_is_503_and_leaves_nothing_behind(platform, corpus):
    """The corpus is valid and the job row written, then publishing fails: all of it is undone."""
    await platform.app.state.bus.nc.close()  # the gateway's own connection; NATS itself is up
    body = _jsonl([{"id": "a", "text": corpus.original}, {"id": "b", "text": corpus.near_copy}])
    response = await platform.submit("acme", body, "application/jsonl")
    assert response.status_code == 503
    assert response.json()["detail"].startswith("nats is unavailable: could not queue the job")
    await _assert_nothing_written(platform)
