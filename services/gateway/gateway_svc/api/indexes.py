"""Persistent per-tenant indexes: add documents, ask "have we published this before?", compare a
document against everything indexed. The tenant is always the caller's; another tenant's index
answers 404 exactly like one that does not exist."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import grpc
from fastapi import Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from clipsift.text.v1 import index_pb2, text_pb2
from clipsift_common.errors import InvalidArgument, NotFound

from ..auth import Principal
from ..csv_export import index_query_csv, wants_csv
from ..permissions import Permission, requires
from ..submission import submit_corpus
from .bodies import Text, as_dict, check_size
from .deps import IndexService, Settings
from .params import Plain, plain_schema
from .proto_models import Reply, reply_model
from .schemas import JobView, ReplyRouter, alternatives, request_body

router = ReplyRouter(prefix="/v1/indexes", tags=["indexes"])
JSON_TYPES = {"application/json", ""}
IndexName = Annotated[str, Path(description="Index name: 1-128 letters, digits, '.', '_' or '-'")]


class IndexedDocumentIn(BaseModel):
    id: Text = Field(min_length=1, max_length=512)
    text: Text
    title: Text = Field(default="", max_length=2048)


class AddIn(BaseModel):
    documents: list[IndexedDocumentIn] = Field(min_length=1)
    semantic: bool = Field(
        default=False,
        description="Also store embeddings for semantic queries (only when this creates the index)",
    )


class QueryIn(BaseModel):
    text: Text
    threshold: float | None = Field(default=None, description="Minimum Jaccard, in (0, 1] (default 0.8)")
    limit: int | None = Field(default=None, ge=1, le=100_000, description="Matches per kind (default 10)")
    semantic: bool = Field(default=False, description="Also return the nearest documents by embedding")
    semantic_threshold: float | None = Field(
        default=None, description="Minimum cosine, in (0, 1] (default 0.85)"
    )


class CompareIn(BaseModel):
    text: Text
    limit: int | None = Field(
        default=None, ge=1, le=100, description="Indexed documents reported (default 5)"
    )
    min_words: int | None = Field(default=None, ge=0, lt=2**32, description="Shortest passage, 3-100 words")


class DeletedIndex(Reply):
    deleted_documents: int = Field(description="Documents the index held")


# format=json drops each match's HTML report, asked for only with format=html.
_IndexMatchReport = reply_model(
    text_pb2.CompareResponse.DESCRIPTOR, name="IndexMatchReport", omit=frozenset({"html"})
)
IndexComparisons = reply_model(
    index_pb2.CompareToIndexResponse.DESCRIPTOR,
    name="IndexComparisons",
    fields={
        "matches": (
            list[  # type: ignore[misc]
                reply_model(
                    index_pb2.IndexComparison.DESCRIPTOR,
                    name="IndexComparisonJson",
                    fields={"report": (_IndexMatchReport, ...)},
                )
            ],
            ...,
        )
    },
)


def _unit(name: str, value: float | None) -> float:
    # 0 means "server default" on the wire, so an explicit 0 must be refused here.
    if value is not None and not 0.0 < value <= 1.0:
        raise InvalidArgument(f"{name} must be in (0, 1], got {value}")
    return value or 0.0


@router.get("", response_model=reply_model(index_pb2.ListIndexesResponse.DESCRIPTOR))
async def list_indexes(
    principal: Annotated[Principal, requires(Permission.INDEXES_READ)], indexes: IndexService
) -> dict[str, Any]:
    """The caller's indexes with their sizes."""
    reply = await indexes.call(
        indexes.stub.ListIndexes, index_pb2.ListIndexesRequest(tenant=principal.tenant_id)
    )
    return as_dict(reply)


@router.get("/{name}", response_model=reply_model(index_pb2.IndexInfo.DESCRIPTOR))
async def get_index(
    name: IndexName, principal: Annotated[Principal, requires(Permission.INDEXES_READ)], indexes: IndexService
) -> dict[str, Any]:
    reply = await indexes.call(
        indexes.stub.GetIndex, index_pb2.GetIndexRequest(tenant=principal.tenant_id, index=name)
    )
    return as_dict(reply)


@router.delete("/{name}", response_model=DeletedIndex)
async def delete_index(
    name: IndexName,
    principal: Annotated[Principal, requires(Permission.INDEXES_WRITE)],
    indexes: IndexService,
) -> dict[str, Any]:
    """Delete the index and every document in it."""
    reply = await indexes.call(
        indexes.stub.DeleteIndex, index_pb2.DeleteIndexRequest(tenant=principal.tenant_id, index=name)
    )
    return {"deleted_documents": reply.documents}


