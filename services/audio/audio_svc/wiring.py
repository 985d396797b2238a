"""The audio service's one wiring, used by ``__main__`` and by the tests."""

from __future__ import annotations

from clipsift.audio.v1 import audio_pb2_grpc
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from clipsift_common.service import Service

from .model import SpeechModel
from .servicer import AudioServicer
from .settings import AudioSettings


async def build(settings: AudioSettings, model: SpeechModel | None = None) -> Service:
    """The gRPC service; health is SERVING once the speech model is loaded (tests hand in one
    already loaded, shared by their servers)."""
    servicer = AudioServicer(settings, model)
    server = GrpcServer(
        settings, [ServiceBinding(audio_pb2_grpc.add_AudioServiceServicer_to_server, servicer)]
    )
    return Service(server, load=servicer.load) if model is None else Service(server)
