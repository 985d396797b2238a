"""IndexService through a real in-process gRPC server against real PostgreSQL: near-duplicate and
semantic queries, passage comparison, restart survival, tenant isolation and bad input."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from psycopg_pool import AsyncConnectionPool

from clipsift.text.v1 import index_pb2, index_pb2_grpc
from clipsift_common.grpc_server import GrpcServer, ServiceBinding
from clipsift_common.objectstore import open_blob_store
from text_svc.dedup.detector import Detector
from text_svc.embeddings import Embedder, EmbeddingModel
from text_svc.index.servicer import IndexServicer
from text_svc.index.setup import open_text_index
from text_svc.settings import TextSettings

pytestmark = pytest.mark.integration

LICENSES = Path("/usr/share/common-licenses")
NAMES = ["Apache-2.0", "BSD", "GPL-2", "GPL-3", "LGPL-2.1", "MPL-2.0", "Artistic", "CC0-1.0"]
TEXTS = {name: (LICENSES / name).read_text() for name in NAMES}
PARKS = "The city council approved a new budget for public parks and playgrounds on Tuesday evening."
PARKS_PARAPHRASE = "On Tuesday night, city officials passed funding for playgrounds and public parks."
WEATHER = "Heavy snow is expected across the northern mountains this weekend, with roads likely closed."


def _perturbed(text: str, seed: int = 1, edits: int = 8) -> str:
    """A near copy: ``edits`` words dropped at random."""
    rng = random.Random(seed)
    words = text.split()
    for _ in range(edits):
        del words[rng.randrange(len(words))]
    return " ".join(words)


@dataclass
class Service:
    server: GrpcServer
    pool: AsyncConnectionPool
    channel: grpc.aio.Channel
    stub: index_pb2_grpc.IndexServiceStub
    embedder: Embedder

    async def stop(self) -> None:
        await self.channel.close()
        await self.server.stop()
        await self.embedder.close()
        await self.pool.close()


Start = Callable[..., Awaitable[Service]]


@pytest.fixture
async def start(database_url: str, tmp_path: Path, embedding_model: EmbeddingModel) -> AsyncIterator[Start]:
    """Starts IndexService processes' worth of objects on one database and blob folder."""
    running: list[Service] = []

    async def start_service(url: str = database_url, **overrides: Any) -> Service:
        settings = TextSettings(
            grpc_port=0,
            grpc_host="127.0.0.1",
            grpc_grace_seconds=0,
            nats_url="nats://unused",
            blob_dir=tmp_path / "blobs",
            database_url=url,
            **overrides,
        )
        embedder = Embedder(settings, embedding_model)
        index, pool = await open_text_index(settings, Detector(settings), embedder, open_blob_store(settings))
        server = GrpcServer(
            settings,
            [ServiceBinding(index_pb2_grpc.add_IndexServiceServicer_to_server, IndexServicer(index))],
        )
        port = await server.start()
        await server.set_serving()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        service = Service(server, pool, channel, index_pb2_grpc.IndexServiceStub(channel), embedder)
        running.append(service)
        return service

    yield start_service
    for service in running:
        await service.stop()


def _docs(names: list[str]) -> list[index_pb2.IndexedDocument]:
    return [index_pb2.IndexedDocument(id=n, text=TEXTS[n], title=f"{n} licence") for n in names]


async def _add(
    stub: index_pb2_grpc.IndexServiceStub, tenant: str, index: str, docs: Any, semantic: bool = False
) -> Any:
    return await stub.AddDocuments(
        index_pb2.AddDocumentsRequest(
            tenant=tenant, index=index, documents=docs, options=index_pb2.IndexOptions(semantic=semantic)
        ),
        timeout=60,
    )


