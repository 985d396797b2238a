"""The service as a whole: error codes for bad input on every RPC, health that waits for the
model, reflection, and the real process started the way Kubernetes starts it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from audio_svc.settings import AudioSettings
from audio_svc.wiring import build
from clipsift.audio.v1 import audio_pb2, audio_pb2_grpc

SERVICE = "clipsift.audio.v1.AudioService"
RPCS = ["Transcribe", "DetectLanguage", "AudioFeatures"]
NOT_AUDIO = b"this is plain text, not a recording\n" * 50


async def call(server, rpc: str, source: audio_pb2.AudioSource) -> object:
    if rpc == "Transcribe":
        return await server.transcribe(audio=source)
    if rpc == "DetectLanguage":
        return await server.stub.DetectLanguage(source, timeout=30)
    return await server.stub.AudioFeatures(audio_pb2.AudioFeaturesRequest(audio=source), timeout=30)


@pytest.mark.parametrize("rpc", RPCS)
async def test_bad_input_maps_to_status_codes(start_server, jfk_wav, silent_film, rpc: str) -> None:
    server = await start_server(max_inline_bytes=100_000, max_audio_seconds=5.0)
    server.blobs.put_bytes("upload.wav", NOT_AUDIO)
    undecodable = "cannot decode audio: Invalid data found when processing input"
    cases = [
        (audio_pb2.AudioSource(data=NOT_AUDIO), grpc.StatusCode.INVALID_ARGUMENT, undecodable),
        (audio_pb2.AudioSource(blob_key="upload.wav"), grpc.StatusCode.INVALID_ARGUMENT, undecodable),
        (
            server.put("silent-film.mp4", silent_film),
            grpc.StatusCode.INVALID_ARGUMENT,
            "the input has no audio stream",
        ),
        (audio_pb2.AudioSource(), grpc.StatusCode.INVALID_ARGUMENT, "no audio given: set blob_key or data"),
        (
            audio_pb2.AudioSource(blob_key="uploads/missing.wav"),
            grpc.StatusCode.NOT_FOUND,
            "blob uploads/missing.wav not found",
        ),
        (
            audio_pb2.AudioSource(blob_key="../../etc/passwd"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "invalid blob key '../../etc/passwd'",
        ),
        (
            audio_pb2.AudioSource(data=bytes(100_001)),
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "inline audio is 100001 bytes; the limit is 100000 (upload it and pass blob_key)",
        ),
        (
            server.put("jfk.wav", jfk_wav),
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "audio is longer than the limit of 5 seconds",
        ),
    ]
    for source, code, message in cases:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(server, rpc, source)
        assert (caught.value.code(), caught.value.details()) == (code, message), source
    # The service is unharmed and answers the next good request.
    assert await call(server, rpc, audio_pb2.AudioSource(data=jfk_wav.read_bytes()[:100_000]))


async def health_status(channel: grpc.aio.Channel, service: str = "") -> int:
    response = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=service), timeout=5
    )
    return int(response.status)


async def wait_serving(channel: grpc.aio.Channel, within: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        try:
            if await health_status(channel) == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.UNAVAILABLE:  # not listening yet
                raise
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"not SERVING within {within} s")
        await asyncio.sleep(0.05)


async def test_health_turns_serving_only_after_the_model_loads(tmp_path: Path, jfk_wav) -> None:
    settings = AudioSettings(blob_dir=tmp_path, grpc_host="127.0.0.1", grpc_port=0, grpc_grace_seconds=0.5)
    service = await build(settings)  # the same wiring and start sequence as __main__
    server, load_model = service.server, service.load
    listening, may_load = asyncio.Event(), asyncio.Event()

    async def load() -> None:
        listening.set()  # the service loads once the server listens
        await may_load.wait()  # hold the loading phase open long enough to look at it
        await load_model()

    service.load = load
    starting = asyncio.create_task(service.start())
    try:
        await listening.wait()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            stub = audio_pb2_grpc.AudioServiceStub(channel)
            source = audio_pb2.AudioSource(data=jfk_wav.read_bytes())
            for name in ("", SERVICE):
                assert await health_status(channel, name) == health_pb2.HealthCheckResponse.NOT_SERVING
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.DetectLanguage(source, timeout=10)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
            assert caught.value.details() == "the speech model is still loading"

            may_load.set()
            await wait_serving(channel)
            assert await health_status(channel, SERVICE) == health_pb2.HealthCheckResponse.SERVING
            await starting
            assert service.server.bindings[0].servicer.model is not None
            assert (await stub.DetectLanguage(source, timeout=30)).language == "en"
    finally:
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        await service.stop()


async def test_reflection_lists_the_audio_service(running) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(running.channel)

    async def ask():
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    responses = [r async for r in stub.ServerReflectionInfo(ask(), timeout=5)]
    names = {s.name for s in responses[0].list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health"} <= names


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
async def test_the_service_process_serves_then_stops_on_sigterm(tmp_path: Path, jfk_wav) -> None:
    port = free_port()
    env = {
        **os.environ,
        "CLIPSIFT_AUDIO_BLOB_DIR": str(tmp_path / "blobs"),
        "CLIPSIFT_AUDIO_GRPC_HOST": "127.0.0.1",
        "CLIPSIFT_AUDIO_GRPC_PORT": str(port),
        "CLIPSIFT_AUDIO_GRPC_GRACE_SECONDS": "1",
    }
    log_path = tmp_path / "audio.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "audio_svc", env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await wait_serving(channel)
            call = audio_pb2_grpc.AudioServiceStub(channel).Transcribe(
                audio_pb2.TranscribeRequest(audio=audio_pb2.AudioSource(data=jfk_wav.read_bytes())),
                timeout=60,
            )
            text = " ".join([segment.text async for segment in call]).lower()
        assert "ask not what your country can do for you" in text
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    loaded = next(line for line in lines if line["msg"] == "speech model loaded")
    assert (loaded["service"], loaded["device"], loaded["multilingual"]) == ("audio", "cpu", True)
    transcribed = next(line for line in lines if line["msg"] == "transcribed")
    assert transcribed["audio_seconds"] == 11.0
    assert transcribed["real_time_factor"] < 1.0
    assert lines[-1]["msg"] == "stopped"
