"""The video analysis and video dedup jobs run by a real JobWorker over real NATS JetStream with
their blobs on a real S3 server (SeaweedFS): sources from the tenant's prefix, keyframes and the
result under the tenant's job prefix (result last), nothing left in scratch. The footage has no
audio track (no speech to transcribe) and keyframes are analysed by a stand-in: the vision
service's analysis has its own tests, here the storage is under test."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from clipsift_testing import footage
from clipsift_testing.object_stores import ObjectStoreTarget
from google.protobuf import json_format

from clipsift.events.v1 import events_pb2
from clipsift_common.blobkeys import job_prefix
from clipsift_common.events import TERMINAL_TYPES, EventBus, job_subject, make_event, parse_event
from clipsift_common.grpc_client import ServiceClient
from clipsift_common.objectstore import ObjectBlobStore, open_blob_store
from clipsift_common.worker import JobHandler, JobWorker
from video_svc import analysis_job, dedup_job
from video_svc.frame_analysis import FrameAnalysis
from video_svc.settings import VideoSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TENANT = "acme"


class PlainFrames:
    async def analyze(self, frames: Sequence[bytes]) -> list[FrameAnalysis]:
        return [FrameAnalysis(phash=f"{i:016x}") for i, _ in enumerate(frames)]


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("footage")
    (original,) = footage.build_distinct(folder, 1, seconds=8.0)
    copy = footage.derive(original, 8.0, "reencode", folder / "copy.mp4")
    return [original, copy.path]


@pytest.fixture
def settings(tmp_path: Path, s3_target: ObjectStoreTarget, nats_url: str) -> VideoSettings:
    return VideoSettings(
        blob_url=s3_target.url,
        blob_options=s3_target.options,
        blob_allow_http=True,
        nats_url=nats_url,
        database_url="postgresql://unused",
        audio_target="127.0.0.1:1",
        vision_target="127.0.0.1:1",
        scratch_dir=tmp_path / "scratch",
        worker_ack_wait_seconds=30,
        worker_max_deliver=1,
    )


async def run_job(
    bus: EventBus,
    kind: str,
    handler: JobHandler,
    settings: VideoSettings,
    job_id: str,
    options: dict[str, Any],
) -> events_pb2.JobEvent:
    """Run one job through a real worker; its last event."""
    worker = JobWorker(bus, kind, f"{kind}-test-{uuid.uuid4().hex[:6]}", handler, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    subscription = await bus.replay(job_subject(job_id))
    try:
        await bus.publish(
            make_event(
                job_id=job_id,
                tenant_id=TENANT,
                kind=kind,
                event_type=events_pb2.EVENT_TYPE_REQUESTED,
                key="requested",
                payload=options,
            )
        )
        async with asyncio.timeout(120):
            while True:
                event = parse_event(await subscription.next_msg(timeout=120))
                if event.type in TERMINAL_TYPES:
                    return event
    finally:
        await subscription.unsubscribe()
        stop.set()
        await asyncio.wait_for(task, 30)


def scratch_files(settings: VideoSettings) -> list[Path]:
    return [p for p in settings.scratch.rglob("*") if p.is_file()]


async def test_analysis_keyframes_and_result_land_under_the_tenant_prefix(
    bus: EventBus, settings: VideoSettings, videos: list[Path]
) -> None:
    blobs = open_blob_store(settings)
    job_id = str(uuid.uuid4())
    prefix = job_prefix(TENANT, job_id)
    blobs.put_file(f"{prefix}/source.video", videos[0])
    audio = ServiceClient(settings.audio_target, deadline_seconds=5)
    job = analysis_job.VideoAnalysisJob(settings, blobs, audio, PlainFrames())

    last = await run_job(
        bus, analysis_job.KIND, job, settings, job_id, {"source_key": f"{prefix}/source.video"}
    )
    await audio.close()

    assert last.type == events_pb2.EVENT_TYPE_COMPLETED, last.message
    result = json_format.MessageToDict(last.payload)
    assert result["result_key"] == analysis_job.result_key(TENANT, job_id) == f"{prefix}/analysis/result.json"
    manifest = await asyncio.to_thread(blobs.read_bytes, result["result_key"])
    keyframes = [k["file"] for k in json.loads(manifest)["keyframes"]]
    assert len(keyframes) >= 2, "a keyframe per scene"
    expected = {f"{prefix}/source.video", result["result_key"]} | {f"{prefix}/{f}" for f in keyframes}
    assert {b.key for b in blobs.list(prefix)} == expected
    assert scratch_files(settings) == []


async def test_dedup_reads_each_video_from_s3_and_stores_its_result_under_the_tenant_prefix(
    bus: EventBus, settings: VideoSettings, videos: list[Path]
) -> None:
    blobs: ObjectBlobStore = open_blob_store(settings)
    job_id = str(uuid.uuid4())
    prefix = job_prefix(TENANT, job_id)
    items = []
    for number, video in enumerate(videos):
        key = f"{prefix}/videos/{number}.mp4"
        blobs.put_file(key, video)
        items.append({"source_key": key, "id": f"v{number}"})
    # Neither index nor against_index: the fingerprint store is never asked.
    job = dedup_job.VideoDedupJob(settings, blobs, cast(Any, None))

    last = await run_job(bus, dedup_job.KIND, job, settings, job_id, {"videos": items})

    assert last.type == events_pb2.EVENT_TYPE_COMPLETED, last.message
    result = json_format.MessageToDict(last.payload)
    assert result["result_key"] == f"{prefix}/video-dedup/result.json"
    assert result["near_duplicate_pairs"] == 1
    assert blobs.exists(result["result_key"])
    assert scratch_files(settings) == []

    other = str(uuid.uuid4())
    refused = await run_job(
        bus, dedup_job.KIND, job, settings, other, {"videos": [{"source_key": "tenants/x/a.mp4"}]}
    )
    assert refused.type == events_pb2.EVENT_TYPE_FAILED
    assert "not the tenant's" in refused.message
