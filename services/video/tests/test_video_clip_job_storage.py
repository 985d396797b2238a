"""The clip job run by a real JobWorker over real NATS JetStream with its blobs on a real S3 server
(SeaweedFS): the source comes from the tenant's prefix or from a presigned URL, the real audio
service (Whisper tiny.en, on the same bucket) reads the speech the job extracted, clips and the
manifest land under the tenant's job prefix, and the job's scratch folder and temporary blobs are
gone when it ends, however it ends; a job failing while it publishes leaves no clip visible.

Faces come from a stand-in vision server that finds none (the crop is then centred): face
detection and reframing have their own tests; here the storage is under test."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from clipsift_testing.object_stores import ObjectStoreTarget
from clipsift_testing.talk import build_talk_video
from google.protobuf import json_format

from audio_svc import packaged_models
from audio_svc.model import SpeechModel
from audio_svc.settings import AudioSettings
from audio_svc.wiring import build as build_audio
from clipsift.events.v1 import events_pb2
from clipsift.vision.v1 import vision_pb2, vision_pb2_grpc
from clipsift_common.blobkeys import job_prefix
from clipsift_common.events import TERMINAL_TYPES, EventBus, job_subject, make_event, parse_event
from clipsift_common.grpc_client import ServiceClient
from clipsift_common.objectstore import ObjectBlobStore, open_blob_store
from clipsift_common.worker import JobWorker
from video_svc.clip_job import KIND, ClipJob, manifest_key
from video_svc.settings import VideoSettings

from .http_files import serve_files

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TENANT = "acme"
CLIP_FILES = {"clip.mp4", "clip.srt", "clip.vtt", "thumbnail.jpg"}
OPTIONS = {"count": 2, "min_seconds": 6, "max_seconds": 15, "captions": True}


class NoFaces(vision_pb2_grpc.VisionServiceServicer):
    async def DetectFaces(
        self, request: vision_pb2.DetectFacesRequest, context: grpc.aio.ServicerContext
    ) -> vision_pb2.DetectFacesResponse:
        return vision_pb2.DetectFacesResponse(frames=[vision_pb2.FrameFaces() for _ in request.frames])


class FailingUploads(ObjectBlobStore):
    """The S3 store, except that the second clip file uploaded fails (a connection lost mid-publish)."""

    uploads = 0

    def put_file(self, key: str, path: Path) -> int:
        if "/clips/" in key:
            self.uploads += 1
            if self.uploads == 2:
                raise OSError("connection reset while uploading")
        return super().put_file(key, path)


@dataclass
class Harness:
    bus: EventBus
    blobs: ObjectBlobStore
    settings: VideoSettings

    async def run(self, options: dict[str, Any], job_id: str) -> list[events_pb2.JobEvent]:
        subscription = await self.bus.replay(job_subject(job_id))
        await self.bus.publish(
            make_event(
                job_id=job_id,
                tenant_id=TENANT,
                kind=KIND,
                event_type=events_pb2.EVENT_TYPE_REQUESTED,
                key="requested",
                step="queued",
                payload=options,
            )
        )
        events: list[events_pb2.JobEvent] = []
        try:
            async with asyncio.timeout(240):
                while not events or events[-1].type not in TERMINAL_TYPES:
                    events.append(parse_event(await subscription.next_msg(timeout=240)))
        finally:
            await subscription.unsubscribe()
        return events

    def scratch_files(self) -> list[Path]:
        return [p for p in self.settings.scratch.rglob("*") if p.is_file()]


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_talk_video(tmp_path_factory.mktemp("talk"), width=640, height=360)


@pytest.fixture(scope="module")
def speech_model(tmp_path_factory: pytest.TempPathFactory) -> SpeechModel:
    blobs = tmp_path_factory.mktemp("unused")
    return SpeechModel.load(AudioSettings(blob_dir=blobs, model=packaged_models.whisper_tiny_en()))


@pytest.fixture
async def vision_target() -> AsyncIterator[str]:
    # Batches of raw frames run to megabytes, as the real service's limits allow.
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)])
    vision_pb2_grpc.add_VisionServiceServicer_to_server(NoFaces(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(0)


@dataclass
class Servers:
    bus: EventBus
    nats_url: str
    target: ObjectStoreTarget
    speech_model: SpeechModel
    vision_target: str


@pytest.fixture
def servers(
    bus: EventBus,
    nats_url: str,
    s3_target: ObjectStoreTarget,
    speech_model: SpeechModel,
    vision_target: str,
) -> Servers:
    return Servers(bus, nats_url, s3_target, speech_model, vision_target)


async def harness_for(
    servers: Servers, tmp_path: Path, store: type[ObjectBlobStore]
) -> AsyncIterator[Harness]:
    target = servers.target
    location = {"blob_url": target.url, "blob_options": target.options, "blob_allow_http": True}
    audio_settings = AudioSettings(
        **location, scratch_dir=tmp_path / "audio-scratch", grpc_host="127.0.0.1", grpc_port=0
    )
    audio = await build_audio(audio_settings, servers.speech_model)
    audio_port = await audio.start()
    settings = VideoSettings(
        **location,
        nats_url=servers.nats_url,
        database_url="postgresql://unused",
        audio_target=f"127.0.0.1:{audio_port}",
        vision_target=servers.vision_target,
        scratch_dir=tmp_path / "scratch",
        output_long_side=640,
        render_preset="ultrafast",
        worker_ack_wait_seconds=30,
        worker_max_deliver=1,
    )
    open_blob_store(settings)  # as the wiring opens it: the settings are valid
    blobs = store(target.url, target.options, target.client_options)
    clients = [ServiceClient(t, deadline_seconds=60) for t in (settings.audio_target, settings.vision_target)]
    job = ClipJob(settings, blobs, *clients)
    bus = servers.bus
    worker = JobWorker(bus, KIND, f"video-clip-test-{uuid.uuid4().hex[:6]}", job, settings)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield Harness(bus, blobs, settings)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        for client in clients:
            await client.close()
        await audio.stop()


@pytest.fixture
async def s3(servers: Servers, tmp_path: Path) -> AsyncIterator[Harness]:
    async for harness in harness_for(servers, tmp_path, ObjectBlobStore):
        yield harness


@pytest.fixture
async def s3_failing(servers: Servers, tmp_path: Path) -> AsyncIterator[Harness]:
    async for harness in harness_for(servers, tmp_path, FailingUploads):
        yield harness


async def test_clips_and_manifest_land_on_s3_under_the_tenant_prefix(s3: Harness, talk: Path) -> None:
    job_id = str(uuid.uuid4())
    prefix = job_prefix(TENANT, job_id)
    s3.blobs.put_file(f"{prefix}/source.video", talk)

    events = await s3.run(OPTIONS | {"source_key": f"{prefix}/source.video"}, job_id)

    assert events[-1].type == events_pb2.EVENT_TYPE_COMPLETED, [e.message for e in events]
    result = json_format.MessageToDict(events[-1].payload)
    assert result["result_key"] == manifest_key(TENANT, job_id) == f"{prefix}/clips/manifest.json"
    manifest = json.loads(s3.blobs.read_bytes(result["result_key"]))
    assert len(manifest["clips"]) == 2
    expected = {f"{prefix}/source.video", f"{prefix}/clips/manifest.json"}
    for clip in manifest["clips"]:
        assert set(clip["files"]) == CLIP_FILES
        # The gateway finds each file at the job's prefix + the path the manifest lists.
        expected |= {f"{prefix}/{path}" for path in clip["files"].values()}
        assert s3.blobs.size(f"{prefix}/{clip['files']['clip.mp4']}") > 10_000
    # Exactly the source, the clips and the manifest: the extracted audio went with the job.
    assert {blob.key for blob in s3.blobs.list(prefix)} == expected
    assert s3.scratch_files() == []
    assert not [p for p in (s3.settings.scratch.parent / "audio-scratch").rglob("*") if p.is_file()]


async def test_a_job_failing_while_it_publishes_leaves_no_clip_visible(
    s3_failing: Harness, talk: Path
) -> None:
    job_id = str(uuid.uuid4())
    prefix = job_prefix(TENANT, job_id)
    # The source this time comes from a presigned URL of a bucket the tenant registered.
    with serve_files({"talk.mp4": talk}) as served:
        events = await s3_failing.run(OPTIONS | {"source_url": served.url("talk.mp4")}, job_id)

    assert events[-1].type == events_pb2.EVENT_TYPE_FAILED, [e.message for e in events]
    assert "connection reset while uploading" in events[-1].message
    assert "render" in {e.step for e in events}, "the job got as far as rendering its clips"
    assert s3_failing.blobs.list(prefix) == []
    assert not s3_failing.blobs.exists(manifest_key(TENANT, job_id))
    assert s3_failing.scratch_files() == []
