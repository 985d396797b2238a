"""Constraints shared by query and path parameters. They are declared in the OpenAPI schema, so
clients and fuzzers see them, and a value that breaks one is a 422 naming the parameter instead of
a 5xx from a service further down (PostgreSQL refuses NUL in text, protobuf refuses a uint32 over
its range)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator

# No C0 control character (NUL included) and no DEL: none belongs in a name, a kind or a language.
PLAIN_PATTERN = r"^[^\x00-\x1f\x7f]*$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Versions are uint32 on the wire and int4 in the registry.
MAX_VERSION = 2**31 - 1
# Clip and keyframe numbers: an index into a result, never near this.
MAX_INDEX = 2**31 - 1


def _plain(value: str | None) -> str | None:
    if value is not None and (found := _CONTROL.search(value)):
        raise ValueError(
            f"must not contain control characters: {found.group()!r} at position {found.start()}"
        )
    return value


def plain_schema() -> dict[str, str]:
    """The JSON-schema side of ``Plain`` for ``Query``/``Path``'s ``json_schema_extra``."""
    return {"pattern": PLAIN_PATTERN}


# Use as ``Annotated[Plain, Query(..., json_schema_extra=plain_schema())]``.
Plain = Annotated[str, AfterValidator(_plain)]
OptionalPlain = Annotated[str | None, AfterValidator(_plain)]

JobId = Annotated[
    str,
    AfterValidator(_plain),
    Path(
        max_length=64,
        description="The job's id, a UUID (any spelling Python's uuid.UUID reads)",
        json_schema_extra=plain_schema(),
    ),
]


def canonical_job_id(job_id: str) -> str:
    """The stored spelling (lowercase, hyphenated) of a job id already found in the job store:
    blob keys and URLs use it, whatever spelling the caller sent."""
    return str(uuid.UUID(job_id))


def has_control_characters(value: str) -> bool:
    return _CONTROL.search(value) is not None
