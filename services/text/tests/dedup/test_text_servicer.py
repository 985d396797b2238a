"""TextService through a real in-process gRPC server (port 0) and a grpc.aio channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from clipsift.text.v1 import text_pb2, text_pb2_grpc
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from text_svc.dedup.detector import Detector
from text_svc.dedup.servicer import TextServicer
from text_svc.settings import TextSettings

SERVICE = "clipsift.text.v1.TextService"
BASE = " ".join(f"word{i}" for i in range(60))
NEAR = BASE.replace("word30", "changed")
OTHER = " ".join(f"other{i}" for i in range(60))


@dataclass
class Running:
    server: GrpcServer
    channel: grpc.aio.Channel
    stub: text_pb2_grpc.TextServiceStub


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    settings = TextSettings(
        grpc_port=0,
        grpc_host="127.0.0.1",
        nats_url="nats://unused",
        blob_dir=tmp_path,
        max_documents_per_request=5,
        max_document_chars=10_000,
        grpc_grace_seconds=0.5,
    )
    server = GrpcServer(
        settings,
        [
            ServiceBinding(
                text_pb2_grpc.add_TextServiceServicer_to_server, TextServicer(Detector(settings)), SERVICE
            )
        ],
    )
    port = await server.start()
    assert port > 0
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Running(server, channel, text_pb2_grpc.TextServiceStub(channel))
    finally:
        await channel.close()
        await server.stop()


async def test_similarity(running: Running) -> None:
    response = await running.stub.Similarity(text_pb2.SimilarityRequest(a=BASE, b=NEAR), timeout=10)
    assert response.exact_jaccard == pytest.approx(51 / 61)
    assert abs(response.estimated_jaccard - response.exact_jaccard) < 0.15
    assert (response.shingles_a, response.shingles_b, response.num_perm) == (56, 56, 128)
    options = text_pb2.ShingleOptions(shingle_size=1)
    response = await running.stub.Similarity(
        text_pb2.SimilarityRequest(a="a b c", b="c b a", options=options)
    )
    assert response.exact_jaccard == 1.0
    assert response.shingles_a == 3


async def test_find_duplicates(running: Running) -> None:
    documents = [
        text_pb2.Document(id="base", text=BASE),
        text_pb2.Document(id="other", text=OTHER),
        text_pb2.Document(id="near", text=NEAR),
        text_pb2.Document(id="copy", text=BASE),
    ]
    response = await running.stub.FindDuplicates(
        text_pb2.FindDuplicatesRequest(documents=documents), timeout=10
    )
    assert response.documents == 4
    assert response.threshold == pytest.approx(0.8)
    assert response.verified_pairs == 3
    # base and copy are identical: found by hash, so only the near pairs were LSH candidates.
    assert response.exact_pairs == 1
    assert response.candidate_pairs >= 1
    assert [(list(g.document_ids), len(g.content_sha1)) for g in response.exact_groups] == [
        (["base", "copy"], 40)
    ]
    assert response.bands * response.rows <= 128
    assert len(response.clusters) == 1
    cluster = response.clusters[0]
    assert list(cluster.document_ids) == ["base", "copy", "near"]
    assert {(p.a, p.b, p.exact) for p in cluster.pairs} == {
        ("base", "near", False),
        ("base", "copy", True),
        ("near", "copy", False),
    }
    assert cluster.max_jaccard == 1.0
    assert cluster.min_jaccard == pytest.approx(51 / 61, abs=1e-6)

    stricter = await running.stub.FindDuplicates(
        text_pb2.FindDuplicatesRequest(documents=documents, threshold=0.95), timeout=10
    )
    assert stricter.threshold == pytest.approx(0.95)
    assert [list(c.document_ids) for c in stricter.clusters] == [["base", "copy"]]


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        (text_pb2.SimilarityRequest(a="", b=BASE), grpc.StatusCode.INVALID_ARGUMENT, "text a is empty"),
        (
            text_pb2.SimilarityRequest(a=BASE, b="!!!"),
            grpc.StatusCode.INVALID_ARGUMENT,
            "text b contains no words",
        ),
        (
            text_pb2.SimilarityRequest(a=BASE, b=BASE, options=text_pb2.ShingleOptions(shingle_size=99)),
            grpc.StatusCode.INVALID_ARGUMENT,
            "shingle_size must be between 1 and 32, got 99",
        ),
        (
            text_pb2.SimilarityRequest(a=BASE, b="y" * 10_001),
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "text b has 10001 characters; the limit is 10000",
        ),
    ],
)
async def test_similarity_errors(
    running: Running, request_: text_pb2.SimilarityRequest, code: grpc.StatusCode, message: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running.stub.Similarity(request_, timeout=10)
    assert caught.value.code() == code
    assert caught.value.details() == message


@pytest.mark.parametrize(
    ("documents", "threshold", "code", "message"),
    [
        ([], 0.0, grpc.StatusCode.INVALID_ARGUMENT, "no documents given"),
        ([("a", BASE), ("a", NEAR)], 0.0, grpc.StatusCode.INVALID_ARGUMENT, "duplicate document id 'a'"),
        ([("a", BASE), ("b", "  ")], 0.0, grpc.StatusCode.INVALID_ARGUMENT, "document 'b' is empty"),
        (
            [("a", BASE), ("b", BASE)],
            1.5,
            grpc.StatusCode.INVALID_ARGUMENT,
            "threshold must be in (0, 1], got 1.5",
        ),
        (
            [(str(i), BASE) for i in range(6)],
            0.0,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "6 documents in one request; the limit is 5 (submit a corpus job instead)",
        ),
    ],
)
async def test_find_duplicates_errors(
    running: Running, documents: list[tuple[str, str]], threshold: float, code: grpc.StatusCode, message: str
) -> None:
    request = text_pb2.FindDuplicatesRequest(
        documents=[text_pb2.Document(id=i, text=t) for i, t in documents], threshold=threshold
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await running.stub.FindDuplicates(request, timeout=10)
    assert caught.value.code() == code
    assert caught.value.details() == message


async def test_health_turns_serving_only_when_told(running: Running) -> None:
    health = health_pb2_grpc.HealthStub(running.channel)
    for name in ("", SERVICE):
        response = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.NOT_SERVING
    await running.server.set_serving()
    for name in ("", SERVICE):
        response = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert response.status == health_pb2.HealthCheckResponse.SERVING
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_reflection_lists_the_text_service(running: Running) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(running.channel)

    async def ask() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")
        yield reflection_pb2.ServerReflectionRequest(file_containing_symbol=SERVICE)

    responses = [r async for r in stub.ServerReflectionInfo(ask(), timeout=5)]
    names = {s.name for s in responses[0].list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= names
    assert responses[1].file_descriptor_response.file_descriptor_proto


async def test_compare_passages_and_errors(running: Running) -> None:
    shared = " ".join(f"shared{i}" for i in range(20))
    a = f"Intro à la page. {shared} and the end."
    b = f"Another «start» — {shared}!"
    response = await running.stub.Compare(text_pb2.CompareRequest(a=a, b=b, html=True), timeout=10)
    assert [(p.a_start, p.a_end, p.b_start, p.b_end, p.words_a) for p in response.passages] == [
        (a.index(shared), a.index(shared) + len(shared), b.index(shared), b.index(shared) + len(shared), 20)
    ]
    assert response.min_words == 8
    assert (response.words_a, response.words_b) == (27, 22)
    assert response.coverage_a == pytest.approx(20 / 27)
    assert response.coverage_b == pytest.approx(20 / 22)
    assert response.exact_jaccard == pytest.approx(16 / (23 + 18 - 16))
    assert response.html.startswith("<!DOCTYPE html>")
    assert "Another «start» — " in response.html
    plain = await running.stub.Compare(text_pb2.CompareRequest(a=a, b=OTHER, min_words=5), timeout=10)
    assert (list(plain.passages), plain.html, plain.min_words) == ([], "", 5)

    for request, code in [
        (text_pb2.CompareRequest(a="", b=b), grpc.StatusCode.INVALID_ARGUMENT),
        (text_pb2.CompareRequest(a=a, b=b, min_words=1), grpc.StatusCode.INVALID_ARGUMENT),
        (text_pb2.CompareRequest(a=a, b="x" * 10_001), grpc.StatusCode.RESOURCE_EXHAUSTED),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await running.stub.Compare(request, timeout=10)
        assert error.value.code() == code