async def test_query_finds_near_duplicates_with_verified_scores(start: Start) -> None:
    service = await start()
    stub = service.stub
    added = await _add(stub, "acme", "news", _docs(NAMES))
    assert (added.added, added.replaced, added.documents, added.created) == (len(NAMES), 0, len(NAMES), True)

    near = await stub.Query(
        index_pb2.QueryRequest(tenant="acme", index="news", text=_perturbed(TEXTS["GPL-3"]))
    )
    [match] = near.matches
    assert (match.id, match.title, match.exact) == ("GPL-3", "GPL-3 licence", False)
    assert 0.8 <= match.jaccard < 1.0
    assert near.threshold == 0.8
    assert near.documents == len(NAMES)
    assert near.candidates >= 1

    # Case and whitespace do not matter to an exact match.
    exact = await stub.Query(
        index_pb2.QueryRequest(
            tenant="acme", index="news", text="  " + TEXTS["BSD"].upper().replace("\n", " \n ")
        )
    )
    assert [(m.id, m.jaccard, m.exact) for m in exact.matches] == [("BSD", 1.0, True)]

    unrelated = await stub.Query(
        index_pb2.QueryRequest(tenant="acme", index="news", text=(LICENSES / "GFDL-1.3").read_text())
    )
    assert list(unrelated.matches) == []

    # A heavier edit is below 0.8 but found at a lower threshold, with the Jaccard it really has.
    heavy = _perturbed(TEXTS["Apache-2.0"], seed=2, edits=60)
    strict = await stub.Query(index_pb2.QueryRequest(tenant="acme", index="news", text=heavy))
    loose = await stub.Query(index_pb2.QueryRequest(tenant="acme", index="news", text=heavy, threshold=0.5))
    assert list(strict.matches) == []
    [found] = loose.matches
    assert found.id == "Apache-2.0"
    assert 0.5 <= found.jaccard < 0.8


