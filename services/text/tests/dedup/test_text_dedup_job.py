"""The corpus dedup job run by a real JobWorker over real NATS JetStream, with its blobs on the
folder backend and on a real S3 server (SeaweedFS)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clipsift.events.v1 import events_pb2
from clipsift_common.blobkeys import owns
from clipsift_common.events import TERMINAL_TYPES, EventBus, job_subject, make_event, parse_event
from clipsift_common.objectstore import ObjectBlobStore, open_blob_store
from clipsift_common.worker import JobWorker
from text_svc.dedup import scan
from text_svc.dedup.detector import Detector
from text_svc.dedup.job import KIND, DedupJob, result_key
from text_svc.settings import TextSettings

pytestmark = pytest.mark.integration

BASE = " ".join(f"word{i}" for i in range(60))
NEAR = BASE.replace("word30", "changed")
OTHER = " ".join(f"other{i}" for i in range(60))


@dataclass
class Harness:
    bus: EventBus
    blobs: ObjectBlobStore

    async def submit(
        self, options: dict[str, Any], job_id: str = "", key: str = "requested", tenant: str = "acme"
    ) -> str:
        job_id = job_id or str(uuid.uuid4())
        await self.bus.publish(
            make_event(
                job_id=job_id,
                tenant_id=tenant,
                kind=KIND,
                event_type=events_pb2.EVENT_TYPE_REQUESTED,
                key=key,
                step="queued",
                payload=options,
            )
        )
        return job_id

    async def events_until_terminal(
        self, job_id: str, wait_seconds: float = 20.0
    ) -> list[events_pb2.JobEvent]:
        subscription = await self.bus.replay(job_subject(job_id))
        events: list[events_pb2.JobEvent] = []
        try:
            async with asyncio.timeout(wait_seconds):
                while not events or events[-1].type not in TERMINAL_TYPES:
                    events.append(parse_event(await subscription.next_msg(timeout=wait_seconds)))
        finally:
            await subscription.unsubscribe()
        return events

    async def stored_events(self, job_id: str) -> list[events_pb2.JobEvent]:
        """Every event of the job now on the stream (stops after 0.5 s without a new one)."""
        subscription = await self.bus.replay(job_subject(job_id))
        events: list[events_pb2.JobEvent] = []
        try:
            while True:
                try:
                    events.append(parse_event(await subscription.next_msg(timeout=0.5)))
                except TimeoutError:
                    return events
        finally:
            await subscription.unsubscribe()

    def put_corpus(self, name: str, records: list[dict[str, str]] | str) -> str:
        key = f"corpora/{name}/corpus.jsonl"  # a folder of its own: delete_prefix removes it
        text = records if isinstance(records, str) else "".join(json.dumps(r) + "\n" for r in records)
        self.blobs.put_bytes(key, text.encode())
        return key


@pytest.fixture(params=["folder", "s3"])
async def harness(
    request: pytest.FixtureRequest, bus: EventBus, tmp_path: Path, nats_url: str
) -> AsyncIterator[Harness]:
    location: dict[str, Any] = {"blob_dir": tmp_path / "blobs"}
    if request.param == "s3":
        target = request.getfixturevalue("s3_target")
        location = {"blob_url": target.url, "blob_options": target.options, "blob_allow_http": True}
    settings = TextSettings(
        nats_url=nats_url,
        scratch_dir=tmp_path / "scratch",
        worker_ack_wait_seconds=10,
        worker_max_deliver=2,
        **location,
    )
    blobs = open_blob_store(settings)  # as the text service's wiring opens it
    # As the service does before SERVING: the kernels compile once (seconds on a busy machine),
    # not on the clock of the first job.
    await asyncio.to_thread(scan.warm_up)
    worker = JobWorker(bus, KIND, "text-dedup-test", DedupJob(Detector(settings), blobs), settings)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield Harness(bus, blobs)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_dedup_job_stores_clusters_and_completes(harness: Harness) -> None:
    records = [
        {"id": "base", "text": BASE},
        {"id": "other", "text": OTHER},
        {"id": "near", "text": NEAR},
        {"id": "copy", "text": BASE},
    ]
    job_id = await harness.submit({"input_key": harness.put_corpus("c1", records), "threshold": 0.8})
    events = await harness.events_until_terminal(job_id)

    types = [e.type for e in events]
    assert types[0] == events_pb2.EVENT_TYPE_REQUESTED
    assert types[-1] == events_pb2.EVENT_TYPE_COMPLETED, [e.message for e in events]
    progress = [e for e in events if e.type == events_pb2.EVENT_TYPE_PROGRESS]
    assert progress
    fractions = [e.progress for e in progress]
    assert fractions == sorted(fractions)
    assert progress[0].step == "parse"
    assert progress[-1].step == "store"
    assert progress[-1].progress == 1.0
    assert len({e.event_id for e in events}) == len(events)
    assert all(e.attempt == 1 for e in events[1:])

    completed = events[-1]
    summary = dict(completed.payload)
    assert summary == {
        "result_key": result_key("acme", job_id),
        "documents": 4.0,
        "clusters": 1.0,
        "duplicate_documents": 3.0,
    }
    document = json.loads(harness.blobs.read_bytes(result_key("acme", job_id)))
    assert document["job_id"] == job_id
    assert document["documents"] == 4
    assert document["threshold"] == 0.8
    assert document["verified_pairs"] == 3
    assert document["lsh"]["num_perm"] == 128
    assert [c["document_ids"] for c in document["clusters"]] == [["base", "copy", "near"]]
    assert document["exact_pairs"] == 1
    assert [g["document_ids"] for g in document["exact_groups"]] == [["base", "copy"]]

    # The worker acks right after publishing COMPLETED: the ack may land a moment after the event.
    async with asyncio.timeout(5):
        while True:
            info = await harness.bus.js.consumer_info(harness.bus.stream, "text-dedup-test")
            if info.num_ack_pending == 0:
                break
            await asyncio.sleep(0.05)
    assert info.num_pending == 0
    # Nothing was published after the terminal event (progress from the worker thread included).
    assert [e.event_id for e in await harness.stored_events(job_id)] == [e.event_id for e in events]


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({}, "job request has no input_key"),
        ({"corpus": "bad"}, "corpus line 2 is not a {id, text} record"),
        (
            {"corpus": [{"id": "a", "text": BASE}, {"id": "b", "text": "!!!"}]},
            "document 'b' contains no words",
        ),
        ({"corpus": [{"id": "a", "text": BASE}, {"id": "a", "text": NEAR}]}, "duplicate document id 'a'"),
        ({"corpus": [{"id": "a", "text": BASE}], "threshold": 2.0}, "threshold must be in (0, 1], got 2.0"),
        ({"input_key": "corpora/missing.jsonl"}, "blob corpora/missing.jsonl not found"),
    ],
)
async def test_dedup_job_fails_once_with_the_reason(
    harness: Harness, options: dict[str, Any], reason: str
) -> None:
    options = dict(options)  # the parameters are shared by the folder and S3 runs
    corpus = options.pop("corpus", None)
    if corpus == "bad":
        options["input_key"] = harness.put_corpus(
            "bad", json.dumps({"id": "a", "text": BASE}) + "\nnot json\n"
        )
    elif corpus is not None:
        options["input_key"] = harness.put_corpus("c", corpus)
    job_id = await harness.submit(options)
    events = await harness.events_until_terminal(job_id)
    failed = events[-1]
    assert failed.type == events_pb2.EVENT_TYPE_FAILED
    assert failed.message == reason
    assert failed.attempt == 1  # not retried: bad input cannot succeed later
    assert not harness.blobs.exists(result_key("acme", job_id))


async def test_rerun_of_a_stored_job_completes_from_the_stored_result(harness: Harness) -> None:
    input_key = harness.put_corpus("rerun", [{"id": "a", "text": BASE}, {"id": "b", "text": NEAR}])
    job_id = await harness.submit({"input_key": input_key})
    first = await harness.events_until_terminal(job_id)
    assert first[-1].type == events_pb2.EVENT_TYPE_COMPLETED
    stored = harness.blobs.read_bytes(result_key("acme", job_id))
    # The input is gone: only the stored result can answer the second delivery of the job.
    harness.blobs.delete_prefix(input_key)
    await harness.submit({"input_key": input_key}, job_id=job_id, key="requested/again")
    async with asyncio.timeout(15):
        while True:
            info = await harness.bus.js.consumer_info(harness.bus.stream, "text-dedup-test")
            if info.delivered.consumer_seq >= 2 and info.num_ack_pending == 0 and info.num_pending == 0:
                break
            await asyncio.sleep(0.1)
    assert harness.blobs.read_bytes(result_key("acme", job_id)) == stored
    seen = await harness.stored_events(job_id)
    # The rerun republished COMPLETED under the same event id: the stream kept one copy.
    assert [e.type for e in seen].count(events_pb2.EVENT_TYPE_COMPLETED) == 1
    assert [e.type for e in seen].count(events_pb2.EVENT_TYPE_REQUESTED) == 2
    assert events_pb2.EVENT_TYPE_FAILED not in [e.type for e in seen]


async def test_each_tenants_results_lie_under_its_own_prefix(harness: Harness) -> None:
    input_key = harness.put_corpus("tenants", [{"id": "a", "text": BASE}, {"id": "b", "text": NEAR}])
    jobs = {
        tenant: await harness.submit({"input_key": input_key}, tenant=tenant) for tenant in ("acme", "globex")
    }
    for tenant, job_id in jobs.items():
        events = await harness.events_until_terminal(job_id)
        assert events[-1].type == events_pb2.EVENT_TYPE_COMPLETED, [e.message for e in events]
        key = events[-1].payload["result_key"]
        assert key == f"tenants/{tenant}/jobs/{job_id}/result.json"
        assert owns(tenant, key)
        assert not owns(({"acme", "globex"} - {tenant}).pop(), key)
    # Everything a job stored is in its tenant's prefix; nothing of globex's in acme's.
    assert [blob.key for blob in harness.blobs.list("tenants/acme")] == [result_key("acme", jobs["acme"])]
    assert [blob.key for blob in harness.blobs.list("tenants/globex")] == [
        result_key("globex", jobs["globex"])
    ]
