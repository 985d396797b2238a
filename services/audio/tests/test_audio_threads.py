"""Worker threads seen from the event loop: items pass through as produced, errors surface,
and a cancelled or early-stopped caller returns only once its thread has finished."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from audio_svc.threads import iterate_in_thread, run_in_thread


async def test_yields_every_item_in_order() -> None:
    assert [item async for item in iterate_in_thread(iter(range(50)))] == list(range(50))


async def test_each_item_arrives_while_the_producer_is_still_working() -> None:
    go_on = threading.Event()

    def produce() -> Iterator[str]:
        yield "first"
        # Blocks until the consumer has seen "first": only possible if it was handed over at once.
        if not go_on.wait(timeout=10):
            raise TimeoutError("the first item was not delivered while the producer ran")
        yield "second"

    received = []
    async for item in iterate_in_thread(produce()):
        received.append(item)
        go_on.set()
    assert received == ["first", "second"]


async def test_the_event_loop_keeps_running_while_the_producer_blocks() -> None:
    def produce() -> Iterator[int]:
        time.sleep(0.5)  # stands in for decoding one segment
        yield 1

    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    assert [item async for item in iterate_in_thread(produce())] == [1]
    ticker.cancel()
    assert ticks >= 20


async def test_an_error_in_the_producer_reaches_the_consumer_after_earlier_items() -> None:
    def produce() -> Iterator[int]:
        yield 1
        raise ValueError("decoder failed")

    received = []

    async def consume() -> None:
        async for item in iterate_in_thread(produce()):
            received.append(item)

    with pytest.raises(ValueError, match="decoder failed"):
        await consume()
    assert received == [1]


async def test_stopping_early_waits_for_the_producer_to_stop() -> None:
    produced: list[int] = []

    def produce() -> Iterator[int]:
        for i in range(1000):
            time.sleep(0.01)
            produced.append(i)
            yield i

    stream = iterate_in_thread(produce())
    async for item in stream:
        assert item == 0
        break
    await stream.aclose()
    # aclose returned only once the worker thread had stopped, well before the 1000 items.
    stopped_at = len(produced)
    assert stopped_at < 10
    await asyncio.sleep(0.1)
    assert len(produced) == stopped_at


async def test_run_in_thread_returns_the_result_and_raises_the_error() -> None:
    assert await run_in_thread(sum, [1, 2, 3]) == 6
    with pytest.raises(ZeroDivisionError):
        await run_in_thread(lambda: 1 / 0)


async def test_a_cancelled_caller_waits_for_its_thread() -> None:
    started, finished = threading.Event(), threading.Event()

    def work() -> None:
        started.set()
        time.sleep(0.3)
        finished.set()

    task = asyncio.create_task(run_in_thread(work))
    assert await asyncio.to_thread(started.wait, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The cancellation got through only after the thread was done: a semaphore held around
    # the call was not released while the work still ran.
    assert finished.is_set()
