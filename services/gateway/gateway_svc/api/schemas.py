"""What /openapi.json says about bodies that FastAPI cannot see by itself: replies validated
against their models, the common error body, alternative media types (CSV, HTML, files) and the
request bodies that routes stream themselves (uploads, or JSON beside an upload)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from .proto_models import Reply


class ReplyRouter(APIRouter):
    """Routes whose replies keep exactly the keys the handler returned: a field absent from a
    proto3 rendering (an unset message) stays absent instead of turning into null."""

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        kwargs["response_model_exclude_unset"] = True
        super().add_api_route(path, endpoint, **kwargs)


class ErrorBody(BaseModel):
    """Every 4xx and 5xx but 422 (validation errors list each problem)."""

    detail: str = Field(description="What is wrong, for a person to read")


# Declared on every API route (app.include_router), so clients and fuzzers know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "The request is invalid (the detail says why)",
        401: "No valid API key",
        403: "The key may not do this",
        404: "Not found (another tenant's resource too)",
        409: "The resource is not in a state that allows this",
        413: "The body is over a size limit",
        429: "A rate limit or quota is reached (see Retry-After)",
        502: "A service behind the gateway failed",
        503: "A service behind the gateway is unavailable (see Retry-After)",
    }.items()
}


class JobView(Reply):
    """A job as the API shows it; options and summary differ by kind."""

    id: str = Field(description="UUID")
    kind: str
    status: Literal["queued", "running", "completed", "failed"]
    progress: float = Field(ge=0, le=1)
    step: str
    message: str
    options: dict[str, Any] = Field(description="What the job was submitted with")
    summary: dict[str, Any] = Field(description="Counts from the result, once there is one")
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    updated_at: str = Field(json_schema_extra={"format": "date-time"})
    result_url: str | None = Field(description="Where the result is, once the job has completed")


_STRING = {"schema": {"type": "string"}}
_BINARY = {"schema": {"type": "string", "format": "binary"}}


def alternatives(*media_types: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entry: the route also answers ``media_types`` (text or files) on ``status``."""
    content = {media: _STRING if media.startswith("text/") else _BINARY for media in media_types}
    return {status: {"content": content}}


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its ``$defs`` inlined: an ``openapi_extra`` body schema cannot
    point at definitions FastAPI never adds to the document's components."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(copy.deepcopy(definitions[ref.removeprefix("#/$defs/")]))
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def request_body(
    description: str, *, json: type[BaseModel] | None = None, binary: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``openapi_extra=`` for a route that reads its body itself: a JSON body of ``json``'s shape
    and/or raw uploads of the ``binary`` media types."""
    content: dict[str, Any] = {}
    if json is not None:
        content["application/json"] = {"schema": inline_schema(json)}
    for media in binary:
        content[media] = _BINARY
    return {"requestBody": {"required": True, "description": description, "content": content}}


class ServerPathIn(BaseModel):
    """A video the video service may read, instead of an upload."""

    path: str = Field(pattern=r"^/", description="Absolute path on the server, e.g. /media/talk.mp4")


class ServerPathsIn(BaseModel):
    """Videos the video service may read, instead of a zip upload."""

    paths: list[str] = Field(min_length=2, description="Absolute paths on the server (2 or more distinct)")
