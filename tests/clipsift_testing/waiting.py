"""Waiting on eventually-true conditions of real servers: polls with a deadline that fail the test
with what was awaited, never a bare sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import httpx
import pytest
from nats.js.errors import NotFoundError

from clipsift_common.events import EventBus


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 15.0, what: str = "") -> None:
    """Poll ``check`` until it holds; fail with ``what`` when it does not within ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within}s waiting for {what or check}")
        await asyncio.sleep(0.05)


async def wait_for_consumers(
    bus: EventBus, durables: list[str], within: float = 10.0, tasks: Sequence[asyncio.Task[None]] = ()
) -> None:
    """Every durable consumer exists, as in a platform that is up (events published before a
    consumer exists are still delivered, but a test's timing would otherwise include its start).
    A task of ``tasks`` (the loops creating them) that died fails the wait with its own error."""
    deadline = time.monotonic() + within
    for durable in durables:
        while True:
            try:
                await bus.js.consumer_info(bus.stream, durable)
                break
            except NotFoundError:
                for task in tasks:
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        raise AssertionError(f"{task.get_name()} died while starting") from task.exception()
                if time.monotonic() > deadline:
                    pytest.fail(f"consumer {durable} was never created")
                await asyncio.sleep(0.01)


async def wait_job(
    client: httpx.AsyncClient, job_id: str, headers: Mapping[str, str], within: float = 30.0
) -> dict[str, Any]:
    """Poll ``GET /v1/jobs/{id}`` until the job is completed or failed; return its final view."""
    deadline = time.monotonic() + within
    while True:
        response = await client.get(f"/v1/jobs/{job_id}", headers=dict(headers))
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["status"] in ("completed", "failed"):
            return job
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} still {job['status']} after {within}s: {job}")
        await asyncio.sleep(0.05)