async def test_adding_an_existing_id_replaces_and_delete_removes(start: Start) -> None:
    stub = (await start()).stub
    await _add(stub, "acme", "news", _docs(["GPL-2", "BSD"]))
    replaced = await _add(
        stub, "acme", "news", [index_pb2.IndexedDocument(id="GPL-2", text=TEXTS["MPL-2.0"])]
    )
    assert (replaced.added, replaced.replaced, replaced.documents, replaced.created) == (0, 1, 2, False)
    old = await stub.Query(index_pb2.QueryRequest(tenant="acme", index="news", text=TEXTS["GPL-2"]))
    assert list(old.matches) == []
    new = await stub.Query(index_pb2.QueryRequest(tenant="acme", index="news", text=TEXTS["MPL-2.0"]))
    assert [m.id for m in new.matches] == ["GPL-2"]

    left = await stub.DeleteDocument(index_pb2.DeleteDocumentRequest(tenant="acme", index="news", id="GPL-2"))
    assert left.documents == 1
    gone = await stub.Query(index_pb2.QueryRequest(tenant="acme", index="news", text=TEXTS["MPL-2.0"]))
    assert list(gone.matches) == []
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.DeleteDocument(index_pb2.DeleteDocumentRequest(tenant="acme", index="news", id="GPL-2"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND

    info = await stub.GetIndex(index_pb2.GetIndexRequest(tenant="acme", index="news"))
    assert (info.name, info.documents, info.semantic, info.num_perm) == ("news", 1, False, 128)
    assert info.bands * info.rows <= info.num_perm
    deleted = await stub.DeleteIndex(index_pb2.DeleteIndexRequest(tenant="acme", index="news"))
    assert deleted.documents == 1
    listed = await stub.ListIndexes(index_pb2.ListIndexesRequest(tenant="acme"))
    assert list(listed.indexes) == []


async def test_index_survives_a_service_restart(start: Start, tmp_path: Path) -> None:
    first = await start()
    await _add(first.stub, "acme", "archive", _docs(NAMES))
    parks = [
        index_pb2.IndexedDocument(id="parks", text=PARKS),
        index_pb2.IndexedDocument(id="weather", text=WEATHER),
    ]
    await _add(first.stub, "acme", "stories", parks, semantic=True)
    await first.stop()

    second = await start()  # same database, same blob folder, nothing carried in memory
    near = await second.stub.Query(
        index_pb2.QueryRequest(tenant="acme", index="archive", text=_perturbed(TEXTS["LGPL-2.1"]))
    )
    assert [m.id for m in near.matches] == ["LGPL-2.1"]
    close = await second.stub.Query(
        index_pb2.QueryRequest(
            tenant="acme", index="stories", text=PARKS_PARAPHRASE, semantic=True, semantic_threshold=0.5
        )
    )
    assert [m.id for m in close.semantic_matches] == ["parks"]
    listed = await second.stub.ListIndexes(index_pb2.ListIndexesRequest(tenant="acme"))
    assert [(i.name, i.documents, i.semantic) for i in listed.indexes] == [
        ("archive", len(NAMES), False),
        ("stories", 2, True),
    ]


async def test_a_tenant_never_sees_another_tenants_index(start: Start) -> None:
    stub = (await start()).stub
    await _add(stub, "acme", "news", _docs(["GPL-3"]))
    for call, request in (
        (stub.Query, index_pb2.QueryRequest(tenant="globex", index="news", text=TEXTS["GPL-3"])),
        (stub.GetIndex, index_pb2.GetIndexRequest(tenant="globex", index="news")),
        (stub.DeleteIndex, index_pb2.DeleteIndexRequest(tenant="globex", index="news")),
        (stub.DeleteDocument, index_pb2.DeleteDocumentRequest(tenant="globex", index="news", id="GPL-3")),
        (
            stub.CompareToIndex,
            index_pb2.CompareToIndexRequest(tenant="globex", index="news", text=TEXTS["BSD"]),
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await call(request)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND
        assert error.value.details() == "index 'news' not found"
    assert list((await stub.ListIndexes(index_pb2.ListIndexesRequest(tenant="globex"))).indexes) == []
    # The same name is another index for another tenant.
    await _add(stub, "globex", "news", _docs(["BSD"]))
    theirs = await stub.Query(index_pb2.QueryRequest(tenant="globex", index="news", text=TEXTS["GPL-3"]))
    assert list(theirs.matches) == []
    ours = await stub.Query(index_pb2.QueryRequest(tenant="acme", index="news", text=TEXTS["GPL-3"]))
    assert [m.id for m in ours.matches] == ["GPL-3"]


@pytest.mark.parametrize(
    ("documents", "code", "message"),
    [
        ([], grpc.StatusCode.INVALID_ARGUMENT, "no documents given"),
        ([("a", "")], grpc.StatusCode.INVALID_ARGUMENT, "document 'a' is empty"),
        ([("a", " \n\t ")], grpc.StatusCode.INVALID_ARGUMENT, "document 'a' is empty"),
        ([("a", "PK\x03\x04\x00\x00binary")], grpc.StatusCode.INVALID_ARGUMENT, "looks like binary data"),
        ([("a", "ok text here"), ("b", "x" * 5001)], grpc.StatusCode.RESOURCE_EXHAUSTED, "the limit is 5000"),
        ([("a", "!!! ??? ...")], grpc.StatusCode.INVALID_ARGUMENT, "document 'a' contains no words"),
        ([("a", "one"), ("a", "two")], grpc.StatusCode.INVALID_ARGUMENT, "duplicate document id 'a'"),
        ([("", "text")], grpc.StatusCode.INVALID_ARGUMENT, "every document needs a non-empty id"),
    ],
    ids=["none", "empty", "blank", "binary", "too-long", "no-words", "duplicate-id", "no-id"],
)
async def test_bad_documents_are_refused_and_nothing_is_written(
    start: Start, documents: list[tuple[str, str]], code: grpc.StatusCode, message: str
) -> None:
    stub = (await start(max_document_chars=5000)).stub
    docs = [index_pb2.IndexedDocument(id=i, text=t) for i, t in documents]
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await _add(stub, "acme", "news", docs)
    assert error.value.code() == code
    assert message in error.value.details()
    assert list((await stub.ListIndexes(index_pb2.ListIndexesRequest(tenant="acme"))).indexes) == []


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"threshold": 1.5}, "threshold must be in (0, 1], got 1.5"),
        ({"threshold": -0.2}, "threshold must be in (0, 1], got -0.2"),
        ({"semantic_threshold": 2.0}, "semantic_threshold must be in (0, 1], got 2.0"),
        ({"text": ""}, "the query text is empty"),
        ({"text": "\x00\x01\x02 binary"}, "the query text looks like binary data"),
        ({"index": "../etc"}, "index name '../etc' must be"),
        ({"tenant": ""}, "tenant is required"),
        ({"limit": 5000}, "limit must be at most 1000"),
        ({"semantic": True}, "index 'news' was created without embeddings"),
    ],
    ids=["high", "negative", "cosine", "empty", "binary", "bad-name", "no-tenant", "limit", "not-semantic"],
)
async def test_bad_queries_get_a_clear_error(
    start: Start, request_fields: dict[str, Any], message: str
) -> None:
    stub = (await start()).stub
    await _add(stub, "acme", "news", _docs(["BSD"]))
    fields = {"tenant": "acme", "index": "news", "text": TEXTS["BSD"], **request_fields}
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Query(index_pb2.QueryRequest(**fields))
    assert error.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION)
    assert message in error.value.details()


