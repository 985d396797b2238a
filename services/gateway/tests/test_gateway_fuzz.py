"""A schema fuzzer (schemathesis) over the live /openapi.json: every operation, authenticated, with
the examples, coverage (boundary values and odd bytes: NUL, control characters, huge numbers) and
fuzzing phases; no answer may be a server error, and every answer must match its documented schema
and media type.

The platform fixture runs no vision or training service (their own tests run the gateway in front
of them), so the routes in front of those may answer 502/503 here once their parameters pass the
gateway's checks; any other server error fails the test.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import schemathesis
from schemathesis.core.failures import ServerError
from schemathesis.engine import Status, events, from_schema

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Enough to reach every branch of the schemas' constraints while the run stays under a few minutes
# on two cores; the seed and deterministic generation make every run send the same requests.
MAX_EXAMPLES = 25
SEED = 20261207
# Operations answered by services the platform fixture does not run.
UNSERVED_PREFIXES = ("/v1/images/", "/v1/models")
# The uploads are opaque bytes to the fuzzer, as to a client.
for media_type in ("application/zip", "application/jsonl", "text/csv", "video/*"):
    schemathesis.serializer.alias(media_type, "application/octet-stream")


def _expected(label: str, failure: Any) -> bool:
    """A down dependency's 502/503 on a route in front of a service this fixture lacks."""
    path = label.split(" ", 1)[1]
    return (
        isinstance(failure, ServerError)
        and failure.status_code in (502, 503)
        and path.startswith(UNSERVED_PREFIXES)
    )


def _config(headers: dict[str, str]) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "workers": 1,
            "headers": headers,
            "request-timeout": 30,
            # Valid and invalid data alike, NUL bytes included: invalid input must be a 4xx.
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                "allow-x00": True,
            },
            # Stateful links are not described; the other phases cover every operation.
            "phases": {"stateful": {"enabled": False}},
            "checks": {
                "enabled": False,
                "not_a_server_error": {"enabled": True},
                "response_schema_conformance": {"enabled": True},
                "content_type_conformance": {"enabled": True},
            },
        }
    )


def _fuzz(url: str, headers: dict[str, str]) -> tuple[list[str], int]:
    """Run the fuzzer (blocking: requests from this thread); the failures found and cases sent."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=_config(headers))
    failures: list[str] = []
    sent = 0
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            sent += len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                for check in checks:
                    info = check.failure_info
                    failed = check.status == Status.FAILURE and info is not None
                    if failed and info is not None and not _expected(event.label or "", info.failure):
                        failures.append(f"{event.label}: {info.failure}\n{info.code_sample}")
        elif isinstance(event, events.NonFatalError | events.FatalError):
            failures.append(f"{getattr(event, 'label', '')}: {event}")
    return failures, sent


async def test_fuzzing_the_openapi_schema_finds_no_server_error(platform: Any, live_url: str) -> None:
    start = time.monotonic()
    failures, sent = await asyncio.to_thread(_fuzz, f"http://{live_url}", platform.auth("acme"))
    print(f"{sent} cases in {time.monotonic() - start:.0f}s")
    assert not failures, "\n\n".join(failures)
