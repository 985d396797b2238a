"""The audio service with its blob store on a real S3 server (SeaweedFS): a blob key is read through
a copy in a scratch folder of that call alone, removed afterwards, so two calls on one key at once
(the clip job asks for the transcript and the loudness together) never share or remove each
other's copy."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import grpc
import pytest
from clipsift_testing.object_stores import ObjectStoreTarget

from clipsift.audio.v1 import audio_pb2

from .conftest import StartServer

pytestmark = pytest.mark.integration
JFK = "ask not what your country can do for you"


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9']+", " ", text.lower()).split())


async def test_blob_keys_on_s3_are_read_through_a_private_scratch_copy(
    start_server: StartServer, s3_target: ObjectStoreTarget, jfk_wav: Path, tmp_path: Path
) -> None:
    running = await start_server(blob_url=s3_target.url, blob_options=s3_target.options, blob_allow_http=True)
    source = running.put("tenants/acme/jobs/j1/work/audio.wav", jfk_wav)

    segments, features = await asyncio.gather(
        running.transcribe(audio=source, vad_filter=True),
        running.stub.AudioFeatures(audio_pb2.AudioFeaturesRequest(audio=source), timeout=60),
    )

    assert JFK in normalise(" ".join(s.text for s in segments))
    assert features.duration == pytest.approx(11.0, abs=0.1)
    assert not [p for p in (tmp_path / "scratch").rglob("*") if p.is_file()], "every copy removed"
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await running.transcribe(audio=audio_pb2.AudioSource(blob_key="tenants/acme/missing.wav"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
