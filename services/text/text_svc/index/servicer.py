"""gRPC IndexService: persistent per-tenant indexes (see text_index.py)."""

from __future__ import annotations

import grpc

from clipsift.text.v1 import index_pb2, index_pb2_grpc
from clipsift_common.errors import Unavailable

from ..dedup.servicer import compare_response
from .store import IndexRecord
from .text_index import Document, Match, TextIndex


def _match(m: Match) -> index_pb2.IndexMatch:
    return index_pb2.IndexMatch(id=m.id, title=m.title, jaccard=m.jaccard, exact=m.exact, cosine=m.cosine)


def index_info(record: IndexRecord, vector_backend: str) -> index_pb2.IndexInfo:
    return index_pb2.IndexInfo(
        name=record.name,
        documents=record.documents,
        semantic=record.semantic,
        num_perm=record.num_perm,
        bands=record.bands,
        rows=record.rows,
        shingle_size=record.shingle_size,
        created_at=record.created_at.isoformat(),
        updated_at=record.updated_at.isoformat(),
        vector_backend=vector_backend if record.semantic else "",
    )


class IndexServicer(index_pb2_grpc.IndexServiceServicer):
    def __init__(self, index: TextIndex | None) -> None:
        # None when the service runs without a database: everything else still works.
        self._index = index

    @property
    def index(self) -> TextIndex:
        if self._index is None:
            raise Unavailable("persistent indexes are not enabled on this server (no database configured)")
        return self._index

    async def AddDocuments(
        self, request: index_pb2.AddDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> index_pb2.AddDocumentsResponse:
        result = await self.index.add(
            request.tenant,
            request.index,
            [Document(d.id, d.text, d.title) for d in request.documents],
            request.options.semantic,
        )
        outcome = result.outcome
        return index_pb2.AddDocumentsResponse(
            added=outcome.added,
            replaced=outcome.replaced,
            documents=outcome.documents,
            created=result.created,
        )

    async def Query(
        self, request: index_pb2.QueryRequest, context: grpc.aio.ServicerContext
    ) -> index_pb2.QueryResponse:
        result = await self.index.query(
            request.tenant,
            request.index,
            request.text,
            request.threshold,
            request.limit,
            request.semantic,
            request.semantic_threshold,
        )
        return index_pb2.QueryResponse(
            matches=[_match(m) for m in result.matches],
            semantic_matches=[_match(m) for m in result.semantic_matches],
            threshold=result.threshold,
            semantic_threshold=result.semantic_threshold,
            candidates=result.candidates,
            documents=result.documents,
            vector_backend=result.vector_backend,
        )

    async def CompareToIndex(
        self, request: index_pb2.CompareToIndexRequest, context: grpc.aio.ServicerContext
    ) -> index_pb2.CompareToIndexResponse:
        result = await self.index.compare(
            request.tenant, request.index, request.text, request.limit, request.min_words, request.html
        )
        return index_pb2.CompareToIndexResponse(
            matches=[
                index_pb2.IndexComparison(
                    id=m.id, title=m.title, report=compare_response(m.comparison, m.html)
                )
                for m in result.matches
            ],
            coverage=result.coverage,
            words=result.words,
            candidates=result.candidates,
        )

    async def DeleteDocument(
        self, request: index_pb2.DeleteDocumentRequest, context: grpc.aio.ServicerContext
    ) -> index_pb2.DeleteDocumentResponse:
        left = await self.index.delete_document(request.tenant, request.index, request.id)
        return index_pb2.DeleteDocumentResponse(documents=left)

    async def DeleteIndex(
        self, request: index_pb2.DeleteIndexRequest, context: grpc.aio.ServicerContext
    ) -> index_pb2.DeleteIndexResponse:
        left = await self.index.delete_index(request.tenant, request.index)
        return index_pb2.DeleteIndexResponse(documents=left)

    async def ListIndexes(
        self, request: index_pb2.ListIndexesRequest, context: grpc.aio.ServicerContext
    ) -> index_pb2.ListIndexesResponse:
        records = await self.index.list_indexes(request.tenant)
        backend = self.index.vector_backend
        return index_pb2.ListIndexesResponse(indexes=[index_info(r, backend) for r in records])

    async def GetIndex(
        self, request: index_pb2.GetIndexRequest, context: grpc.aio.ServicerContext
    ) -> index_pb2.IndexInfo:
        record = await self.index.get(request.tenant, request.index)
        return index_info(record, self.index.vector_backend)
