"""Synchronous text endpoints: answers in the response, for inputs that fit one request."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from clipsift.text.v1 import text_pb2
from clipsift_common.errors import InvalidArgument

from ..auth import Principal
from ..csv_export import duplicates_csv, semantic_csv, wants_csv
from ..permissions import Permission, requires
from .bodies import Text, as_dict, check_size
from .deps import Settings, TextService
from .proto_models import reply_model
from .schemas import ReplyRouter, alternatives

router = ReplyRouter(prefix="/v1/text", tags=["text"])


class SimilarityIn(BaseModel):
    a: Text = Field(description="First text")
    b: Text = Field(description="Second text")
    shingle_size: int | None = Field(default=None, ge=1, le=32, description="Words per shingle (default 5)")


class DocumentIn(BaseModel):
    id: Text = Field(min_length=1, max_length=512)
    text: Text


class DuplicatesIn(BaseModel):
    documents: list[DocumentIn] = Field(min_length=1)
    threshold: float | None = Field(default=None, gt=0, le=1, description="Minimum Jaccard (default 0.8)")
    shingle_size: int | None = Field(default=None, ge=1, le=32)


class SemanticDuplicatesIn(BaseModel):
    documents: list[DocumentIn] = Field(min_length=1)
    # Checked in the handler rather than by the schema: an out-of-range threshold is a 400 with the
    # text service's own message, as every other bad value of a search is.
    threshold: float | None = Field(default=None, description="Minimum cosine, in (0, 1] (default 0.85)")


@router.post("/similarity", response_model=reply_model(text_pb2.SimilarityResponse.DESCRIPTOR))
async def similarity(
    body: SimilarityIn,
    principal: Annotated[Principal, requires(Permission.ANALYZE)],
    text: TextService,
    settings: Settings,
) -> dict[str, Any]:
    """Jaccard similarity of two texts over word shingles: the MinHash estimate and the exact value."""
    check_size(settings, [body.a, body.b])
    reply = await text.call(
        text.stub.Similarity,
        text_pb2.SimilarityRequest(
            a=body.a, b=body.b, options=text_pb2.ShingleOptions(shingle_size=body.shingle_size or 0)
        ),
    )
    return as_dict(reply)


CsvFormat = Annotated[Literal["json", "csv"] | None, Query(description="json or csv (or Accept: text/csv)")]


@router.post(
    "/duplicates",
    response_model=reply_model(text_pb2.FindDuplicatesResponse.DESCRIPTOR),
    responses=alternatives("text/csv"),
)
async def duplicates(
    body: DuplicatesIn,
    request: Request,
    principal: Annotated[Principal, requires(Permission.ANALYZE)],
    text: TextService,
    settings: Settings,
    format: CsvFormat = None,
) -> dict[str, Any] | Response:
    """Near-duplicate clusters among the given documents (every pair verified by exact Jaccard)."""
    check_size(settings, [d.text for d in body.documents])
    reply = await text.call(
        text.stub.FindDuplicates,
        text_pb2.FindDuplicatesRequest(
            documents=[text_pb2.Document(id=d.id, text=d.text) for d in body.documents],
            threshold=body.threshold or 0.0,
            options=text_pb2.ShingleOptions(shingle_size=body.shingle_size or 0),
        ),
    )
    result = as_dict(reply)
    return duplicates_csv(result, "duplicates.csv") if wants_csv(request, format) else result


@router.post(
    "/semantic-duplicates",
    response_model=reply_model(text_pb2.FindSemanticDuplicatesResponse.DESCRIPTOR),
    responses=alternatives("text/csv"),
)
async def semantic_duplicates(
    body: SemanticDuplicatesIn,
    request: Request,
    principal: Annotated[Principal, requires(Permission.ANALYZE)],
    text: TextService,
    settings: Settings,
    format: CsvFormat = None,
) -> dict[str, Any] | Response:
    """Paraphrase-level duplicate clusters: documents whose sentence embeddings (all-MiniLM-L6-v2
    by default) have a cosine similarity of at least ``threshold``."""
    # 0 means "server default" on the wire, so an explicit 0 must be refused here.
    if body.threshold is not None and not 0.0 < body.threshold <= 1.0:
        raise InvalidArgument(f"threshold must be in (0, 1], got {body.threshold}")
    check_size(settings, [d.text for d in body.documents])
    reply = await text.call(
        text.stub.FindSemanticDuplicates,
        text_pb2.FindSemanticDuplicatesRequest(
            documents=[text_pb2.Document(id=d.id, text=d.text) for d in body.documents],
            threshold=body.threshold or 0.0,
        ),
    )
    result = as_dict(reply)
    return semantic_csv(result, "semantic-duplicates.csv") if wants_csv(request, format) else result
