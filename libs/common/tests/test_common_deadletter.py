"""The dead-letter stream against the real NATS server: created once however many loops start at once."""

from __future__ import annotations

import asyncio

import pytest

from clipsift_common.deadletter import dead_letter_stream, ensure_dead_letter_stream
from clipsift_common.events import EventBus

pytestmark = pytest.mark.integration


async def test_loops_starting_together_all_find_the_dead_letter_stream(bus: EventBus, nats_url: str) -> None:
    # One connection per loop, as the workers, ingester and projector of several pods have.
    buses = [
        await EventBus.connect(nats_url, name=f"loop-{i}", stream=bus.stream, max_age_seconds=3600)
        for i in range(12)
    ]
    # Just deleted, as between two tests or after an operator removed it.
    await ensure_dead_letter_stream(bus)
    await bus.js.delete_stream(dead_letter_stream(bus.stream))
    try:
        results = await asyncio.gather(*(ensure_dead_letter_stream(b) for b in buses), return_exceptions=True)
    finally:
        for each in buses:
            await each.close()
    assert [r for r in results if r is not None] == []
    info = await bus.js.stream_info(dead_letter_stream(bus.stream))
    assert info.config.subjects == ["dlq.>"]
