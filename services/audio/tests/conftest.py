"""Audio fixtures: real speech (espeak-ng, the JFK recording), the packaged model loaded once,
and an in-process gRPC server on port 0."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from clipsift_testing.media import fetched, ffmpeg
from clipsift_testing.media import speak as speak_to

from audio_svc import packaged_models
from audio_svc.model import SpeechModel
from audio_svc.servicer import AudioServicer
from audio_svc.settings import AudioSettings
from audio_svc.wiring import build
from clipsift.audio.v1 import audio_pb2, audio_pb2_grpc
from clipsift_common.grpc_server import GrpcServer
from clipsift_common.objectstore import ObjectBlobStore


def audio_settings(blob_dir: Path | None, **overrides: Any) -> AudioSettings:
    """Test settings on the folder ``blob_dir``, or (None) on the ``blob_url`` in ``overrides``."""
    return AudioSettings(
        blob_dir=blob_dir, grpc_host="127.0.0.1", grpc_port=0, grpc_grace_seconds=0.5, **overrides
    )


@pytest.fixture(scope="session")
def jfk_wav() -> Path:
    """JFK's "ask not what your country can do for you" (11 s, 16 kHz mono)."""
    return fetched("jfk.wav")


@pytest.fixture(scope="session")
def multilingual_model_dir() -> Path:
    """Whisper base, multilingual: the packaged default model."""
    return packaged_models.whisper_base()


@pytest.fixture(scope="session")
def english_only_model(tmp_path_factory: pytest.TempPathFactory) -> SpeechModel:
    """Whisper tiny.en, which deployments choose explicitly for English-only speed."""
    settings = audio_settings(tmp_path_factory.mktemp("blobs"), model=packaged_models.whisper_tiny_en())
    return SpeechModel.load(settings)


@pytest.fixture(scope="session")
def speech_model(tmp_path_factory: pytest.TempPathFactory) -> SpeechModel:
    """The default model (packaged multilingual Whisper base), loaded once for the whole session."""
    return SpeechModel.load(audio_settings(tmp_path_factory.mktemp("blobs")))


@pytest.fixture
def speak(tmp_path: Path) -> Callable[..., Path]:
    """Synthesize ``text`` with espeak-ng into a WAV file (22.05 kHz mono)."""

    def synthesize(text: str, name: str = "speech", voice: str = "en") -> Path:
        return speak_to(text, tmp_path / f"{name}.wav", voice=voice)

    return synthesize


@pytest.fixture
def silence(tmp_path: Path) -> Callable[[float], Path]:
    """Digital silence of the given length (16 kHz mono WAV)."""

    def make(seconds: float) -> Path:
        path = tmp_path / f"silence-{seconds:g}.wav"
        ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", str(seconds), str(path))
        return path

    return make


@pytest.fixture
def silent_film(tmp_path: Path) -> Path:
    """An MP4 with a video stream and no audio stream."""
    path = tmp_path / "silent-film.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=duration=1:size=160x120:rate=10", "-c:v", "libx264", str(path))
    return path


@pytest.fixture
def concat(tmp_path: Path) -> Callable[[list[Path], str], Path]:
    """Join recordings end to end into one WAV (ffmpeg converts them to a common format)."""

    def join(parts: list[Path], name: str) -> Path:
        out = tmp_path / f"{name}.wav"
        inputs = [arg for part in parts for arg in ("-i", str(part))]
        streams = "".join(f"[{i}:a]" for i in range(len(parts)))
        ffmpeg(*inputs, "-filter_complex", f"{streams}concat=n={len(parts)}:v=0:a=1", str(out))
        return out

    return join


@dataclass
class Running:
    server: GrpcServer
    servicer: AudioServicer
    channel: grpc.aio.Channel
    stub: audio_pb2_grpc.AudioServiceStub
    blobs: ObjectBlobStore

    def put(self, key: str, path: Path) -> audio_pb2.AudioSource:
        """Store a file in the service's blob store and return a source naming it."""
        self.blobs.put_bytes(key, path.read_bytes())
        return audio_pb2.AudioSource(blob_key=key)

    async def transcribe(self, **fields: Any) -> list[audio_pb2.TranscriptSegment]:
        call = self.stub.Transcribe(audio_pb2.TranscribeRequest(**fields), timeout=60)
        return [segment async for segment in call]


StartServer = Callable[..., Awaitable[Running]]


@pytest.fixture
async def start_server(tmp_path: Path, speech_model: SpeechModel) -> AsyncIterator[StartServer]:
    """Start servers with the shared model and settings overrides; all stop at teardown."""
    async with AsyncExitStack() as stack:

        async def start(model: SpeechModel | None = speech_model, **overrides: Any) -> Running:
            blob_dir = None if "blob_url" in overrides else tmp_path / "blobs"
            settings = audio_settings(blob_dir, **{"scratch_dir": tmp_path / "scratch"} | overrides)
            service = await build(settings, model)
            # No model: listening but never loaded, as between start and load in production.
            port = await (service.start() if model is not None else service.server.start())
            stack.push_async_callback(service.stop)
            server, servicer = service.server, service.servicer(AudioServicer)
            channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
            stack.push_async_callback(channel.close)
            return Running(
                server, servicer, channel, audio_pb2_grpc.AudioServiceStub(channel), servicer.blobs
            )

        yield start


@pytest.fixture
async def running(start_server: StartServer) -> Running:
    """A server with default settings and the shared model."""
    return await start_server()