@router.post(
    "/{name}/documents",
    response_model=reply_model(index_pb2.AddDocumentsResponse.DESCRIPTOR),
    responses={202: {"model": JobView, "description": "A corpus upload became an index job"}},
    openapi_extra=request_body(
        "Documents as JSON, or a corpus: a zip of .txt files or JSONL",
        json=AddIn,
        binary=("application/zip", "application/jsonl"),
    ),
)
async def add_documents(
    name: IndexName,
    request: Request,
    principal: Annotated[Principal, requires(Permission.INDEXES_WRITE)],
    indexes: IndexService,
    settings: Settings,
    semantic: Annotated[
        bool, Query(description="For corpus uploads: create the index with embeddings")
    ] = False,
) -> dict[str, Any] | Response:
    """Add documents (an id already in the index replaces its document).

    ``application/json`` (``{"documents": [{"id", "text", "title"?}], "semantic"?}``) adds them now
    and answers 200. A corpus — ``application/zip`` (.txt files, ids are their paths) or
    ``application/jsonl`` (one ``{"id", "text", "title"?}`` per line) — becomes an index job: 202
    with the job, whose progress streams like any job's (``/v1/jobs/{id}/events``).
    """
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media not in JSON_TYPES:
        # The name is checked by the text service when the job runs; catch the obvious now.
        await _require_valid_name(indexes, principal, name)
        job = await submit_corpus(
            request, principal.tenant_id, "index", {"index": name, "semantic": semantic}
        )
        return Response(json.dumps(job).encode(), status_code=202, media_type="application/json")
    try:
        body = AddIn.model_validate_json(await request.body())
    except ValueError as exc:
        raise InvalidArgument(f"invalid request body: {exc}") from None
    check_size(settings, [d.text for d in body.documents])
    reply = await indexes.call(
        indexes.stub.AddDocuments,
        index_pb2.AddDocumentsRequest(
            tenant=principal.tenant_id,
            index=name,
            documents=[
                index_pb2.IndexedDocument(id=d.id, text=d.text, title=d.title) for d in body.documents
            ],
            options=index_pb2.IndexOptions(semantic=body.semantic),
        ),
    )
    return as_dict(reply)


async def _require_valid_name(indexes: IndexService, principal: Principal, name: str) -> None:
    """Ask the text service (the owner of the naming rule) about ``name``: a missing index is fine
    (the job creates it), an invalid name is a 400 before any upload is stored."""
    try:
        await indexes.call(
            indexes.stub.GetIndex, index_pb2.GetIndexRequest(tenant=principal.tenant_id, index=name)
        )
    except grpc.aio.AioRpcError as exc:
        if exc.code() != grpc.StatusCode.NOT_FOUND:
            raise


@router.delete(
    "/{name}/documents/{document_id:path}",
    response_model=reply_model(index_pb2.DeleteDocumentResponse.DESCRIPTOR),
)
async def delete_document(
    name: IndexName,
    document_id: Annotated[Plain, Path(max_length=512, json_schema_extra=plain_schema())],
    principal: Annotated[Principal, requires(Permission.INDEXES_WRITE)],
    indexes: IndexService,
) -> dict[str, Any]:
    reply = await indexes.call(
        indexes.stub.DeleteDocument,
        index_pb2.DeleteDocumentRequest(tenant=principal.tenant_id, index=name, id=document_id),
    )
    return {"documents": reply.documents}


@router.post(
    "/{name}/query",
    response_model=reply_model(index_pb2.QueryResponse.DESCRIPTOR),
    responses=alternatives("text/csv"),
)
async def query_index(
    name: IndexName,
    body: QueryIn,
    request: Request,
    principal: Annotated[Principal, requires(Permission.INDEXES_READ)],
    indexes: IndexService,
    settings: Settings,
    format: Annotated[Literal["json", "csv"] | None, Query(description="json or csv (or Accept)")] = None,
) -> dict[str, Any] | Response:
    """Indexed near-duplicates of ``text`` (exact Jaccard), and with ``semantic`` its nearest
    indexed documents by embedding, each with its score."""
    check_size(settings, [body.text])
    reply = await indexes.call(
        indexes.stub.Query,
        index_pb2.QueryRequest(
            tenant=principal.tenant_id,
            index=name,
            text=body.text,
            threshold=_unit("threshold", body.threshold),
            limit=body.limit or 0,
            semantic=body.semantic,
            semantic_threshold=_unit("semantic_threshold", body.semantic_threshold),
        ),
    )
    result = as_dict(reply)
    if wants_csv(request, format):
        return index_query_csv(result, f"{name}-query.csv")
    return result


@router.post("/{name}/compare", response_model=IndexComparisons, responses=alternatives("text/html"))
async def compare_to_index(
    name: IndexName,
    body: CompareIn,
    principal: Annotated[Principal, requires(Permission.INDEXES_READ)],
    indexes: IndexService,
    settings: Settings,
    format: Annotated[
        Literal["json", "html"], Query(description="json, or html for one match's report")
    ] = "json",
    match: Annotated[int, Query(ge=1, description="With format=html: which match's report (1 = best)")] = 1,
) -> dict[str, Any] | HTMLResponse:
    """Plagiarism report against the index: the indexed documents sharing passages with ``text``,
    each with the passages (character offsets in both) and the share of each document covered."""
    check_size(settings, [body.text])
    reply = await indexes.call(
        indexes.stub.CompareToIndex,
        index_pb2.CompareToIndexRequest(
            tenant=principal.tenant_id,
            index=name,
            text=body.text,
            limit=body.limit or 0,
            min_words=body.min_words or 0,
            html=format == "html",
        ),
    )
    if format == "html":
        if match > len(reply.matches):
            raise NotFound(
                f"no match {match}: {len(reply.matches)} indexed documents share passages with the text"
            )
        return HTMLResponse(reply.matches[match - 1].report.html)
    result = as_dict(reply)
    for item in result["matches"]:
        del item["report"]["html"]  # only asked for with format=html
    return result