async def test_compare_to_index_reports_the_copied_passage(start: Start) -> None:
    stub = (await start()).stub
    await _add(stub, "acme", "news", _docs(NAMES))
    apache = TEXTS["Apache-2.0"]
    paragraph = apache[apache.index('"Derivative Works" shall mean') + 1 : apache.index("thereof.") + 7]
    host = f"Our own opening words about this project and its aims.\n\n{paragraph}.\n\nAnd our closing words."
    response = await stub.CompareToIndex(
        index_pb2.CompareToIndexRequest(tenant="acme", index="news", text=host, html=True)
    )
    top = response.matches[0]
    assert top.id == "Apache-2.0"
    [passage] = top.report.passages
    start_b = apache.index(paragraph)
    assert (passage.b_start, passage.b_end) == (start_b, start_b + len(paragraph))
    assert host[passage.a_start : passage.a_end] == paragraph
    assert top.report.coverage_a > 0.8
    assert response.coverage >= top.report.coverage_a
    assert top.report.html.startswith("<!DOCTYPE html>")
    assert "Apache-2.0 licence" in top.report.html


@pytest.fixture(scope="module")
def pgvector_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A PostgreSQL 18 with pgvector (the embedded server `clipsift up` runs), for the HNSW path."""
    from clipsift_cli.embedded import EmbeddedPostgres

    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg18") / "pgdata")
    yield server.start("index_test")
    server.stop()


@pytest.mark.parametrize("backend", ["blob", "pgvector"])
async def test_semantic_query_finds_paraphrases(
    start: Start, backend: str, request: pytest.FixtureRequest
) -> None:
    url = (
        request.getfixturevalue("pgvector_url")
        if backend == "pgvector"
        else request.getfixturevalue("database_url")
    )
    service = await start(url, index_vector_backend=backend)
    docs = [
        index_pb2.IndexedDocument(id="parks", text=PARKS, title="Parks budget"),
        index_pb2.IndexedDocument(id="weather", text=WEATHER),
        *_docs(["BSD", "GPL-3"]),
    ]
    await _add(service.stub, "acme", f"stories-{backend}", docs, semantic=True)
    response = await service.stub.Query(
        index_pb2.QueryRequest(
            tenant="acme",
            index=f"stories-{backend}",
            text=PARKS_PARAPHRASE,
            semantic=True,
            semantic_threshold=0.5,
        )
    )
    assert response.vector_backend == backend
    assert list(response.matches) == []  # different words: no near-duplicate
    [match] = response.semantic_matches
    assert (match.id, match.title) == ("parks", "Parks budget")
    assert 0.5 <= match.cosine <= 1.0
    # Deleted documents never come back from the vector index.
    await service.stub.DeleteDocument(
        index_pb2.DeleteDocumentRequest(tenant="acme", index=f"stories-{backend}", id="parks")
    )
    after = await service.stub.Query(
        index_pb2.QueryRequest(
            tenant="acme",
            index=f"stories-{backend}",
            text=PARKS_PARAPHRASE,
            semantic=True,
            semantic_threshold=0.5,
        )
    )
    assert list(after.semantic_matches) == []
    if backend == "pgvector":
        await service.stub.DeleteIndex(
            index_pb2.DeleteIndexRequest(tenant="acme", index=f"stories-{backend}")
        )


async def test_blob_vector_segments_are_compacted(start: Start, tmp_path: Path) -> None:
    service = await start(index_vector_backend="blob", index_max_segments=2)
    texts = [PARKS, WEATHER, *(TEXTS[n] for n in NAMES[:4])]
    for number, text in enumerate(texts):
        await _add(
            service.stub,
            "acme",
            "small",
            [index_pb2.IndexedDocument(id=f"d{number}", text=text)],
            semantic=True,
        )
    # The segments lie under the tenant's prefix, one folder per segment.
    [folder] = (tmp_path / "blobs" / "tenants" / "acme" / "indexes" / "small").iterdir()
    assert 1 <= len(list(folder.glob("*/vectors.npz"))) <= 2
    for number, text in enumerate(texts):
        response = await service.stub.Query(
            index_pb2.QueryRequest(
                tenant="acme", index="small", text=text, semantic=True, limit=10, semantic_threshold=1e-6
            )
        )
        ids = [m.id for m in response.semantic_matches]
        # Every vector survived compaction, each once (the compacted segment repeats older ones).
        assert ids[0] == f"d{number}"
        assert response.semantic_matches[0].cosine == pytest.approx(1.0, abs=1e-5)
        assert len(ids) == len(set(ids))
