"""Text analysis: language, sentiment, keywords, readability and named entities of one text."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from clipsift.text.v1 import analysis_pb2

from ..auth import Principal
from ..permissions import Permission, requires
from .bodies import Text, as_dict, check_size
from .deps import AnalysisService, Settings
from .proto_models import reply_model
from .schemas import ReplyRouter

router = ReplyRouter(prefix="/v1/text", tags=["text"])


class AnalyzeIn(BaseModel):
    text: Text = Field(description="The text to analyse")
    # Only the shape is checked here: the text service knows which languages it serves and answers
    # INVALID_ARGUMENT (HTTP 400) for others, so that list lives in one place.
    language: str | None = Field(
        default=None, max_length=8, description="ISO 639-1 code to use instead of detection"
    )


@router.post("/analyze", response_model=reply_model(analysis_pb2.AnalyzeResponse.DESCRIPTOR))
async def analyze(
    body: AnalyzeIn,
    principal: Annotated[Principal, requires(Permission.ANALYZE)],
    analysis: AnalysisService,
    settings: Settings,
) -> dict[str, Any]:
    """Detected language with candidates, VADER sentiment (English-only), YAKE keywords (lower score
    is more relevant), readability scores, and named entities with character offsets (Unicode code
    points, end exclusive); entities only for English text, see ``entities_supported``."""
    check_size(settings, [body.text])
    reply = await analysis.call(
        analysis.stub.Analyze,
        analysis_pb2.AnalyzeRequest(text=body.text, language=body.language or ""),
    )
    return as_dict(reply)
