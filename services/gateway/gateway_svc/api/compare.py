"""Plagiarism report: the passages two texts share, as JSON or as a side-by-side HTML page."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from clipsift.text.v1 import text_pb2

from ..auth import Principal
from ..permissions import Permission, requires
from .bodies import Text, as_dict, check_size
from .deps import Settings, TextService
from .proto_models import reply_model
from .schemas import ReplyRouter, alternatives

router = ReplyRouter(prefix="/v1/text", tags=["text"])


class CompareIn(BaseModel):
    a: Text = Field(description="First document")
    b: Text = Field(description="Second document")
    # Only the wire range is checked here: the text service owns the 3..100 rule and answers
    # INVALID_ARGUMENT (HTTP 400) with the reason, so the rule lives in one place.
    min_words: int | None = Field(
        default=None, ge=0, lt=2**32, description="Shortest passage reported, in words: 3 to 100 (default 8)"
    )


@router.post(
    "/compare",
    # The HTML rendering is only sent with format=html.
    response_model=reply_model(
        text_pb2.CompareResponse.DESCRIPTOR, name="TextComparison", omit=frozenset({"html"})
    ),
    responses=alternatives("text/html"),
)
async def compare(
    body: CompareIn,
    principal: Annotated[Principal, requires(Permission.ANALYZE)],
    text: TextService,
    settings: Settings,
    format: Annotated[Literal["json", "html"], Query(description="json, or html for the report")] = "json",
) -> dict[str, Any] | HTMLResponse:
    """Shared passages with character offsets (Unicode code points, end exclusive) into both
    original texts, the share of each text they cover, and the exact Jaccard of the pair."""
    check_size(settings, [body.a, body.b])
    reply = await text.call(
        text.stub.Compare,
        text_pb2.CompareRequest(a=body.a, b=body.b, min_words=body.min_words or 0, html=format == "html"),
    )
    if format == "html":
        return HTMLResponse(reply.html)
    result = as_dict(reply)
    del result["html"]  # only asked for with format=html
    return result
