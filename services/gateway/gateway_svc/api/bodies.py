"""What routers share about request bodies and replies: the text field every text endpoint
takes, the gateway's limits on texts in one request, and the proto3 JSON form of a reply."""

from __future__ import annotations

from typing import Annotated, Any

from google.protobuf import json_format
from google.protobuf.message import Message
from pydantic import AfterValidator

from clipsift_common.errors import ResourceExhausted

from ..settings import GatewaySettings


def _encodable(value: str) -> str:
    # JSON can escape a lone surrogate ("\ud800"); no UTF-8 string, so no gRPC message, can carry it.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"not valid Unicode text: lone surrogate at position {exc.start}") from None
    return value


Text = Annotated[str, AfterValidator(_encodable)]


def as_dict(message: Message) -> dict[str, Any]:
    """The reply as proto3 JSON with the proto's field names and every field present."""
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def check_size(settings: GatewaySettings, texts: list[str]) -> None:
    """413 for more documents, or a longer text, than one synchronous request may carry."""
    if len(texts) > settings.max_request_documents:
        raise ResourceExhausted(
            f"{len(texts)} documents in one request; the limit is {settings.max_request_documents} "
            "(submit a corpus job with POST /v1/jobs instead)"
        )
    for text in texts:
        if len(text) > settings.max_request_text_chars:
            raise ResourceExhausted(
                f"a text has {len(text)} characters; the limit is {settings.max_request_text_chars}"
            )
