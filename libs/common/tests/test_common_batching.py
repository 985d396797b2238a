"""MicroBatcher: batching of concurrent items, the wait bound, per-batch errors, cancellation, shutdown."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from prometheus_client import REGISTRY

from clipsift_common.batching import MicroBatcher
from clipsift_common.errors import Unavailable


class Squares:
    """A batch function that records each batch and the thread it ran on."""

    def __init__(self, delay: float = 0.0) -> None:
        self.batches: list[list[int]] = []
        self.threads: set[int] = set()
        self.delay = delay

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        self.threads.add(threading.get_ident())
        if any(item < 0 for item in items):
            raise ValueError("negative item")
        time.sleep(self.delay)
        return [item * item for item in items]


def _sample(name: str, batcher: str) -> float:
    value = REGISTRY.get_sample_value(name, {"batcher": batcher})
    return 0.0 if value is None else value


async def test_concurrent_items_share_batches_of_at_most_max_batch() -> None:
    fn = Squares()
    before = _sample("clipsift_batch_size_count", "t-share")
    async with MicroBatcher(fn, max_batch=8, max_wait_ms=200, name="t-share") as batcher:
        results = await asyncio.gather(*(batcher.submit(i) for i in range(20)))
    assert results == [i * i for i in range(20)]
    assert [len(batch) for batch in fn.batches] == [8, 8, 4]
    assert [item for batch in fn.batches for item in batch] == list(range(20))
    # The batch function runs off the event loop's thread.
    assert threading.get_ident() not in fn.threads
    assert _sample("clipsift_batch_size_count", "t-share") - before == 3
    assert _sample("clipsift_batch_queue_depth", "t-share") == 0


async def test_a_lone_item_waits_at_most_max_wait() -> None:
    fn = Squares()
    async with MicroBatcher(fn, max_batch=64, max_wait_ms=30, name="t-wait") as batcher:
        start = time.perf_counter()
        assert await batcher.submit(7) == 49
        elapsed = time.perf_counter() - start
    assert fn.batches == [[7]]
    assert 0.025 <= elapsed < 1.0


async def test_items_arriving_while_a_batch_runs_form_the_next_batch() -> None:
    fn = Squares(delay=0.1)
    async with MicroBatcher(fn, max_batch=16, max_wait_ms=0, name="t-queue") as batcher:
        first = asyncio.create_task(batcher.submit(1))
        await asyncio.sleep(0.03)  # the first batch is running now
        rest = await asyncio.gather(*(batcher.submit(i) for i in range(2, 7)))
        assert await first == 1
    assert rest == [4, 9, 16, 25, 36]
    assert fn.batches == [[1], [2, 3, 4, 5, 6]]


async def test_an_exception_fails_its_own_batch_only() -> None:
    fn = Squares()
    async with MicroBatcher(fn, max_batch=2, max_wait_ms=100, name="t-error") as batcher:
        outcomes = await asyncio.gather(*(batcher.submit(i) for i in (1, -1, 2, 3)), return_exceptions=True)
    assert isinstance(outcomes[0], ValueError)
    assert isinstance(outcomes[1], ValueError)
    assert outcomes[2:] == [4, 9]


async def test_a_wrong_number_of_results_fails_the_batch() -> None:
    async with MicroBatcher(lambda items: items[:1], max_batch=4, max_wait_ms=50, name="t-count") as batcher:
        outcomes = await asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True)
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)
    assert "returned 1 results for 2 items" in str(outcomes[0])


async def test_a_cancelled_caller_is_left_out_of_its_batch() -> None:
    fn = Squares()
    async with MicroBatcher(fn, max_batch=8, max_wait_ms=100, name="t-cancel") as batcher:
        gone = asyncio.create_task(batcher.submit(5))
        kept = asyncio.create_task(batcher.submit(6))
        await asyncio.sleep(0.01)
        gone.cancel()
        assert await kept == 36
    assert fn.batches == [[6]]
    with pytest.raises(asyncio.CancelledError):
        await gone


async def test_close_finishes_submitted_items_then_refuses_new_ones() -> None:
    fn = Squares(delay=0.05)
    batcher = MicroBatcher(fn, max_batch=2, max_wait_ms=0, name="t-close")
    pending = [asyncio.create_task(batcher.submit(i)) for i in range(5)]
    await asyncio.sleep(0)  # let every submit queue its item
    await batcher.close()
    assert [task.result() for task in pending] == [0, 1, 4, 9, 16]
    with pytest.raises(Unavailable, match="shut down"):
        await batcher.submit(1)
    await batcher.close()  # a second close is harmless


async def test_invalid_limits_are_rejected() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        MicroBatcher(Squares(), max_batch=0, max_wait_ms=1, name="t-bad")
    with pytest.raises(ValueError, match="max_wait_ms"):
        MicroBatcher(Squares(), max_batch=1, max_wait_ms=-1, name="t-bad")


async def test_submit_many_queues_items_together_and_returns_them_in_order() -> None:
    fn = Squares()
    async with MicroBatcher(fn, max_batch=4, max_wait_ms=100, name="t-many") as batcher:
        results, single = await asyncio.gather(batcher.submit_many(list(range(10))), batcher.submit(20))
    assert results == [i * i for i in range(10)]
    assert single == 400
    # Queued behind each other: full batches, no wait for the last one's company.
    assert fn.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 20]]


async def test_submit_many_fails_with_its_batch_and_drops_its_unrun_items() -> None:
    fn = Squares(delay=0.05)
    async with MicroBatcher(fn, max_batch=2, max_wait_ms=0, name="t-many-error") as batcher:
        with pytest.raises(ValueError, match="negative"):
            await batcher.submit_many([1, -1, 2, 3, 4, 5])
        assert await batcher.submit_many([]) == []
    # The failing batch ran; at most the batch already running after it did, not every item.
    assert fn.batches[0] == [1, -1]
    assert len(fn.batches) <= 2
    with pytest.raises(Unavailable, match="shut down"):
        await batcher.submit_many([1])
